"""``kefu import hotline`` on the one import pipeline: odd rows, XLSX, dry runs, E.164 callers."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from sqlalchemy import select

from kefu.app import App
from kefu.cli.main import cli
from kefu.db.engine import transaction
from kefu.db.models import InboundItem

HEADER = "工单号,来电号码,来电时间,类别,地址,户号,内容,话务员\n"
GOOD = "96123-001,139 0000 0031,2026-11-02 08:10:00,跑冒滴漏,幸福小区3-2-501,H1001,卫生间暖气管漏水,王\n"


def _invoke(app: App, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), obj={"app": app}, catch_exceptions=False)
    return result.exit_code, result.stdout


def _senders(app: App) -> list[str | None]:
    with transaction(app.sessions) as session:
        return [i.sender for i in session.scalars(select(InboundItem).order_by(InboundItem.id))]


def test_an_empty_row_with_an_extra_comma_and_wrong_widths_lose_nothing_else(
    heat_app: Callable[..., App], tmp_path: Path
) -> None:
    app = heat_app(config={"channels": {"hotline": {"enabled": True}}})
    path = tmp_path / "96123.csv"
    path.write_text(
        HEADER
        + GOOD
        + ",,,,,,,,\n"  # line 3: empty, one comma too many
        + "96123-002,13900001111,2026-11-02 08:20,供热不热,,,不热\n"  # line 4: a field short
        + "96123-003,13900002222,2026-11-02 08:30,咨询,,,问,王,多出来\n"  # line 5: one too many
        + "96123-004,13900003333,2026-11-02 08:40,咨询,,,问一下,李\n",
        encoding="gb18030",
    )
    code, out = _invoke(app, "import", "hotline", str(path), "--json")
    assert code == 2
    [report] = json.loads(out)
    assert (report["read"], report["created"], report["bad"]) == (4, 2, 2)
    assert [(e["line"], "fields where the header has 8" in e["error"]) for e in report["errors"]] == [
        (4, True),
        (5, True),
    ]
    assert _senders(app) == ["+8613900000031", "+8613900003333"]


def test_hotline_export_as_xlsx_with_a_title_row_and_a_dry_run(heat_app: Callable[..., App], tmp_path: Path) -> None:
    app = heat_app(config={"channels": {"hotline": {"enabled": True}}})
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["96123 热线工单导出 2026-11-02"])
    ws.merge_cells("A1:H1")
    ws.append(HEADER.strip().split(","))
    ws.append(["96123-001", 13900000031, "2026-11-02 08:10:00", "跑冒滴漏", "", "", "漏水", "王"])
    ws.append(["96123-002", "12345", "2026-11-02 08:20:00", "咨询", "", "", "问", "李"])
    buf = io.BytesIO()
    book.save(buf)
    path = tmp_path / "96123.xlsx"
    path.write_bytes(buf.getvalue())
    code, out = _invoke(app, "import", "hotline", str(path), "--dry-run")
    assert code == 2 and "dry run, nothing written" in out and "would be created: '96123-001'" in out
    assert _senders(app) == []
    result = CliRunner().invoke(cli, ["import", "hotline", str(path)], obj={"app": app})
    assert result.exit_code == 2
    assert f"{path}[Sheet]:4: caller: '12345' is not a possible phone number" in result.output
    assert _senders(app) == ["+8613900000031"]


def test_hotline_log_stores_the_caller_in_e164_and_refuses_an_impossible_one(heat_app: Callable[..., App]) -> None:
    app = heat_app()
    code, _out = _invoke(
        app,
        "hotline",
        "log",
        "--caller",
        "86-139-0000-0031",
        "--category",
        "跑冒滴漏",
        "--text",
        "楼道暖气管冒汽",
        "--json",
    )
    assert code == 0 and _senders(app) == ["+8613900000031"]
    result = CliRunner().invoke(cli, ["hotline", "log", "--caller", "1390000", "--text", "x"], obj={"app": app})
    assert result.exit_code == 1 and "caller: '1390000' is not a possible phone number" in result.output
    assert _senders(app) == ["+8613900000031"]
