"""Checking a plugin README's rule table against the plugin's tests.

Every row of a plugin's rule table names the tests that prove it (docs/plugins.md,
"The README rule table"): ``test_x.py::test_y``, or ``::test_z`` for another test of
the module named just before, or a whole module. A renamed or deleted test must not
leave the table pointing at nothing, and a new test module must say which rule it
proves, so a plugin's test suite asserts both with :func:`check_rule_table`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

_REF = re.compile(r"`([^`\s]*test_\w+(?:\.py)?)`")
_TEST = re.compile(r"^(?:async )?def (test_\w+)", re.M)


def rule_rows(readme: Path) -> list[str]:
    """The table rows of ``readme`` that name a test."""
    text = readme.read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.startswith("| ") and "test_" in line]


def named_tests(row: str) -> list[tuple[str, str | None]]:
    """The (module, test or None) pairs a row's last column names, ``::name`` resolved.

    A module is a file name in the plugin's test folder, or a path from the repository
    root (``tests/plugins/heating/test_shared_inbox.py``) for a test another plugin holds.
    """
    found: list[tuple[str, str | None]] = []
    module: str | None = None
    for ref in _REF.findall(row.split("|")[-2]):
        if "::" in ref:
            head, name = ref.split("::", 1)
            module = head or module
            if module is None:
                raise AssertionError(f"{ref!r} names a test before any module")
            found.append((module, name))
        else:
            module = ref
            found.append((module, None))
    return found


def check_rule_table(readme: Path, tests: Path, *, min_rows: int, unlisted: Iterable[str] = ()) -> None:
    """Assert every test ``readme``'s table names exists in ``tests``, and every module there is named.

    ``min_rows`` guards against a table the parser stopped reading (a changed layout);
    ``unlisted`` are modules that prove no rule (the check of the table itself).
    """
    rows = rule_rows(readme)
    assert len(rows) >= min_rows, f"{readme}: {len(rows)} rule rows naming tests, expected at least {min_rows}"
    defined: dict[Path, set[str]] = {}
    named: set[str] = set()
    for row in rows:
        for module, name in named_tests(row):
            path = _module_path(module, tests)
            assert path is not None, f"{readme.name} names {module}, which is not in {tests}"
            if path.parent == tests:
                named.add(path.name)
            if name is not None:
                if path not in defined:
                    defined[path] = set(_TEST.findall(path.read_text("utf-8")))
                assert name in defined[path], f"{readme.name} names {module}::{name}, which does not exist"
    modules = {p.name for p in tests.glob("test_*.py")} - set(unlisted)
    missing = sorted(modules - named)
    assert not missing, f"{readme.name}'s rule table names no test of {missing}"


def _module_path(module: str, tests: Path) -> Path | None:
    """A module named by file name (in ``tests``) or by its path from the repository root."""
    if "/" not in module:
        found = tests / module
        return found if found.exists() else None
    for root in tests.parents:
        if (root / module).exists():
            return root / module
    return None
