"""The outbox and its dispatcher with the spool sender: keys, consent, quiet hours, retries, pacing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from kefu.db.engine import transaction
from kefu.db.models import Case, OutboxMessage
from kefu.health import health_report
from kefu.outbound.claims import claim_due, release_orphans
from kefu.outbound.dispatch import run_dispatch
from kefu.outbound.policy import Pacer, quiet_until, retry_delay
from kefu.senders.config import RetrySettings
from kefu.testing.outbox import (
    add_customer,
    case_events,
    customer,
    open_example_case,
    outbox_rows,
    queue,
)

PHONE = "+8613812345678"


def dead_process_token() -> str:
    """The claim token a daemon of this machine wrote before it died (its pid is gone)."""
    import dataclasses
    import subprocess
    import sys

    from kefu import identity

    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    me = identity.current("test")
    return dataclasses.replace(me, pid=int(child.stdout), nonce="dead").token


def sms_lines(tmp_path: Path) -> list[dict]:
    path = tmp_path / "spool" / "sms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_quiet_hours_cross_midnight() -> None:
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    at = lambda h, m=0: datetime(2026, 11, 2, h, m, tzinfo=tz)  # noqa: E731
    assert quiet_until(at(20, 59), time(21), time(8), tz) is None
    assert quiet_until(at(21, 0), time(21), time(8), tz) == datetime(2026, 11, 3, 8, tzinfo=tz)
    assert quiet_until(at(7, 59), time(21), time(8), tz) == at(8)
    assert quiet_until(at(8, 0), time(21), time(8), tz) is None


def test_retry_delay_doubles_with_jitter_and_is_capped() -> None:
    retry = RetrySettings(first_delay=timedelta(minutes=1), max_delay=timedelta(minutes=10), jitter=0.2)
    assert retry_delay(1, retry, rand=lambda: 0.5) == timedelta(minutes=1)
    assert retry_delay(3, retry, rand=lambda: 0.5) == timedelta(minutes=4)
    assert retry_delay(9, retry, rand=lambda: 0.5) == timedelta(minutes=10)
    assert retry_delay(1, retry, rand=lambda: 1.0) == timedelta(minutes=1.2)
    assert retry_delay(1, retry, rand=lambda: 0.0) == timedelta(minutes=0.8)


def test_pacer_reserves_slots_one_rate_apart(clock) -> None:
    strict = Pacer(per_second=1)
    now = clock.now()
    assert strict.wait(now) == timedelta(0)
    strict.take(now)
    assert strict.wait(now) == timedelta(seconds=1)
    assert strict.wait(now + timedelta(seconds=1)) == timedelta(0)
    burst = Pacer(per_second=4)  # four at once, then one every quarter second
    for _ in range(4):
        assert burst.wait(now) == timedelta(0)
        burst.take(now)
    assert burst.wait(now) == timedelta(seconds=0.25)


def test_same_key_is_never_queued_twice(outbound_app) -> None:
    app = outbound_app()
    kwargs = dict(
        key="EX-1/ack/customer/sms",
        channel="sms",
        recipient=PHONE,
        template="example/ack.txt",
        context={"case_number": "EX-1"},
    )
    assert queue(app, **kwargs) is not None
    assert queue(app, **kwargs) is None
    assert len(outbox_rows(app)) == 1


def test_spool_writes_eml_and_sms_lines_and_records_provider_ids(outbound_app, run_pass, tmp_path) -> None:
    app = outbound_app()
    cid = add_customer(app, name="张三", phone=PHONE, email="zs@example.com")
    number = open_example_case(app, cid)
    queue(app, number, cid, key="k1", channel="sms", recipient=PHONE, template="example/ack.txt")
    queue(app, number, cid, key="k2", channel="email", recipient="zs@example.com", template="example/ack.txt")
    assert run_pass(app).dispatch == 2
    sms, email = outbox_rows(app)
    assert (sms.state, sms.provider_id) == ("sent", f"spool:sms/{sms.id}")
    assert sms.sent_at == app.clock.now()
    assert sms_lines(tmp_path)[0]["body"] == f"【客服中心】您的报修已受理，编号{number}，我们将尽快处理。"
    eml = (tmp_path / "spool" / "mail" / f"{email.id:08d}.eml").read_text()
    assert f"[{number}]" in eml and f"Message-ID: {email.message_id}" in eml
    assert "Auto-Submitted: auto-generated" in eml


def test_no_ack_case_gets_no_acknowledgement_but_other_notices(outbound_app) -> None:
    app = outbound_app()
    number = open_example_case(app, data={"no_ack": True, "no_ack_reason": "auto-reply"})
    assert queue(app, number, key="a", channel="email", recipient="x@example.com", template="example/ack.txt") is None
    assert (
        queue(
            app,
            number,
            key="n",
            channel="email",
            recipient="x@example.com",
            template="example/notice.txt",
            context={"text": "明日停水"},
        )
        is not None
    )


def test_broken_template_fails_only_its_row(outbound_app, run_pass) -> None:
    app = outbound_app()
    number = open_example_case(app)
    queue(app, number, key="bad", channel="email", recipient="x@example.com", template="example/broken.txt")
    queue(
        app,
        number,
        key="good",
        channel="email",
        recipient="x@example.com",
        template="example/notice.txt",
        context={"text": "明日停水"},
    )
    run_pass(app)
    bad, good = outbox_rows(app)
    assert bad.state == "failed" and "no_such_variable" in bad.last_error
    assert good.state == "sent"


def test_opted_out_number_gets_no_sms_and_the_row_says_why(outbound_app, run_pass, tmp_path) -> None:
    app = outbound_app()
    cid = add_customer(app, name="王五", phone=PHONE, sms_opt_out=True)
    queue(app, None, cid, key="promo", channel="sms", recipient=PHONE, template="example/promo.sms.txt")
    queue(
        app,
        None,
        None,
        key="notice",
        channel="sms",
        recipient=PHONE,
        template="example/notice.txt",
        context={"text": "停水"},
    )  # no customer given: the number's consent still counts
    run_pass(app)
    assert [(r.state, "退订" in (r.last_error or "")) for r in outbox_rows(app)] == [("skipped", True)] * 2
    assert sms_lines(tmp_path) == []


def test_quiet_hours_hold_customer_sms_then_release_it(outbound_app, run_pass, clock, tmp_path) -> None:
    app = outbound_app()
    clock.set("2026-11-02T22:30:00+08:00")
    queue(app, key="c", channel="sms", recipient=PHONE, template="example/notice.txt", context={"text": "明日停水"})
    queue(
        app,
        key="u",
        channel="sms",
        recipient="+8613900000000",
        template="example/notice.txt",
        context={"text": "爆管抢修"},
        urgent=True,
    )
    queue(
        app,
        key="s",
        channel="sms",
        recipient="+8613700000000",
        template="example/notice.txt",
        context={"text": "升级"},
        audience="staff",
    )
    run_pass(app)
    held = {r.idem_key: r for r in outbox_rows(app)}
    assert held["c"].state == "queued" and held["u"].state == "sent" and held["s"].state == "sent"
    assert held["c"].not_before.isoformat() == "2026-11-03T00:00:00+00:00"  # 08:00 Beijing
    clock.set("2026-11-03T07:59:00+08:00")
    run_pass(app)
    assert outbox_rows(app, idem_key="c")[0].state == "queued"
    clock.set("2026-11-03T08:00:00+08:00")
    run_pass(app)
    assert outbox_rows(app, idem_key="c")[0].state == "sent"
    assert [line["to"] for line in sms_lines(tmp_path)][-1] == PHONE


def test_row_due_at_night_after_a_retry_is_held_at_dispatch(outbound_app, run_pass, clock) -> None:
    app = outbound_app()
    clock.set("2026-11-02T20:00:00+08:00")
    queue(
        app,
        key="c",
        channel="sms",
        recipient=PHONE,
        template="example/notice.txt",
        context={"text": "x"},
        not_before=clock.now() + timedelta(hours=2),
    )
    clock.set("2026-11-02T22:00:00+08:00")
    run_pass(app)
    row = outbox_rows(app)[0]
    assert row.state == "queued" and row.data["held"] == "quiet hours"


def test_transient_failures_back_off_then_die_and_retry_revives(outbound_app, run_pass, clock, monkeypatch) -> None:
    from kefu.senders.base import TransientFailure
    from kefu.senders.spool import SpoolEmailSender

    calls: list[int] = []

    def flaky(self, message):
        calls.append(message.id)
        raise TransientFailure("451 4.3.0 try again later", 451)

    monkeypatch.setattr(SpoolEmailSender, "send", flaky)
    app = outbound_app(outbound={"retry": {"max_attempts": 3, "first_delay": "1m", "jitter": 0}})
    number = open_example_case(app)
    queue(
        app,
        number,
        key="e",
        channel="email",
        recipient="x@example.com",
        template="example/notice.txt",
        context={"text": "x"},
    )
    run_pass(app)
    row = outbox_rows(app)[0]
    assert (row.state, row.attempts) == ("queued", 1) and row.not_before == clock.now() + timedelta(minutes=1)
    run_pass(app)
    assert len(calls) == 1  # not due yet: nothing sent
    clock.advance(minutes=1)
    run_pass(app)
    clock.advance(minutes=2)
    run_pass(app)
    row = outbox_rows(app)[0]
    assert (row.state, row.attempts, len(calls)) == ("dead", 3, 3)
    assert "451" in row.last_error
    assert any(e.type == "notification_dead" for e in case_events(app, number))
    monkeypatch.undo()
    from click.testing import CliRunner

    from kefu.cli.main import cli

    def invoke(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args), obj={"app": app}, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    listed = json.loads(invoke("outbox", "list", "--dead", "--json"))
    assert [r["id"] for r in listed] == [row.id]
    assert "1 row" in invoke("outbox", "retry", "--all-dead")
    run_pass(app)
    assert outbox_rows(app)[0].state == "sent"


def test_rate_limit_holds_rows_in_the_queue_instead_of_dropping(outbound_app, run_pass, clock, tmp_path) -> None:
    app = outbound_app(outbound={"rate": {"sms_per_second": 1}})
    for i in range(3):
        queue(
            app,
            key=f"r{i}",
            channel="sms",
            recipient=f"+86139000000{i:02d}",
            urgent=True,
            template="example/notice.txt",
            context={"text": "停热"},
        )
    run_pass(app)
    assert [r.state for r in outbox_rows(app)] == ["sent", "queued", "queued"]
    assert outbox_rows(app)[2].not_before == clock.now() + timedelta(seconds=1)
    clock.advance(seconds=1)
    run_pass(app)
    clock.advance(seconds=1)
    run_pass(app)
    assert [r.state for r in outbox_rows(app)] == ["sent"] * 3
    assert all(r.attempts == 1 for r in outbox_rows(app))


def test_rows_of_a_dead_dispatcher_are_given_back_and_sent_once(outbound_app, run_pass, tmp_path) -> None:
    app = outbound_app()
    for i in range(3):
        queue(
            app,
            key=f"d{i}",
            channel="sms",
            recipient=PHONE,
            urgent=True,
            template="example/notice.txt",
            context={"text": str(i)},
        )
    claimed, _ = claim_due(app, app.clock.now(), 10)
    assert len(claimed) == 3
    # The process that claimed them died: its rows carry the identity of a gone process.
    with transaction(app.sessions) as session:
        session.execute(update(OutboxMessage).values(claimed_by=dead_process_token()))
    assert release_orphans(app, app.clock.now()) == 3
    run_pass(app)
    assert [r.state for r in outbox_rows(app)] == ["sent"] * 3
    assert len(sms_lines(tmp_path)) == 3


def test_another_nodes_claim_is_respected_until_it_times_out(outbound_app, clock) -> None:
    app = outbound_app(outbound={"claim_timeout": "10m"})
    queue(
        app, key="o", channel="sms", recipient=PHONE, urgent=True, template="example/notice.txt", context={"text": "x"}
    )
    claim_due(app, clock.now(), 10)
    with transaction(app.sessions) as session:
        session.execute(update(OutboxMessage).values(claimed_by="other-node:1:x"))
    assert release_orphans(app, clock.now()) == 0
    clock.advance(minutes=11)
    assert release_orphans(app, clock.now()) == 1


def test_stalled_outbox_fails_healthz_and_alarms_staff(outbound_app, clock, monkeypatch) -> None:
    from kefu.outbound.dispatch import Dispatcher

    app = outbound_app(
        outbound={"alarm_age": "30m", "alarm_staff": ["boss"]},
        staff={"people": {"boss": {"name": "主管", "email": "boss@example.com"}}},
    )
    queue(
        app, key="w", channel="email", recipient="x@example.com", template="example/notice.txt", context={"text": "x"}
    )
    assert next(c for c in health_report(app)["checks"] if c["name"] == "outbox")["ok"]
    monkeypatch.setattr(Dispatcher, "run", lambda self, max_rounds=0: 0)  # the sender is stuck
    clock.advance(minutes=31)
    run_dispatch(app)
    check = next(c for c in health_report(app)["checks"] if c["name"] == "outbox")
    assert not check["ok"] and "waiting 31 min" in check["detail"]
    alarm = outbox_rows(app, audience="staff")
    assert len(alarm) == 1 and alarm[0].recipient == "boss@example.com" and "31" in alarm[0].body
    run_dispatch(app)
    assert len(outbox_rows(app, audience="staff")) == 1  # once an hour, not once a pass


def test_two_dispatchers_never_claim_the_same_row(outbound_app) -> None:
    app = outbound_app()
    for i in range(20):
        queue(
            app,
            key=f"p{i}",
            channel="sms",
            recipient=PHONE,
            urgent=True,
            template="example/notice.txt",
            context={"text": str(i)},
        )
    first, _ = claim_due(app, app.clock.now(), 12)
    second, _ = claim_due(app, app.clock.now(), 12)
    ids_first = {c.row.id for c in first}
    ids_second = {c.row.id for c in second}
    assert len(ids_first) == 12 and len(ids_second) == 8 and not ids_first & ids_second


@pytest.mark.parametrize("urgent", [False])
def test_permanent_error_is_recorded_on_customer_and_case(outbound_app, run_pass, monkeypatch, urgent) -> None:
    from kefu.senders.base import PermanentFailure
    from kefu.senders.spool import SpoolSmsSender

    def refuse(self, message):
        raise PermanentFailure("Twilio refused: 21211 invalid number", 21211, flag="phone_invalid")

    monkeypatch.setattr(SpoolSmsSender, "send", refuse)
    app = outbound_app()
    cid = add_customer(app, name="赵六", phone=PHONE)
    number = open_example_case(app, cid)
    queue(app, number, cid, key="x", channel="sms", recipient=PHONE, urgent=True, template="example/ack.txt")
    run_pass(app)
    row = outbox_rows(app)[0]
    assert (row.state, row.attempts) == ("failed", 1)
    assert customer(app, cid).phone_invalid
    assert any(e.type == "notification_failed" and "21211" in e.reason for e in case_events(app, number))
    with app.sessions() as session:
        assert session.get(Case, row.case_id) is not None
