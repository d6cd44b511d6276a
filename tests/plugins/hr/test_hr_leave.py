"""请假: requests by CLI and SMS, the manager's approval, sick-leave notice and the certificate on return."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kefu.app import App
from kefu.db.models import Case
from kefu.http.server import HttpServer
from kefu.plugins.hr import jobs, leave, sheet
from kefu.plugins.hr.models import DayResult, Leave
from kefu.testing.twilio_api import incoming_sms

from .conftest import DEDUCT, DEMO, at, cli, in_tx, outbox

TWILIO = "twilio-secret-token"


def _register(app: App) -> None:
    assert cli(app, "import", "employees", str(DEMO / "employees.csv")).exit_code == 0


@pytest.fixture
def app(hr_app: Callable[..., App], clock: Any) -> App:
    built = hr_app()
    clock.set(at("2026-09-01 07:00"))
    _register(built)
    return built


def _leave(app: App, employee: str) -> Leave:
    with app.sessions() as s:
        return s.scalars(select(Leave).where(Leave.employee == employee).order_by(Leave.id.desc())).first()


def test_leave_is_approved_by_the_manager_and_a_manager_by_the_superior(app: App) -> None:
    assert cli(app, "leave", "request", "E05", "事假", "2026-09-03").exit_code == 0
    row = _leave(app, "E05")
    assert row.approver == "E01"
    (sms,) = outbox(app, template="hr/leave_request.txt", channel="sms")
    assert sms.recipient == "+8613900000001" and "HL-" in sms.body  # E01's phone, with the case number
    refused = cli(app, "leave", "approve", str(row.id), "--by", "E02")
    assert refused.exit_code != 0 and "E01" in refused.output
    assert cli(app, "leave", "approve", str(row.id), "--by", "E01").exit_code == 0
    assert _leave(app, "E05").state == "approved"
    # the department's manager asks: approved by the sheet's approver, the superior
    assert cli(app, "leave", "request", "E01", "annual", "2026-09-07").exit_code == 0
    assert _leave(app, "E01").approver == "boss"


def test_sick_leave_phoned_later_than_15_minutes_after_start_is_flagged(app: App, clock: Any) -> None:
    for emp, phoned in (("E05", "2026-09-02T08:45"), ("E06", "2026-09-02T08:46")):
        assert cli(app, "leave", "request", emp, "病假", "2026-09-02", "--phoned-at", phoned).exit_code == 0
        assert cli(app, "leave", "approve", str(_leave(app, emp).id), "--by", "E01").exit_code == 0
    clock.set(at("2026-09-02 20:00"))
    assert cli(app, "compute", "2026-09").exit_code == 0
    with app.sessions() as s:
        rules = {
            r.employee: [x["rule"] for x in r.lines]
            for r in s.scalars(select(DayResult).where(DayResult.employee.in_(["E05", "E06"])))
        }
    assert rules == {"E05": ["leave"], "E06": ["leave", "notice_late"]}


def test_missing_certificate_is_reminded_to_the_employee_then_escalated_to_the_manager(app: App, clock: Any) -> None:
    assert (
        cli(
            app, "leave", "request", "E17", "病假", "2026-09-09", "2026-09-10", "--phoned-at", "2026-09-09T08:40"
        ).exit_code
        == 0
    )
    row = _leave(app, "E17")
    assert cli(app, "leave", "approve", str(row.id), "--by", "E01").exit_code == 0
    assert str(_leave(app, "E17").certificate_due) == "2026-09-11"  # the first working day back
    for day in ("2026-09-10", "2026-09-11", "2026-09-12", "2026-09-14"):
        clock.set(at(f"{day} 17:00"))
        in_tx(app, jobs.certificates, clock.now())
    (reminder,) = outbox(app, template="hr/certificate_reminder.txt", channel="sms")
    assert reminder.recipient == "+8613900000017" and reminder.created_at == at("2026-09-11 17:00")
    escalations = outbox(app, template="hr/certificate_escalation.txt")
    assert {m.recipient for m in escalations} == {"+8613900000001", "e01@cs.test"}  # E01, the manager
    assert {m.created_at for m in escalations} == {at("2026-09-14 17:00")}  # the next working day, not Saturday


def test_certificate_handed_in_stops_the_reminder(app: App, clock: Any) -> None:
    assert cli(app, "leave", "request", "E17", "sick", "2026-09-09").exit_code == 0
    row = _leave(app, "E17")
    assert cli(app, "leave", "approve", str(row.id), "--by", "E01").exit_code == 0
    assert cli(app, "leave", "certificate", str(row.id)).exit_code == 0
    clock.set(at("2026-09-14 17:00"))
    in_tx(app, jobs.certificates, clock.now())
    assert outbox(app, template="hr/certificate_reminder.txt") == []


def test_statutory_leave_tables_are_config(app: App) -> None:
    statutory = in_tx(app, lambda ctx: ctx.config.leave.statutory)
    assert [statutory.annual_days(y) for y in (0, 1, 9, 10, 19, 20, 30)] == [0, 5, 5, 10, 10, 15, 15]
    assert statutory.maternity_days() == 98 and statutory.maternity_days(dystocia=True, babies=2) == 128
    assert statutory.provinces["广东"].maternity_extra == 80


@pytest.fixture
def served(hr_app: Callable[..., App], clock: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[App, str]]:
    monkeypatch.setenv("KEFU_TWILIO_TOKEN", TWILIO)
    app = hr_app(
        config={
            "twilio": {"enabled": True, "account_sid": "AC" + "0" * 32, "auth_token_secret": "twilio_token"},
            "channels": {"sms": {"enabled": True}},
        }
    )
    clock.set(at("2026-09-09 08:35"))
    _register(app)
    server = HttpServer(app)
    server.start()
    yield app, f"http://127.0.0.1:{server.port}"
    server.stop()


def test_sms_leave_request_is_claimed_by_keyword_and_filed_for_the_manager(
    served: tuple[App, str], run_pass: Any
) -> None:
    app, base = served
    assert incoming_sms(base, TWILIO, "SM1", "+8613900000017", "请假 病假 9月9日 发烧") == 200
    run_pass(app)
    row = _leave(app, "E17")
    assert (row.kind, str(row.start), row.via, row.approver) == ("sick", "2026-09-09", "sms", "E01")
    assert row.phoned_at is not None  # an SMS on the day counts as the phone call (08:35, before start)
    with app.sessions() as s:
        case = s.scalars(select(Case).where(Case.kind == "hr.leave")).one()
    assert case.data["leave_id"] == row.id
    assert [m.recipient for m in outbox(app, template="hr/leave_request.txt", channel="sms")] == ["+8613900000001"]


def test_keyword_score_is_higher_with_a_leave_type_named(app: App) -> None:
    from kefu.intake.message import InboundMessage
    from kefu.plugins.hr import hooks

    def msg(text: str) -> InboundMessage:
        return InboundMessage(
            item_id=1, channel="sms", kind="sms", received_at=at("2026-09-01 08:00"), sender="+1", subject="", text=text
        )

    ctx = app.context("hr")
    assert hooks.kefu_classify(msg("你好"), ctx) is None
    assert hooks.kefu_classify(msg("请假 明天"), ctx).score < hooks.kefu_classify(msg("请假 事假 9月3日"), ctx).score
    assert leave.parse_dates("请假 事假 9月3日-9月4日", at("2026-09-01 08:00").date()) is not None


def test_annual_leave_beyond_the_years_entitlement_is_refused(app: App) -> None:
    # E05 started 2015-03-01: 11 years of work in 2026 → 10 working days of 年休假
    assert (
        cli(app, "leave", "request", "E05", "annual", "2026-09-28", "2026-10-09").exit_code == 0
    )  # 国庆 not counted: 5 days
    assert cli(app, "leave", "request", "E05", "年休假", "2026-11-02", "2026-11-06").exit_code == 0  # 5 more: 10
    refused = cli(app, "leave", "request", "E05", "annual", "2026-11-09")
    assert refused.exit_code != 0 and "10 days" in refused.output
    assert cli(app, "leave", "request", "E05", "marriage", "2026-12-01", "2026-12-03").exit_code == 0  # national: 3
    assert cli(app, "leave", "request", "E05", "marriage", "2026-12-04").exit_code != 0


def _day(app: App, employee: str, day: str) -> tuple[str, str, list[str]]:
    with app.sessions() as s:
        row = s.scalars(
            select(DayResult).where(DayResult.employee == employee, DayResult.day == date.fromisoformat(day))
        ).one()
        return row.status, str(row.absent), [line["label"] for line in row.lines]


def test_half_day_leave_expects_the_other_half_and_deducts_half_a_days_pay(
    hr_app: Callable[..., App], clock: Any, tmp_path: Path
) -> None:
    app = hr_app(hr=DEDUCT)
    clock.set(at("2026-09-01 07:00"))
    _register(app)
    for args in (
        ("E19", "事假", "2026-09-15", "--half", "上午"),
        ("E19", "personal", "2026-09-16", "--half", "am"),
        ("E17", "病假", "2026-09-09", "--half", "下午", "--phoned-at", "2026-09-09T13:40"),
        ("E20", "事假", "2026-09-17", "--half", "am"),
    ):
        result = cli(app, "leave", "request", *args)
        assert result.exit_code == 0, result.output
    for leave_id in in_tx(app, lambda ctx: [x.id for x in ctx.db().scalars(select(Leave))]):
        assert cli(app, "leave", "approve", str(leave_id), "--by", "E01").exit_code == 0
    punches = tmp_path / "punches.csv"
    punches.write_text(
        "工号,打卡时间,类型\n"
        "E19,2026-09-15 13:28,上班\nE19,2026-09-15 17:31,下班\n"  # morning off: the afternoon as usual
        "E19,2026-09-16 13:50,上班\nE19,2026-09-16 17:31,下班\n"  # the afternoon still counts lateness
        "E17,2026-09-09 08:25,上班\n",  # afternoon off: no afternoon sign-in, no sign-out expected
        encoding="utf-8",
    )
    assert cli(app, "import", "punches", str(punches)).exit_code == 0
    clock.set(at("2026-09-17 20:00"))
    assert cli(app, "compute", "2026-09").exit_code == 0
    assert _day(app, "E19", "2026-09-15") == ("work", "0.0", ["事假（上午）"])
    assert _day(app, "E19", "2026-09-16") == ("work", "0.0", ["事假（上午）", "下午迟到20分钟"])
    assert _day(app, "E17", "2026-09-09") == ("work", "0.0", ["病假（下午）"])  # phoned 10 min after 13:30
    # a morning's leave still expects the afternoon's sign-in: none is half a day's absence
    assert _day(app, "E20", "2026-09-17") == ("absent", "0.5", ["事假（上午）", "旷工半天：下午无签到、无请假"])
    rows = in_tx(app, lambda ctx: {r["employee"]: r for r in sheet.build(ctx, "2026-09").rows})
    # 事假 half a day's pay each: 4000 / 21.75 / 2 = 91.95, twice; the two halves are one day of 事假
    assert rows["E19"]["leave_deductions"] == "183.90" and rows["E19"]["leave"] == {"事假": 1}
    assert [x["amount"] for x in rows["E19"]["lines"] if x["rule"] == "leave"] == ["91.95", "91.95"]
    assert rows["E20"]["leave"] == {"事假": 0.5} and rows["E20"]["leave_deductions"] == "91.95"
    listed = cli(app, "leave", "list", "--json")
    assert '"half": "am"' in listed.output and '"half": "pm"' in listed.output


def test_annual_leave_balance_counts_half_days_and_only_half_day_kinds_take_them(app: App) -> None:
    # E05: 10 working days of 年休假 in 2026 (11 years of work)
    assert cli(app, "leave", "request", "E05", "annual", "2026-11-02", "2026-11-13").exit_code == 0  # 10 days
    refused = cli(app, "leave", "request", "E05", "annual", "2026-11-16", "--half", "pm")
    assert refused.exit_code != 0 and "0.5 days exceed the 10 days" in refused.output and "(10 used)" in refused.output
    assert cli(app, "leave", "request", "E06", "annual", "2026-11-02", "2026-11-12").exit_code == 0  # 9 days
    assert cli(app, "leave", "request", "E06", "年休假", "2026-11-13", "--half", "上午").exit_code == 0  # 9.5
    assert cli(app, "leave", "request", "E06", "annual", "2026-11-16", "--half", "pm").exit_code == 0  # 10
    refused = cli(app, "leave", "request", "E06", "annual", "2026-11-17", "--half", "am")
    assert refused.exit_code != 0 and "(10 used)" in refused.output
    whole = cli(app, "leave", "request", "E07", "公假", "2026-11-02", "--half", "am")
    assert whole.exit_code != 0 and "whole days" in whole.output
    two = cli(app, "leave", "request", "E07", "事假", "2026-11-02", "2026-11-03", "--half", "am")
    assert two.exit_code != 0 and "one day" in two.output


def test_sms_leave_request_for_an_afternoon_is_a_half_day(served: tuple[App, str], run_pass: Any) -> None:
    app, base = served
    assert incoming_sms(base, TWILIO, "SM2", "+8613900000019", "请假 事假 9月15日 下午 办事") == 200
    run_pass(app)
    row = _leave(app, "E19")
    assert (row.kind, str(row.start), str(row.end), row.half, row.via) == (
        "personal",
        "2026-09-15",
        "2026-09-15",
        "pm",
        "sms",
    )
