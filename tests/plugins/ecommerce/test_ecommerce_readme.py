"""The README's rule table names only tests that exist, and every test module appears in it."""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parents[2] / "plugins" / "ecommerce" / "README.md"


def test_every_test_the_rule_table_names_exists() -> None:
    text = README.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "test_" in line]
    assert len(rows) >= 15
    defined = {(p.name, m) for p in HERE.glob("test_*.py") for m in re.findall(r"^def (test_\w+)", p.read_text(), re.M)}
    for row in rows:
        module = None
        for ref in re.findall(r"`([^`]*test_\w+)`", row.split("|")[-2]):
            if "::" in ref:
                head, name = ref.split("::")
                module = head or module
            else:
                module, name = ref, None
            assert module and (HERE / module).exists(), ref
            if name:
                assert (module, name) in defined, ref


def test_every_test_module_appears_in_the_rule_table() -> None:
    text = README.read_text(encoding="utf-8")
    for path in HERE.glob("test_*.py"):
        if path.name != "test_ecommerce_readme.py":
            assert path.name in text, path.name
