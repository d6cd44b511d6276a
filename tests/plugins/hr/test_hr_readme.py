"""The README's rule table names only tests that exist, and every test module appears in it."""

from __future__ import annotations

from pathlib import Path

from kefu.testing.rule_tables import check_rule_table

HERE = Path(__file__).resolve().parent
README = HERE.parents[2] / "plugins" / "hr" / "README.md"


def test_the_rule_table_and_the_tests_name_each_other() -> None:
    check_rule_table(README, HERE, min_rows=18, unlisted={"test_hr_readme.py"})


def test_readme_says_which_figures_are_the_seeds_and_that_it_is_not_legal_advice() -> None:
    text = README.read_text(encoding="utf-8")
    assert "Not legal advice" in text and "(seed)" in text and "default" in text
