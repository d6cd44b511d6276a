"""The demo month through the real path: the register and a month of DingTalk punches imported with
`kefu hr import`, leave filed and approved with `kefu hr leave`, 代签 recorded, `kefu hr compute`;
then every hand-computed case of plugins/hr/demo/make_demo.py is asserted line by line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from kefu.app import App
from kefu.db.models import Case
from kefu.plugins.hr.models import DayResult, Leave, Punch

from .conftest import DEMO, at, cli, outbox


def d(day: str) -> date:
    return date.fromisoformat(f"2026-09-{day}")


# (employee, day) → (status, [(rule, label, amount or None)]): computed by hand from the seed's rules.
EXPECTED: dict[tuple[str, date], tuple[str, list[tuple[str, str, str | None]]]] = {
    ("E03", d("01")): ("work", []),
    ("E04", d("01")): ("work", [("late", "上午迟到5分钟", "10")]),
    ("E05", d("02")): ("work", [("late", "上午迟到14分钟", "10")]),
    ("E06", d("02")): ("work", [("late", "上午迟到15分钟", "30")]),
    ("E07", d("03")): ("work", [("late", "上午迟到59分钟", "30")]),
    ("E08", d("03")): ("work", [("late", "上午迟到61分钟", "30")]),
    ("E09", d("04")): ("work", [("late", "上午迟到120分钟", "30")]),
    ("E10", d("04")): ("absent", [("absence", "上午迟到121分钟，超过120分钟按旷工处理", None)]),
    ("E11", d("07")): ("work", [("early", "早退20分钟", "30")]),
    ("E12", d("07")): ("work", [("missing", "缺卡：下午未签到", None)]),
    ("E13", d("08")): ("absent", [("absence", "旷工：无签到、无请假", None)]),
    ("E14", d("20")): ("absent", [("absence", "旷工：无签到、无请假", None)]),  # 调休 make-up Sunday
    ("E15", d("20")): ("work", []),  # worked the make-up Sunday normally
    ("E15", d("19")): ("off", []),  # the Saturday before it is off
    ("E02", d("25")): ("off", []),  # 中秋 holiday: punches ignored
    ("E16", d("25")): ("off", []),  # 中秋 holiday: no punches, not absent
    ("E17", d("09")): ("leave", [("leave", "病假", None)]),
    ("E17", d("10")): ("leave", [("leave", "病假", None)]),
    ("E18", d("14")): ("leave", [("leave", "病假", None), ("notice_late", "病假未在上班后15分钟内电话报告", None)]),
    ("E19", d("15")): ("leave", [("leave", "事假", None)]),
    ("E20", d("16")): ("leave", [("leave", "公假", None)]),
    ("E21", d("17")): ("leave", [("leave", "出差", None)]),
    ("E22", d("21")): ("absent", [("absence", "旷工：无签到、无请假（事假申请未批准）", None)]),
    ("E23", d("22")): ("work", [("proxy", "代签：由客服24代为签到", "10")]),
    ("E24", d("22")): ("work", [("proxy", "代签：替客服23签到", "10")]),
    ("E25", d("22")): ("work", [("late", "下午迟到20分钟", "30")]),
    ("E26", d("22")): ("work", [("late", "上午迟到20分钟", "30")]),  # vendor: 严重迟到
    ("E26", d("23")): ("work", [("late", "上午迟到6分钟", "10")]),  # vendor: 正常
    ("E27", d("23")): ("work", [("missing", "缺卡：下班未签退", None)]),
    ("E28", d("20")): ("absent", [("absence", "旷工：无签到、无请假", None)]),
    ("E28", d("21")): ("work", []),
    ("E29", d("24")): ("absent", [("absence", "早退130分钟，超过120分钟按旷工处理", None)]),
    ("E30", d("24")): ("work", [("late", "上午迟到15分钟", "30"), ("early", "早退30分钟", "30")]),
}


def load_month(app: App, clock: Any) -> None:
    """The month as HR would run it: register, leave, 代签, punches, compute."""
    clock.set(at("2026-09-01 07:00"))
    assert cli(app, "import", "employees", str(DEMO / "employees.csv")).exit_code == 0
    for args in (
        ("E17", "病假", "2026-09-09", "2026-09-10", "--phoned-at", "2026-09-09T08:40"),
        ("E18", "sick", "2026-09-14", "--phoned-at", "2026-09-14T08:50"),
        ("E19", "事假", "2026-09-15"),
        ("E20", "公假", "2026-09-16"),
        ("E21", "出差", "2026-09-17", "2026-09-18"),
        ("E22", "事假", "2026-09-21"),
    ):
        result = cli(app, "leave", "request", *args)
        assert result.exit_code == 0, result.output
    with app.sessions() as s:
        ids = {x.employee: x.id for x in s.scalars(select(Leave))}
    for emp in ("E17", "E18", "E19", "E20", "E21"):  # E22's is never approved
        assert cli(app, "leave", "approve", str(ids[emp]), "--by", "E01").exit_code == 0
    for day in ("2026-09-22", "2026-09-23", "2026-09-24"):
        assert cli(app, "proxy", day, "E23", "E24").exit_code == 0
    result = cli(app, "import", "punches", str(DEMO / "punches-2026-09.csv"))
    assert result.exit_code == 0, result.output
    clock.set(at("2026-09-30 20:00"))
    assert "person-days computed" in cli(app, "compute", "2026-09").output


@pytest.fixture
def month(hr_app: Callable[..., App], clock: Any) -> App:
    app = hr_app()
    load_month(app, clock)
    return app


def _lines(row: DayResult) -> list[tuple[str, str, str | None]]:
    return [(x["rule"], x["label"], x.get("amount") if x["rule"] != "leave" else None) for x in row.lines]


def test_a_month_of_dingtalk_punches_gives_the_hand_computed_lines(month: App) -> None:
    with month.sessions() as s:
        days = {(r.employee, r.day): r for r in s.scalars(select(DayResult))}
    assert len(EXPECTED) >= 20
    for key, (status, lines) in EXPECTED.items():
        row = days[key]
        assert (row.status, _lines(row)) == (status, lines), key
    # the 61-minute band is the department's default, not the seed's; the others are the seed's
    assert days[("E08", d("03"))].lines[0]["seed"] is False and days[("E07", d("03"))].lines[0]["seed"] is True
    # nobody else has an exception line: 40 people x 30 days, only the fixture's cases
    special = {k for k in days if days[k].lines}
    e28 = {("E28", x) for x in (1, 2, 3, 4, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 20)}
    e28 = {(e, date(2026, 9, x)) for e, x in e28}
    flagged = {k for k, (_s, lines) in EXPECTED.items() if lines} | e28 | {("E17", d("10")), ("E21", d("18"))}
    flagged |= {("E23", d("23")), ("E23", d("24")), ("E24", d("23")), ("E24", d("24"))}
    assert special == flagged
    assert len(days) == 40 * 30


def test_raw_punches_are_kept_as_they_came_and_a_reimport_adds_nothing(month: App) -> None:
    with month.sessions() as s:
        before = s.scalar(select(Punch.id).order_by(Punch.id.desc()).limit(1))
        vendor = s.scalars(select(Punch.vendor_result).where(Punch.number == "E26", Punch.slot == "上班1")).all()
    assert "严重迟到" in vendor  # kept, and not what the day result says (20 min, ¥30 band)
    result = cli(month, "import", "punches", str(DEMO / "punches-2026-09.csv"))
    assert result.exit_code == 0 and "0 created" in result.output, result.output
    with month.sessions() as s:
        assert s.scalar(select(Punch.id).order_by(Punch.id.desc()).limit(1)) == before


def test_15_consecutive_absent_days_open_an_hr_review_case_not_a_dismissal(month: App) -> None:
    with month.sessions() as s:
        cases = list(s.scalars(select(Case).where(Case.kind == "hr.absence_review")))
    assert [c.data["employee"] for c in cases] == ["E28"]
    (case,) = cases
    assert case.data["days"] == 15 and case.state not in ("closed", "resolved")
    note = case.data["note"]
    assert "不是除名" in note and "第三十九条" in note and "1982" in note and "废止" in note
    (mail,) = outbox(month, template="hr/absence_review.txt")
    assert mail.recipient == "hr@cs.test" and "不是除名" in mail.body and case.number in mail.subject
    # recomputing the month does not open a second case
    assert cli(month, "compute", "2026-09").exit_code == 0
    with month.sessions() as s:
        assert len(list(s.scalars(select(Case).where(Case.kind == "hr.absence_review")))) == 1


def test_30_absent_days_in_a_year_open_a_review_by_their_own_threshold(hr_app: Callable[..., App], clock: Any) -> None:
    app = hr_app(hr={"absence": {"review_consecutive": 16, "review_in_year": 15}})
    load_month(app, clock)
    with app.sessions() as s:
        cases = list(s.scalars(select(Case).where(Case.kind == "hr.absence_review")))
    assert [(c.data["employee"], c.data["reason"], c.data["days"]) for c in cases] == [("E28", "in_year", 15)]
    assert "不是除名" in cases[0].data["note"]
