"""Events calendar and the 地毯式 fire inspection before every statutory holiday and major event."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kefu.db.models import Case
from kefu.plugins.market import plan
from kefu.plugins.market.cli import market
from kefu.plugins.market.models import MarketTask

from .conftest import in_tx, outbox

TZ = ZoneInfo("Asia/Shanghai")

# A State Council-style list for 2027, which chinese-calendar does not know yet.
YEAR_2027 = {
    "holidays": [
        "2027-01-01",
        *(f"2027-02-{d:02d}" for d in range(6, 13)),
        "2027-04-05",
        *(f"2027-05-{d:02d}" for d in range(1, 6)),
        "2027-06-09",
        "2027-09-15",
        *(f"2027-10-{d:02d}" for d in range(1, 8)),
    ],
    "workdays": ["2027-02-20", "2027-10-09"],
}
STARTS_2027 = [
    "2027-01-01",
    "2027-02-06",
    "2027-04-03",
    "2027-05-01",
    "2027-06-09",
    "2027-09-15",
    "2027-10-01",
]


@pytest.fixture
def app(market_app):
    return market_app(config={"calendar": {"years": {"2027": YEAR_2027}}})


def _walk(app, clock, first: date, last: date) -> None:
    day = first
    while day <= last:
        clock.set(datetime.fromisoformat(f"{day}T07:00:00+08:00"))
        in_tx(app, plan.plan_day, day)
        in_tx(app, plan.plan_day, day)  # a second run the same day opens nothing more
        day += timedelta(days=1)


def _tasks(app) -> dict[str, MarketTask]:
    with app.sessions() as s:
        rows = {t.key: t for t in s.scalars(select(MarketTask))}
        s.expunge_all()
        return rows


def test_holiday_blocks_of_2027_come_from_the_calendar_config(app) -> None:
    blocks = in_tx(app, lambda ctx: [(str(b.start), str(b.end)) for b in plan.holidays(ctx, 2027)])
    assert [s for s, _e in blocks] == STARTS_2027
    assert ("2027-02-06", "2027-02-12") in blocks and ("2027-04-03", "2027-04-05") in blocks


def test_inspection_task_appears_before_each_2027_statutory_holiday(app, clock) -> None:
    _walk(app, clock, date(2026, 12, 1), date(2027, 12, 31))
    tasks = _tasks(app)
    with app.sessions() as s:
        cases = {c.id: c for c in s.scalars(select(Case).where(Case.kind == "market.fire_inspection"))}
        s.expunge_all()
    for start in STARTS_2027:
        task = tasks[f"inspect/holiday/{start}"]
        case = cases[task.case_id]
        opened = case.opened_at.astimezone(TZ).date()
        assert opened == date.fromisoformat(start) - timedelta(days=3), start
        assert case.owner == "sec" and len(case.data["checklist"]) >= 5
    assert len([k for k in tasks if k.startswith("inspect/holiday/2027")]) == len(STARTS_2027)
    told = {m.recipient for m in outbox(app) if "/inspection/" in m.idem_key}
    assert {"sec@market.test", "f1@market.test", "f3@market.test"} <= told


def test_major_events_get_30_and_7_day_tasks_and_an_inspection_minor_ones_no_inspection(app, clock) -> None:
    _walk(app, clock, date(2027, 3, 1), date(2027, 5, 12))
    tasks = _tasks(app)
    assert tasks["event/bingxi/2027-05-10/30d"].created_at.astimezone(TZ).date() == date(2027, 4, 10)
    assert tasks["event/bingxi/2027-05-10/7d"].created_at.astimezone(TZ).date() == date(2027, 5, 3)
    assert "inspect/event/bingxi/2027-05-10" in tasks
    assert "event/sports/2027-04-15/30d" in tasks and "inspect/event/sports/2027-04-15" not in tasks
    floor_mail = [m for m in outbox(app, recipient="f3@market.test") if "/event/" in m.idem_key]
    assert (
        len(floor_mail) == len({m.idem_key for m in floor_mail}) == 5
    )  # sports, bingxi at 30 d and 7 d; xiaxiang (1 Jun) at 30 d


def test_event_dates_per_year_come_from_config(market_app, clock) -> None:
    app = market_app(
        market={"events": {"events": {"bingxi": {"name": "冰洗节", "month": 5, "dates": {"2027": "2027-05-20"}}}}}
    )
    _walk(app, clock, date(2027, 4, 15), date(2027, 4, 21))
    assert [k for k in _tasks(app) if k.startswith("event/")] == ["event/bingxi/2027-05-20/30d"]


def test_weekly_and_monthly_night_checks_and_fire_inspection_are_tasks_with_who_did_them(
    market_app, clock, run_pass
) -> None:
    app = market_app()
    _walk(app, clock, date(2026, 11, 3), date(2026, 11, 10))
    keys = sorted(k for k in _tasks(app) if k.startswith("check/"))
    assert keys == [
        "check/monthly_fire/2026-11",
        "check/monthly_night/2026-11",
        "check/weekly_night/2026-W45",
        "check/weekly_night/2026-W46",
    ]
    with app.sessions() as s:
        cases = {
            c.data["task"]: (c.number, c.owner) for c in s.scalars(select(Case).where(Case.kind == "market.check"))
        }
    fire, owner = cases["check/monthly_fire/2026-11"]
    assert owner == "sec"
    result = CliRunner().invoke(
        market, ["check-done", fire, "--by", "sec", "--note", "灭火器均在有效期"], obj={"app": app}
    )
    assert result.exit_code == 0, result.output
    with app.sessions() as s:
        case = s.scalars(select(Case).where(Case.number == fire)).one()
        assert case.state == "resolved" and [e.actor for e in case.events if e.type == "check_done"] == ["sec"]
    night, owner = cases["check/monthly_night/2026-11"]
    assert owner == "mm"
    clock.set(datetime.fromisoformat("2026-12-01T00:30:00+08:00"))
    run_pass(app)  # the market head's night check was not done in November: the security manager hears
    assert any(night in m.idem_key and m.recipient == "sec@market.test" for m in outbox(app, audience="staff"))
