"""The README's rule table names only tests that exist, and every test module appears in it."""

from __future__ import annotations

from pathlib import Path

from kefu.testing.rule_tables import check_rule_table

HERE = Path(__file__).resolve().parent
README = HERE.parents[2] / "plugins" / "ecommerce" / "README.md"


def test_the_rule_table_and_the_tests_name_each_other() -> None:
    check_rule_table(README, HERE, min_rows=15, unlisted={"test_ecommerce_readme.py"})
