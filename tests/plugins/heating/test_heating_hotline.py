"""Leaks and complaints through the hooks: classify, acknowledge, dispatch, escalate, call back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from kefu.db.models import Case, CaseEvent, Customer
from kefu.intake.message import InboundMessage
from kefu.plugins.heating import customer_cases, imports
from kefu.plugins.heating.models import Callback
from kefu.sla.cases import find_case, open_case, resolve
from kefu.testing.files import write_csv

from .conftest import HOUSEHOLD_HEADER, household_rows, in_tx, outbox


def _msg(text: str, channel: str = "sms", kind: str = "sms") -> InboundMessage:
    from datetime import UTC, datetime

    return InboundMessage(
        item_id=1,
        channel=channel,
        kind=kind,
        received_at=datetime.now(UTC),
        sender="+8613900000001",
        subject="",
        text=text,
    )


def _setup(heating_app, tmp_path: Path):
    app = heating_app()
    in_tx(app, imports.import_households, write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows()))
    return app


def _open(app, kind: str, account: str = "CB-0001", title: str = "暖气漏水") -> str:
    def go(ctx):
        cust = ctx.db().scalars(select(Customer).where(Customer.ref == account)).one()
        return open_case(ctx, kind=kind, title=title, customer=cust).number

    return in_tx(app, go)


def test_classify_leak_is_urgent_and_general_is_not(heating_app) -> None:
    app = heating_app()
    ctx = app.context("heating")
    leak = app.host.call_one("kefu_classify", "heating", item=_msg("户号：CB-0001 暖气管跑水了"), ctx=ctx)
    assert leak.kind == "heating.leak" and leak.urgent and leak.customer_ref == "CB-0001"
    general = app.host.call_one("kefu_classify", "heating", item=_msg("暖气不热"), ctx=ctx)
    assert general.kind == "heating.general" and not general.urgent
    assert app.host.call_one("kefu_classify", "heating", item=_msg("你好"), ctx=ctx) is None


def test_a_household_stating_a_room_temperature_below_18_gets_a_low_temperature_case(heating_app) -> None:
    app = heating_app()
    ctx = app.context("heating")
    low = app.host.call_one("kefu_classify", "heating", item=_msg("家里室温只有15度"), ctx=ctx)
    assert low.kind == "heating.low_temp" and not low.urgent
    warm = app.host.call_one("kefu_classify", "heating", item=_msg("暖气不热，室温19度"), ctx=ctx)
    assert warm.kind == "heating.general"


def test_leak_is_acknowledged_by_urgent_sms_with_case_number_and_dispatched_on_duty(heating_app, tmp_path) -> None:
    app = _setup(heating_app, tmp_path)
    number = _open(app, "heating.leak")
    acks = outbox(app, audience="customer")
    assert len(acks) == 1
    assert acks[0].channel == "sms" and acks[0].urgent and acks[0].recipient == "+8613900000001"
    assert acks[0].template == "heating/ack.txt" and acks[0].data["context"]["case_number"] == number
    staff = {(m.recipient, m.channel) for m in outbox(app, audience="staff")}
    # 09:00: the day shift (zhang) of station S01 is on duty.
    assert staff == {("+8613800000001", "sms"), ("zhang@heat.test", "email")}
    with app.sessions() as s:
        case = find_case(s, number)
        assert case.owner == "zhang" and case.unit == "S01" and case.state == "assigned"


def test_general_complaint_ack_respects_quiet_hours(heating_app, tmp_path) -> None:
    app = _setup(heating_app, tmp_path)
    _open(app, "heating.general", title="暖气不热")
    (ack,) = outbox(app, audience="customer")
    assert not ack.urgent


def test_night_leak_goes_to_the_night_shift(heating_app, tmp_path, clock) -> None:
    app = _setup(heating_app, tmp_path)
    clock.advance(hours=13)  # 22:00
    number = _open(app, "heating.leak")
    with app.sessions() as s:
        assert find_case(s, number).owner == "li"


def test_leak_escalates_at_4h_station_then_branch_then_cs_head(heating_app, tmp_path, clock, run_pass) -> None:
    app = _setup(heating_app, tmp_path)
    number = _open(app, "heating.leak")
    run_pass(app)
    clock.advance(hours=3, minutes=59)
    run_pass(app)
    before = {m.recipient for m in outbox(app, audience="staff")}
    assert "zhao@heat.test" not in before
    clock.advance(minutes=1)  # 4 h: breach → level 1, the station on duty
    run_pass(app)
    clock.advance(hours=1)  # [sla] repeat_every → branch head
    run_pass(app)
    clock.advance(hours=1)  # → CS-centre head
    run_pass(app)
    staff = [m.recipient for m in outbox(app, audience="staff") if "/resolution/" in m.idem_key]
    assert "zhao@heat.test" in staff and "liu@heat.test" in staff
    assert staff.index("zhao@heat.test") < staff.index("liu@heat.test")
    with app.sessions() as s:
        case = find_case(s, number)
        types = [e.type for e in case.events]
    assert "deadline_breached" in types and "escalated" in types


def test_leak_of_an_unknown_household_escalates_straight_to_the_cs_centre_head(heating_app, clock, run_pass) -> None:
    app = heating_app()
    number = in_tx(app, lambda ctx: open_case(ctx, kind="heating.leak", title="楼道暖气管漏水").number)
    run_pass(app)
    clock.advance(hours=4)  # breach: level 1 of a chain without a station is the CS-centre head
    run_pass(app)
    breach = [m for m in outbox(app, audience="staff") if f"{number}/resolution/1/L1/" in m.idem_key]
    assert breach and {m.recipient for m in breach} == {"liu@heat.test", "+8613800000006"}
    with app.sessions() as s:
        events = [e for e in find_case(s, number).events if e.type == "deadline_breached"]
    assert [r["who"] for r in events[0].data["reached"]] == ["liu", "liu"]


def test_general_complaint_does_not_breach_before_24h(heating_app, tmp_path, clock, run_pass) -> None:
    app = _setup(heating_app, tmp_path)
    number = _open(app, "heating.general", title="暖气不热")
    clock.advance(hours=23, minutes=59)
    run_pass(app)
    with app.sessions() as s:
        assert "deadline_breached" not in [e.type for e in find_case(s, number).events]
    clock.advance(minutes=1)
    run_pass(app)
    with app.sessions() as s:
        assert "deadline_breached" in [e.type for e in find_case(s, number).events]


def _resolve(app, number: str) -> None:
    in_tx(app, lambda ctx: resolve(ctx, find_case(ctx.db(), number), actor="zhang"))


def test_resolution_sends_callback_sms_and_waits_in_callback(heating_app, tmp_path) -> None:
    app = _setup(heating_app, tmp_path)
    number = _open(app, "heating.leak")
    _resolve(app, number)
    cbs = [m for m in outbox(app, audience="customer") if m.template == "heating/callback.txt"]
    assert len(cbs) == 1 and cbs[0].data["context"]["case_number"] == number
    with app.sessions() as s:
        assert find_case(s, number).state == "callback"


def _answer(app, number: str, text: str):
    return in_tx(app, lambda ctx: customer_cases.answer_callback(ctx, find_case(ctx.db(), number), text))


def test_satisfied_answer_closes(heating_app, tmp_path) -> None:
    app = _setup(heating_app, tmp_path)
    number = _open(app, "heating.leak")
    _resolve(app, number)
    assert _answer(app, number, "1") is True
    with app.sessions() as s:
        case = find_case(s, number)
        assert case.state == "closed" and case.satisfaction == 5


def test_unsatisfied_answer_reopens_and_calls_back_again(heating_app, tmp_path) -> None:
    app = _setup(heating_app, tmp_path)
    number = _open(app, "heating.leak")
    _resolve(app, number)
    assert _answer(app, number, "不满意") is False
    with app.sessions() as s:
        case = find_case(s, number)
        assert case.state in ("assigned", "new") and case.resolved_at is None
    assert any("/reopen" in m.idem_key for m in outbox(app, audience="staff"))
    _resolve(app, number)
    assert len([m for m in outbox(app, audience="customer") if m.template == "heating/callback.txt"]) == 2
    assert _answer(app, number, "满意") is True


def test_no_answer_in_48h_puts_the_case_on_the_phone_list(heating_app, tmp_path, clock, run_pass) -> None:
    app = _setup(heating_app, tmp_path)
    number = _open(app, "heating.leak")
    _resolve(app, number)
    clock.advance(hours=47)
    run_pass(app)
    assert in_tx(app, lambda ctx: [c.number for c, _ in customer_cases.phone_list(ctx)]) == []
    clock.advance(hours=1)
    run_pass(app)
    assert in_tx(app, lambda ctx: [c.number for c, _ in customer_cases.phone_list(ctx)]) == [number]
    # the staff member's phone call is recorded with the same parser
    assert _answer(app, number, "满意") is True
    with app.sessions() as s:
        assert s.scalars(select(Callback.state)).one() == "satisfied"


def test_callback_wait_comes_from_config(heating_app, tmp_path, clock, run_pass) -> None:
    app = heating_app(heating={"deadlines": {"callback_wait": "2h"}})
    in_tx(app, imports.import_households, write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows()))
    number = _open(app, "heating.leak")
    _resolve(app, number)
    clock.advance(hours=2)
    run_pass(app)
    assert in_tx(app, lambda ctx: [c.number for c, _ in customer_cases.phone_list(ctx)]) == [number]


def test_sla_events_recorded(heating_app, tmp_path) -> None:
    app = _setup(heating_app, tmp_path)
    number = _open(app, "heating.leak")
    with app.sessions() as s:
        case = find_case(s, number)
        assert s.scalars(select(CaseEvent.type).where(CaseEvent.case_id == case.id)).all()[:2] == ["opened", "assigned"]
    assert timedelta(hours=4)
    assert Case
