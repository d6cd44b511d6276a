"""Issue 4 point 7 (hotline: command line, CSV import) and ``kefu inbound list --quarantined``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kefu.app import App
from kefu.cli.main import cli
from kefu.db.engine import transaction
from kefu.db.models import Case, InboundRaw
from kefu.intake.runner import run_intake
from kefu.testing.mail import deliver_to_maildir

HEADER = "工单号,来电号码,来电时间,类别,地址,户号,内容,话务员\n"
ROWS = [
    "96123-001,13812345678,2026-11-02 08:10:00,跑冒滴漏,幸福小区3-2-501,H1001,卫生间暖气管漏水,王\n",
    "96123-002,13900001111,2026/11/02 08:20,供热不热,阳光花园1-1-101,H2002,家里暖气不热,李\n",
    "96123-003,,2026-11-02 08:30:00,咨询,,,没有号码,王\n",
    "96123-004,13900002222,昨天上午,咨询,,,时间写错了,王\n",
]


def _invoke(app: App, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), obj={"app": app}, catch_exceptions=False)
    return result.exit_code, result.stdout


def _cases(app: App) -> list[Case]:
    with transaction(app.sessions) as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_import_reports_bad_rows_by_line_and_is_idempotent(
    heat_app: Callable[..., App], tmp_path: Path, encoding: str
) -> None:
    app = heat_app(config={"channels": {"hotline": {"enabled": True}}})
    path = tmp_path / "96123.csv"
    path.write_bytes((HEADER + "".join(ROWS)).encode(encoding))
    code, out = _invoke(app, "import", "hotline", str(path), "--json")
    assert code == 2  # some rows were bad
    [summary] = json.loads(out)
    assert (summary["new"], summary["bad"]) == (2, 2)
    assert [e["line"] for e in summary["errors"]] == [4, 5]
    assert "caller" in summary["errors"][0]["error"] and "昨天上午" in summary["errors"][1]["error"]
    assert [(c.kind, c.data["address"]) for c in _cases(app)] == [
        ("heat.leak", "幸福小区3-2-501"),
        ("heat.general", "阳光花园1-1-101"),
    ]
    code, out = _invoke(app, "import", "hotline", str(path), "--json")
    assert json.loads(out)[0]["new"] == 0 and len(_cases(app)) == 2


def test_csv_with_unmapped_columns_names_them(heat_app: Callable[..., App], tmp_path: Path) -> None:
    app = heat_app()
    path = tmp_path / "x.csv"
    path.write_text("phone,when,what\n1,2,3\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "hotline", str(path)], obj={"app": app})
    assert result.exit_code == 1 and "来电号码" in result.output and "[channels.hotline.columns]" in result.output


def test_hotline_log_opens_a_case_at_once(heat_app: Callable[..., App]) -> None:
    app = heat_app()
    code, out = _invoke(
        app,
        "hotline",
        "log",
        "--caller",
        "13812345678",
        "--category",
        "跑冒滴漏",
        "--text",
        "楼道暖气管冒汽",
        "--address",
        "幸福小区3号楼",
        "--json",
    )
    assert code == 0, out
    [result] = json.loads(out)
    assert (result["case"], result["kind"]) == ("HT-2026-000001", "heat.leak")


def test_inbound_list_quarantined_shows_the_reason(heat_app: Callable[..., App], maildir: Path) -> None:
    app = heat_app()
    deliver_to_maildir(maildir, b"garbage without headers")
    run_intake(app)
    _code, out = _invoke(app, "inbound", "list", "--quarantined", "--json")
    [row] = json.loads(out)
    assert row["status"] == "quarantined" and "no mail headers" in row["reason"]
    _code, out = _invoke(app, "inbound", "list", "--quarantined")
    assert "no mail headers" in out
    with transaction(app.sessions) as session:
        assert session.scalar(select(InboundRaw.raw)) == b"garbage without headers"
