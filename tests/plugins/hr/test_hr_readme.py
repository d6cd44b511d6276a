"""The README's rule table names only tests that exist, and every test module appears in it."""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parents[2] / "plugins" / "hr" / "README.md"


def test_every_test_the_rule_table_names_exists() -> None:
    text = README.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "test_" in line]
    assert len(rows) >= 18
    defined = {(p.name, m) for p in HERE.glob("test_*.py") for m in re.findall(r"^def (test_\w+)", p.read_text(), re.M)}
    named: set[str] = set()
    for row in rows:
        module = None
        for ref in re.findall(r"`([^`]*test_\w+)`", row.split("|")[-2]):
            if "::" in ref:
                head, name = ref.split("::")
                module = head or module
            else:
                module, name = ref, None
            assert module and (HERE / module).exists(), ref
            named.add(module)
            if name:
                assert (module, name) in defined, ref
    modules = {p.name for p in HERE.glob("test_*.py")} - {"test_hr_readme.py"}
    assert modules <= named, modules - named


def test_readme_says_which_figures_are_the_seeds_and_that_it_is_not_legal_advice() -> None:
    text = README.read_text(encoding="utf-8")
    assert "Not legal advice" in text and "(seed)" in text and "default" in text
