"""The rule-table check fails on a table naming a missing test, and on a module no row names."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.testing.rule_tables import check_rule_table, named_tests

HEADER = "| rule | input | case | deadline | output | test |\n|---|---|---|---|---|---|\n"


def _plugin(tmp_path: Path, rows: str) -> tuple[Path, Path]:
    tests = tmp_path / "tests" / "plugins" / "parking"
    tests.mkdir(parents=True)
    (tests / "test_parking.py").write_text("def test_request_is_acked():\n    pass\n\n\ndef test_late():\n    pass\n")
    (tests / "test_parking_cli.py").write_text("async def test_cli():\n    pass\n")
    readme = tmp_path / "README.md"
    readme.write_text(HEADER + rows, encoding="utf-8")
    return readme, tests


def test_a_row_names_module_then_tests_of_it() -> None:
    row = "| r | i | c | d | o | `test_parking.py::test_a`, `::test_b`; `test_parking_cli.py` (the CLI) |"
    assert named_tests(row) == [
        ("test_parking.py", "test_a"),
        ("test_parking.py", "test_b"),
        ("test_parking_cli.py", None),
    ]


def test_a_complete_table_passes(tmp_path: Path) -> None:
    readme, tests = _plugin(
        tmp_path,
        "| r | i | c | d | o | `test_parking.py::test_request_is_acked`, `::test_late`; `test_parking_cli.py` |\n",
    )
    check_rule_table(readme, tests, min_rows=1)


def test_a_row_naming_a_test_that_is_gone_fails(tmp_path: Path) -> None:
    readme, tests = _plugin(
        tmp_path, "| r | i | c | d | o | `test_parking.py::test_renamed`, `test_parking_cli.py` |\n"
    )
    with pytest.raises(AssertionError, match="test_renamed"):
        check_rule_table(readme, tests, min_rows=1)


def test_a_module_no_row_names_fails(tmp_path: Path) -> None:
    readme, tests = _plugin(tmp_path, "| r | i | c | d | o | `test_parking.py::test_late` |\n")
    with pytest.raises(AssertionError, match=r"test_parking_cli\.py"):
        check_rule_table(readme, tests, min_rows=1)
    check_rule_table(readme, tests, min_rows=1, unlisted={"test_parking_cli.py"})


def test_a_table_the_parser_lost_fails(tmp_path: Path) -> None:
    readme, tests = _plugin(tmp_path, "")
    with pytest.raises(AssertionError, match="at least 1"):
        check_rule_table(readme, tests, min_rows=1)
