"""Repairs, contractors, callbacks and complaints through make_app and the SLA engine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from kefu.app import App
from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.models import Case, CaseEvent, Customer, Deadline, OutboxMessage
from kefu.passes import PassResult
from kefu.plugins.complaints import actions
from kefu.plugins.complaints.imports import import_homes
from kefu.sla.cases import find_case, open_case, record_event

HOMES = (
    "项目编码,项目名称,楼栋,房号,业主姓名,手机,邮箱,交付日期\n"
    "JY,锦园,3,1201,张三,13800000001,zhang@example.com,2024-06-01\n"
)


def _owner(app: App) -> int:
    with transaction(app.sessions) as s:
        import_homes(s, HOMES.encode(), app.clock.now())
        return s.scalars(select(Customer.id).where(Customer.ref == "JY-3-1201")).one()


def _open_repair(app: App, text: str, kind: str = "complaints.repair.plumbing_leak") -> str:
    with transaction(app.sessions) as s:
        ctx = app.context("complaints", s)
        customer = s.get(Customer, _customer_id(s))
        case = open_case(ctx, kind=kind, title=text, customer=customer, data={"text": text}, actor="customer")
        return case.number


def _customer_id(s) -> int:
    return s.scalars(select(Customer.id).where(Customer.ref == "JY-3-1201")).one()


def _outbox(app: App, number: str | None = None) -> list[OutboxMessage]:
    with app.sessions() as s:
        rows = list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        if number:
            ids = {c.id for c in s.scalars(select(Case).where(Case.number.like(f"%{number[3:]}%")))}
            rows = [r for r in rows if r.case_id in ids or number in r.idem_key]
        return rows


def _act(app: App, fn: Callable[..., object], *args: object, **kwargs: object) -> object:
    with transaction(app.sessions) as s:
        return fn(app.context("complaints", s), *args, **kwargs)


def _case(app: App, number: str) -> Case:
    with app.sessions() as s:
        case = find_case(s, number)
        assert case is not None
        s.expunge(case)
        return case


def test_repair_report_ack_with_case_number_and_engineer_assigned(complaints_app: App) -> None:
    app = complaints_app
    _owner(app)
    number = _open_repair(app, "卫生间漏水")
    case = _case(app, number)
    assert case.unit == "JY" and case.owner == "eng" and case.step == "沟通联系" and case.urgent
    rows = _outbox(app)
    ack = [r for r in rows if r.template == "complaints/repair_ack.txt"]
    assert {r.channel for r in ack} == {"sms", "email"}
    assert all(number in r.body for r in ack)
    assert any(r.audience == "staff" and r.recipient == "eng@example.com" for r in rows)


def test_repair_steps_deadlines_visit_time_told_and_closure_per_class(complaints_app: App) -> None:
    app = complaints_app
    _owner(app)
    number = _open_repair(app, "卫生间漏水")
    with app.sessions() as s:
        case = find_case(s, number)
        names = {d.name: d for d in s.scalars(select(Deadline).where(Deadline.case_id == case.id))}
        assert names["resolution"].due_at - names["resolution"].started_at == timedelta(hours=48)
        assert "step:沟通联系" in names
    visit = datetime.fromisoformat("2026-11-03T10:00:00+08:00")
    assert _act(app, actions.advance_step, number, visit_at=visit) == "现场查看"
    with app.sessions() as s:
        case = find_case(s, number)
        open_names = {
            d.name for d in s.scalars(select(Deadline).where(Deadline.case_id == case.id, Deadline.state == "open"))
        }
    assert "step:现场查看" in open_names and "step:沟通联系" not in open_names
    visit_sms = [r for r in _outbox(app) if r.template == "complaints/repair_visit.txt" and r.channel == "sms"]
    assert len(visit_sms) == 1 and "11月03日 10:00" in visit_sms[0].body


def test_general_repair_closure_is_7_days(complaints_app: App) -> None:
    app = complaints_app
    _owner(app)
    number = _open_repair(app, "客厅墙面开裂", kind="complaints.repair")
    with app.sessions() as s:
        case = find_case(s, number)
        d = s.scalars(select(Deadline).where(Deadline.case_id == case.id, Deadline.name == "resolution")).one()
        assert d.due_at - d.started_at == timedelta(days=7)


def test_breach_escalates_engineer_then_manager_then_head(
    complaints_app: App, clock: FakeClock, run_pass: Callable[[App], PassResult]
) -> None:
    app = complaints_app
    _owner(app)
    number = _open_repair(app, "卫生间漏水")
    clock.advance(minutes=100)  # 75 % of 沟通联系's 2 working hours: the engineer is warned
    run_pass(app)
    assert any(r.recipient == "eng@example.com" and r.template == "complaints/escalation.txt" for r in _outbox(app))
    clock.advance(hours=30)  # breached: the repair manager, then each day the next level up
    run_pass(app)
    clock.advance(hours=25)
    run_pass(app)
    clock.advance(hours=25)
    run_pass(app)
    with app.sessions() as s:
        case = find_case(s, number)
        roles = [
            e.data.get("role")
            for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.type == "escalated"))
        ]
    assert "repair_manager" in roles and "head" in roles
    recipients = {r.recipient for r in _outbox(app) if r.template == "complaints/escalation.txt"}
    assert {"eng@example.com", "mgr@example.com", "head@example.com"} <= recipients


def test_contractor_letter_acceptance_required_closure_callback_low_score_reopens(complaints_app: App) -> None:
    app = complaints_app
    _owner(app)
    number = _open_repair(app, "卫生间漏水")
    for _ in range(4):
        _act(app, actions.advance_step, number)
    job = _act(app, actions.assign_contractor, number, "hengan", due=timedelta(days=5))
    job_number = job.number
    rows = [r for r in _outbox(app) if r.idem_key.startswith(job_number)]
    email = next(r for r in rows if r.channel == "email")
    letter = next(r for r in rows if r.channel == "letter")
    assert email.recipient == "jobs@hengan.example" and email.data["letter"] == "complaints/repair_notice_letter.html"
    assert "工程维修通知单" in email.data["letter_html"] and "恒安防水" in letter.body
    with app.sessions() as s:
        j = find_case(s, job_number)
        due = s.scalars(select(Deadline).where(Deadline.case_id == j.id, Deadline.state == "open")).one()
        assert due.due_at == app.clock.now() + timedelta(days=5)
        assert due.next_at == due.due_at - timedelta(days=1)  # the reminder before the due date
    with pytest.raises(actions.RuleRefused, match="收方验收"):
        _act(app, actions.resolve, number)
    _act(app, actions.contractor_done, job_number)
    _act(app, actions.accept, job_number, result="合格")
    _act(app, actions.resolve, number, defect=True, cause="防水层施工")
    case = _case(app, number)
    assert case.state == "callback" and case.data["defect"]["trade"] == "防水"
    closed = [r for r in _outbox(app) if r.template == "complaints/repair_closed.txt"]
    survey = [r for r in _outbox(app) if r.template == "complaints/callback_survey.txt"]
    assert closed and len(survey) == 1 and survey[0].channel == "sms"
    # The customer answers "2" by SMS: a low score reopens and alerts the project CS.
    with transaction(app.sessions) as s:
        c = find_case(s, number)
        record_event(app.context("complaints", s), c, "customer_reply", actor="customer", data={"text": "2"})
    case = _case(app, number)
    assert case.state in ("assigned", "in_progress") and case.satisfaction == 2 and case.step == "沟通联系"
    assert any(r.recipient == "cs@example.com" and r.template == "complaints/low_score_alert.txt" for r in _outbox(app))
    # Second round: resolved again, a 5 closes it.
    for _ in range(4):
        _act(app, actions.advance_step, number)
    _act(app, actions.resolve, number)
    _act(app, actions.callback_score, number, 5)
    assert _case(app, number).state == "closed"


def test_complaint_reply_and_resolution_deadlines_and_reply_sent(complaints_app: App) -> None:
    app = complaints_app
    _owner(app)
    with transaction(app.sessions) as s:
        case = open_case(
            app.context("complaints", s),
            kind="complaints.complaint",
            title="投诉物业态度差",
            customer=s.get(Customer, _customer_id(s)),
        )
        number = case.number
        names = {
            d.name: d.due_at - d.started_at for d in s.scalars(select(Deadline).where(Deadline.case_id == case.id))
        }
    assert names["first_response"] == timedelta(hours=24) and names["resolution"] == timedelta(days=7)
    assert number.startswith("TS-") and _case(app, number).owner == "cs"
    _act(app, actions.reply, number, "已核实并整改")
    with app.sessions() as s:
        c = find_case(s, number)
        fr = s.scalars(select(Deadline).where(Deadline.case_id == c.id, Deadline.name == "first_response")).one()
        assert fr.state == "met"
    assert any(r.template == "complaints/feedback_reply.txt" and "已核实并整改" in r.body for r in _outbox(app))
    _act(app, actions.resolve, number)
    assert _case(app, number).state == "callback"


def test_contractor_due_date_survives_a_pause_and_moves_on_only_by_it(complaints_app: App) -> None:
    app = complaints_app
    _owner(app)
    number = _open_repair(app, "卫生间漏水")
    job = _act(app, actions.assign_contractor, number, "hengan", due=timedelta(days=5))
    job_number = job.number
    agreed = app.clock.now() + timedelta(days=5)

    def running() -> Deadline:
        with app.sessions() as s:
            j = find_case(s, job_number)
            return s.scalars(select(Deadline).where(Deadline.case_id == j.id, Deadline.state == "open")).one()

    assert running().due_at == agreed
    with transaction(app.sessions) as s:
        j = find_case(s, job_number)
        app.context("complaints", s).transition(j, "waiting_customer", reason="业主不在家")
    assert isinstance(app.clock, FakeClock)
    app.clock.advance(timedelta(days=1))
    with transaction(app.sessions) as s:
        j = find_case(s, job_number)
        app.context("complaints", s).transition(j, "in_progress", reason="业主已回")
    # Not the kind's default (third_party.default_due) again: the agreed date plus the day paused.
    row = running()
    assert row.due_at == agreed + timedelta(days=1)
    assert row.next_at == row.due_at - timedelta(days=1)
