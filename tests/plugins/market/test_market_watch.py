"""Watch-list tenants: shops closed 3 days in a row, transfer/sublet/refit requests with a first review."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from kefu.db.models import Case
from kefu.plugins.market import watch
from kefu.plugins.market.cli import market
from kefu.testing.files import write_csv

from .conftest import SHOP_HEADER, in_tx, outbox, shop_rows

OPEN_HEADER = ["铺位号", "日期", "开门营业", "检查人"]


def _run(app, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(market, list(args), obj={"app": app}, catch_exceptions=False)
    return result.exit_code, result.output


def _shops(app, tmp_path: Path) -> None:
    assert _run(app, "import", "shops", str(write_csv(tmp_path / "s.csv", SHOP_HEADER, shop_rows(3))))[0] == 0


def test_shop_closed_3_days_in_a_row_alerts_the_manager_once(market_app, tmp_path: Path) -> None:
    app = market_app()
    _shops(app, tmp_path)
    rows = [["3F-001", f"2026-11-0{d}", "未开门", "A区主管"] for d in (3, 4, 5)]
    rows += [
        ["3F-002", "2026-11-03", "未开门", ""],
        ["3F-002", "2026-11-04", "开门", ""],
        ["3F-002", "2026-11-05", "未开门", ""],
        ["3F-003", "2026-11-05", "关门", ""],
        ["3F-009", "2026-11-05", "开门", ""],
        ["3F-003", "2026-11-04", "也许", ""],
    ]
    code, out = _run(app, "import", "opening", str(write_csv(tmp_path / "o.csv", OPEN_HEADER, rows)))
    assert code == 2 and ":9: shop" in out and ":10: opened" in out
    assert in_tx(app, watch.closed_streaks, date(2026, 11, 4)) == 0
    assert in_tx(app, watch.closed_streaks, date(2026, 11, 5)) == 1
    assert in_tx(app, watch.closed_streaks, date(2026, 11, 5)) == 0
    alerts = outbox(app, recipient="mm@market.test")
    assert len(alerts) == 1 and "3F-001" in alerts[0].body and "2026-11-03" in alerts[0].body


def test_transfer_request_alerts_the_manager_and_needs_the_first_review_before_a_decision(
    market_app, tmp_path: Path
) -> None:
    app = market_app()
    _shops(app, tmp_path)
    code, out = _run(app, "request", "open", "3F-002", "transfer", "--note", "拟转让给他人经营")
    number = out.split(":")[0]
    assert code == 0
    assert {m.recipient for m in outbox(app, audience="staff") if "/request/" in m.idem_key} == {
        "+8613800000110",
        "mm@market.test",
    }
    assert "f3@market.test" in {m.recipient for m in outbox(app, audience="staff") if "/review/" in m.idem_key}
    result = CliRunner().invoke(market, ["request", "decide", number, "--by", "mm", "--approve"], obj={"app": app})
    assert result.exit_code == 1 and "初审" in result.output
    assert _run(app, "request", "review", number, "--by", "f3")[0] == 0
    with app.sessions() as s:
        case = s.scalars(select(Case).where(Case.number == number)).one()
        assert (case.step, case.owner) == ("审批", "mm")
    assert _run(app, "request", "decide", number, "--by", "mm", "--refuse", "--note", "合同未到期")[0] == 0
    with app.sessions() as s:
        assert s.scalars(select(Case).where(Case.number == number)).one().state == "resolved"


def test_first_review_may_refuse_a_sublet_request(market_app, tmp_path: Path) -> None:
    app = market_app()
    _shops(app, tmp_path)
    number = _run(app, "request", "open", "3F-001", "sublet")[1].split(":")[0]
    assert _run(app, "request", "review", number, "--by", "f3", "--reject")[0] == 0
    with app.sessions() as s:
        case = s.scalars(select(Case).where(Case.number == number)).one()
        assert (case.step, case.state) == ("初审驳回", "resolved")
