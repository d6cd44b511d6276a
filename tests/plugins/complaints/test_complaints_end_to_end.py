"""Issue 7 done: an owner's GB2312 repair mail from a real IMAP mailbox (private Dovecot) becomes a
repair on their home, is acknowledged with its number, goes through the engineer's steps with the
visit time told, escalates at breach (moved clock), is resolved, gets the callback SMS, and a low
score answered through the signed Twilio webhook (real HTTP) reopens it and alerts the project CS."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kefu.app import App
from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.models import Case, CaseEvent, OutboxMessage
from kefu.http.server import HttpServer
from kefu.passes import PassResult
from kefu.plugins.complaints import actions
from kefu.plugins.complaints.imports import import_homes
from kefu.testing.dovecot import Dovecot
from kefu.testing.mail import build_mail
from kefu.testing.twilio_api import incoming_sms

from .conftest import COMPLAINTS, STAFF

TOKEN = "twilio-auth-token-for-complaints-tests"
HOMES = (
    "项目编码,项目名称,楼栋,房号,业主姓名,手机,邮箱,交付日期\n"
    "JY,锦园,3,1201,张三,13800000001,zhang@example.com,2024-06-01\n"
)


@pytest.fixture
def served(make_app: Callable[..., App], dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The complaints app reading the Dovecot INBOX and serving the Twilio webhook on a free port."""
    monkeypatch.setenv("KEFU_TWILIO_TOKEN", TOKEN)
    app = make_app(
        plugins=["complaints"],
        config={
            "staff": STAFF,
            "complaints": COMPLAINTS,
            "twilio": {"enabled": True, "account_sid": "AC" + "0" * 32, "auth_token_secret": "twilio_token"},
            "channels": {
                "sms": {"enabled": True},
                "imap": {"service": dovecot.channel_config(poll_interval="0s", idle=False)},
            },
        },
    )
    server = HttpServer(app)
    server.start()
    app.base_url = f"http://127.0.0.1:{server.port}"
    try:
        yield app
    finally:
        server.stop()


def _sms(base: str, sid: str, sender: str, body: str) -> int:
    return incoming_sms(base, TOKEN, sid, sender, body)


def _spooled_sms(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "spool" / "sms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _outbox(app: App, case_id: int) -> list[OutboxMessage]:
    with app.sessions() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id).order_by(OutboxMessage.id)))
        s.expunge_all()
        return rows


def _case(app: App) -> tuple[Case, list[CaseEvent]]:
    with app.sessions() as s:
        (case,) = s.scalars(select(Case).where(Case.kind.like("complaints.repair%")))
        events = list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))
        s.expunge_all()
        return case, events


def _act(app: App, fn: Callable[..., object], *args: object, **kwargs: object) -> object:
    with transaction(app.sessions) as s:
        return fn(app.context("complaints", s), *args, **kwargs)


@pytest.mark.slow
def test_gb2312_repair_mail_from_imap_to_low_score_sms_reopen(
    served: App,
    dovecot: Dovecot,
    clock: FakeClock,
    run_pass: Callable[[App], PassResult],
    tmp_path: Path,
) -> None:
    app = served
    with transaction(app.sessions) as s:
        import_homes(s, HOMES.encode(), app.clock.now())
    dovecot.append(
        build_mail(
            sender="zhang@example.com",
            sender_name="张三",
            subject="报修：卫生间漏水",
            subject_charset="gb2312",
            charset="gb2312",
            text="锦园3栋1201，卫生间漏水，楼下邻居家天花板也在渗水，请尽快派人。",
        )
    )
    run_pass(app)

    # A plumbing-leak repair on the owner's home, assigned to the project's engineer.
    case, _ = _case(app)
    number = case.number
    assert case.kind == "complaints.repair.plumbing_leak" and case.urgent and number.startswith("BX-")
    assert case.unit == "JY" and case.data["home"] == "JY-3-1201" and case.owner == "eng"
    assert case.step == "沟通联系"
    # Acknowledged by SMS and mail, both with the case number; the urgent SMS went out in this pass.
    acks = {r.channel: r for r in _outbox(app, case.id) if r.template == "complaints/repair_ack.txt"}
    assert set(acks) == {"sms", "email"} and all(number in r.body for r in acks.values())
    assert acks["email"].recipient == "zhang@example.com"
    assert any(number in m.get("body", "") and m["to"].endswith("13800000001") for m in _spooled_sms(tmp_path))

    # 沟通联系 is 2 working hours (due 11:00): at 75 % the engineer is warned; untouched at 11:01 it
    # breaches and the repair manager is told.
    clock.advance(minutes=95)
    run_pass(app)
    assert {r.recipient for r in _outbox(app, case.id) if r.template == "complaints/escalation.txt"} == {
        "eng@example.com"
    }
    clock.advance(minutes=26)
    run_pass(app)
    case, events = _case(app)
    escalated = [e.data.get("role") for e in events if e.type == "escalated"]
    assert "repair_manager" in escalated
    staff = {r.recipient for r in _outbox(app, case.id) if r.template == "complaints/escalation.txt"}
    assert {"eng@example.com", "mgr@example.com"} <= staff

    # The engineer calls the owner and agrees the visit: the time is told by SMS.
    visit = datetime.fromisoformat("2026-11-03T10:00:00+08:00")
    assert _act(app, actions.advance_step, number, visit_at=visit) == "现场查看"
    run_pass(app)
    (visit_sms,) = [
        r for r in _outbox(app, case.id) if r.template == "complaints/repair_visit.txt" and r.channel == "sms"
    ]
    assert "11月03日 10:00" in visit_sms.body and visit_sms.state == "sent"
    for step in ("责任判定", "方案制定", "工作指派"):
        clock.advance(hours=1)
        assert _act(app, actions.advance_step, number) == step
    _act(app, actions.resolve, number)
    run_pass(app)  # the closure SMS goes; [outbound.rates] paces the survey SMS a second later
    clock.advance(seconds=2)
    run_pass(app)
    case, _ = _case(app)
    assert case.state == "callback" and case.step == "维修关闭"
    closed = [r for r in _outbox(app, case.id) if r.template == "complaints/repair_closed.txt"]
    (survey,) = [r for r in _outbox(app, case.id) if r.template == "complaints/callback_survey.txt"]
    assert closed and survey.channel == "sms" and survey.recipient.endswith("13800000001")
    assert survey.state == "sent" and number in survey.body

    # The owner answers "2" by SMS through Twilio's signed webhook: reopened, the project CS alerted.
    assert _sms(app.base_url, "SM701", "+8613800000001", "2") == 200
    run_pass(app)
    case, events = _case(app)
    assert case.satisfaction == 2 and case.state in ("assigned", "in_progress") and case.step == "沟通联系"
    assert [e.type for e in events].count("reopened") == 1
    assert case.data["round"] == 2 and case.data["scores"] == {"1": 2}
    alerts = [r for r in _outbox(app, case.id) if r.template == "complaints/low_score_alert.txt"]
    assert alerts and {r.recipient for r in alerts} >= {"cs@example.com"}
