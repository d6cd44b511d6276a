"""Done means: a leak from a real IMAP mailbox and one from a signed Twilio webhook, each driven
through acknowledgement, escalation at 4 h (moved clock), resolution, callback, an unsatisfied
answer and reopen — real Dovecot, real HTTP, the daemon's own passes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kefu.app import App
from kefu.db.models import Case, OutboxMessage
from kefu.http.server import HttpServer
from kefu.plugins.heating import imports
from kefu.sla.cases import find_case, resolve
from kefu.testing.dovecot import Dovecot
from kefu.testing.files import write_csv
from kefu.testing.mail import build_mail
from kefu.testing.twilio_api import incoming_sms

from .conftest import HOUSEHOLD_HEADER, household_rows, in_tx, outbox

TOKEN = "twilio-auth-token-for-heating-tests"


def _case(app: App) -> Case:
    with app.sessions() as s:
        (case,) = s.scalars(select(Case).where(Case.plugin == "heating"))
        case.events  # noqa: B018  (loaded before the session closes)
        s.expunge_all()
        return case


def _staff_told(app: App, number: str) -> list[str]:
    return [m.recipient for m in outbox(app, audience="staff") if m.idem_key.startswith(f"{number}/resolution/")]


def _escalate_through_the_chain(app: App, clock: Any, run_pass: Callable[[App], Any], number: str) -> None:
    clock.advance(hours=3, minutes=59)
    run_pass(app)
    assert "zhao@heat.test" not in _staff_told(app, number)
    clock.advance(minutes=1)
    run_pass(app)  # 4 h: breached, the station on duty is told
    assert "deadline_breached" in [e.type for e in _case(app).events]
    clock.advance(hours=1)
    run_pass(app)  # the branch head
    clock.advance(hours=1)
    run_pass(app)  # the CS-centre head
    told = _staff_told(app, number)
    assert told.index("zhao@heat.test") < told.index("liu@heat.test")


def _spooled_sms(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "spool" / "sms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.slow
def test_leak_from_a_real_imap_mailbox_end_to_end(heating_app, dovecot: Dovecot, clock, run_pass, tmp_path) -> None:
    app = heating_app(
        config={"channels": {"imap": {"service": dovecot.channel_config(poll_interval="0s", idle=False)}}}
    )
    in_tx(app, imports.import_households, write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows()))
    dovecot.append(
        build_mail(
            sender="zhang@example.com",
            subject="报修 户号：CB-0001",
            charset="gbk",
            subject_charset="gb2312",
            text="3号楼暖气片漏水，地上全是水！",
        )
    )
    run_pass(app)
    case = _case(app)
    assert case.kind == "heating.leak" and case.urgent and case.unit == "S01" and case.owner == "zhang"
    number = case.number
    # acknowledged: urgent SMS to the household's phone and a mail reply, both with the case number
    sms = [r for r in _spooled_sms(tmp_path) if number in r.get("body", "")]
    assert sms and sms[0]["to"] == "+8613900000001"
    acks = {m.channel: m for m in outbox(app, audience="customer") if "/ack/" in m.idem_key}
    assert set(acks) == {"sms", "email"} and acks["sms"].urgent and acks["sms"].state == "sent"
    assert acks["email"].recipient == "zhang@example.com"
    _escalate_through_the_chain(app, clock, run_pass, number)
    in_tx(app, lambda ctx: resolve(ctx, find_case(ctx.db(), number), actor="zhang"))
    run_pass(app)
    callbacks = {m.channel: m for m in outbox(app, audience="customer") if "/callback1/" in m.idem_key}
    assert set(callbacks) == {"sms", "email"} and _case(app).state == "callback"
    # the household answers the callback mail: the reply quotes our question, the answer is on top
    dovecot.append(
        build_mail(
            sender="zhang@example.com",
            subject=f"Re: {callbacks['email'].subject}",
            in_reply_to=callbacks["email"].message_id,
            text="不满意，还在滴水\n\n> 请直接回复本邮件：满意 或 1；不满意 或 2。",
        )
    )
    run_pass(app)
    case = _case(app)
    assert case.state == "assigned" and case.satisfaction == 1
    assert [e.type for e in case.events].count("reopened") == 1
    assert any("/reopen" in m.idem_key and m.recipient == "zhang@heat.test" for m in outbox(app, audience="staff"))


@pytest.fixture
def served(heating_app, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], tuple[App, str]]]:
    monkeypatch.setenv("KEFU_TWILIO_TOKEN", TOKEN)
    servers: list[HttpServer] = []

    def build() -> tuple[App, str]:
        app = heating_app(
            config={
                "twilio": {"enabled": True, "account_sid": "AC" + "0" * 32, "auth_token_secret": "twilio_token"},
                "channels": {"sms": {"enabled": True}},
            }
        )
        server = HttpServer(app)
        server.start()
        servers.append(server)
        return app, f"http://127.0.0.1:{server.port}"

    yield build
    for server in servers:
        server.stop()


def _sms(base: str, sid: str, sender: str, body: str) -> int:
    return incoming_sms(base, TOKEN, sid, sender, body)


@pytest.mark.slow
def test_leak_from_a_signed_twilio_webhook_end_to_end(served, clock, run_pass, tmp_path) -> None:
    app, base = served()
    in_tx(app, imports.import_households, write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows()))
    assert _sms(base, "SM100", "13900000007", "锅炉房那边管道冒汽，20号楼") == 200
    assert _sms(base, "SM100", "13900000007", "锅炉房那边管道冒汽，20号楼") == 200  # Twilio retried
    run_pass(app)
    case = _case(app)
    # the household is found by its number: station S02, whose rota falls back to wang
    assert case.kind == "heating.leak" and case.unit == "S02" and case.owner == "wang"
    number = case.number
    (ack,) = [m for m in outbox(app, audience="customer") if "/ack/" in m.idem_key]
    assert ack.channel == "sms" and ack.urgent and number in ack.body and ack.state == "sent"
    clock.advance(hours=4)
    run_pass(app)
    clock.advance(hours=1)
    run_pass(app)
    assert "zhou@heat.test" in _staff_told(app, number)  # S02's branch head
    in_tx(app, lambda ctx: resolve(ctx, find_case(ctx.db(), number), actor="wang"))
    clock.advance(seconds=30)  # [outbound.rates] paces SMS per second; let the pacing pass
    run_pass(app)
    (cb,) = [m for m in outbox(app, audience="customer") if "/callback1/" in m.idem_key]
    assert cb.channel == "sms" and cb.recipient == "+8613900000007" and cb.state == "sent"
    assert _sms(base, "SM101", "+8613900000007", "2") == 200
    run_pass(app)
    case = _case(app)
    assert case.state == "assigned" and case.satisfaction == 1 and "reopened" in [e.type for e in case.events]
    with app.sessions() as s:
        assert s.query(OutboxMessage).filter(OutboxMessage.idem_key.like(f"{number}/reopen%")).count() >= 1
