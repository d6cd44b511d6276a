"""隐患: rectification within 24 h, re-check, escalation; a major hazard to the general manager at once."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from kefu.db.models import Case
from kefu.plugins.market.cli import market

from .conftest import outbox

POINTS = {"patrols": {"points": {"3F": "三楼消防通道", "3F-B": "三楼配电间"}}}


def _run(app, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(market, list(args), obj={"app": app}, catch_exceptions=False)
    return result.exit_code, result.output


def _hazard(app, number: str) -> Case:
    with app.sessions() as s:
        case = s.scalars(select(Case).where(Case.number == number)).one()
        case.events  # noqa: B018
        s.expunge_all()
        return case


def test_hazard_is_rectified_within_24h_rechecked_and_resolved(market_app, clock, run_pass) -> None:
    app = market_app(market=POINTS)
    code, out = _run(app, "hazard", "report", "3F", "消防通道堆货", "--by", "guard")
    number = out.split(":")[0]
    assert code == 0 and _hazard(app, number).step == "整改" and _hazard(app, number).owner == "sec"
    assert {m.recipient for m in outbox(app, audience="staff")} == {
        "+8613800000112",
        "sec@market.test",
    }
    assert _run(app, "hazard", "fixed", number, "--by", "f3")[0] == 0
    assert _hazard(app, number).step == "复查"
    assert _run(app, "hazard", "recheck", number, "--by", "sec", "--failed")[0] == 0
    assert _hazard(app, number).step == "整改"
    _run(app, "hazard", "fixed", number, "--by", "f3")
    _run(app, "hazard", "recheck", number, "--by", "sec")
    assert _hazard(app, number).state == "resolved"
    clock.advance(hours=25)
    run_pass(app)
    assert "deadline_breached" not in [e.type for e in _hazard(app, number).events]


def test_hazard_not_fixed_in_24h_escalates_to_security_then_the_market_manager(market_app, clock, run_pass) -> None:
    app = market_app(market=POINTS)
    number = _run(app, "hazard", "report", "3F", "灭火器过期", "--by", "guard")[1].split(":")[0]
    run_pass(app)
    clock.advance(hours=24, minutes=1)
    run_pass(app)
    assert "deadline_breached" in [e.type for e in _hazard(app, number).events]
    clock.advance(hours=2)
    run_pass(app)
    clock.advance(hours=2)
    run_pass(app)
    assert "mm@market.test" in {m.recipient for m in outbox(app, audience="staff") if "/step:" in m.idem_key}


def test_major_hazard_goes_to_the_general_manager_at_once(market_app) -> None:
    app = market_app(market=POINTS)
    number = _run(app, "hazard", "report", "3F-B", "电线短路冒烟", "--by", "guard")[1].split(":")[0]
    case = _hazard(app, number)
    assert case.urgent and case.data["major"] is True
    gm = [m for m in outbox(app, audience="staff") if m.recipient in ("+8613800000111", "gm@market.test")]
    assert len(gm) == 2 and all(m.urgent for m in gm)
    minor = _run(app, "hazard", "report", "3F", "地面有纸箱", "--by", "guard")[1].split(":")[0]
    assert not _hazard(app, minor).urgent
    assert len([m for m in outbox(app, audience="staff") if "gm@" in m.recipient]) == 1
