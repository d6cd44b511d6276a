"""Heating's imports on the one pipeline: XLSX with a title row, --dry-run, --json, E.164 phones."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from sqlalchemy import select

from kefu.db.models import Customer
from kefu.plugins.heating.cli import heating

from .conftest import HOUSEHOLD_HEADER


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "住户"
    ws.append(["长白一号换热站 住户台账"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HOUSEHOLD_HEADER))
    ws.append(HOUSEHOLD_HEADER)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    book.save(buf)
    path.write_bytes(buf.getvalue())
    return path


def test_households_from_xlsx_dry_run_then_for_real(heating_app, tmp_path: Path) -> None:
    app = heating_app()
    path = _xlsx(
        tmp_path / "hh.xlsx",
        [
            ["CB-0001", "住户1", 13900000001, "1号楼1室", 1, "S01", "B1", 85.5, "已缴"],
            ["CB-0002", "住户2", "0431-8888 6666", "9号楼2室", 9, "S01", "B1", 90, "未缴"],
            ["CB-0003", "住户3", "1390000", "9号楼3室", 9, "S01", "B1", 90, "未缴"],
        ],
    )

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(heating, ["import", "households", str(path), *args], obj={"app": app})
        return result.exit_code, result.stdout

    code, out = run("--dry-run", "--json")
    [report] = json.loads(out)
    assert code == 2 and report["dry_run"] and (report["created"], report["bad"]) == (2, 1)
    assert report["errors"] == [
        {
            "line": 5,
            "sheet": "住户",
            "column": "phone (电话)",
            "error": "phone (电话): '1390000' is not a possible phone number in CN or abroad",
        }
    ]
    assert [c["key"] for c in report["changes"]] == ["'CB-0001'", "'CB-0002'"]
    with app.sessions() as s:
        assert s.scalars(select(Customer)).all() == []
    code, out = run()
    assert code == 2 and "2 created" in out
    with app.sessions() as s:
        phones = {ref: phone for ref, phone in s.execute(select(Customer.ref, Customer.phone))}
    assert phones == {"CB-0001": "+8613900000001", "CB-0002": "+8643188886666"}
    code, out = run()
    assert "0 created, 0 updated, 2 unchanged, 1 bad" in out
