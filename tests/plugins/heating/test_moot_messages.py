"""Nothing moot goes out: a queued message a later event made pointless is cancelled with the reason.

Through a real Maildir and the spool senders: a household's night complaint, resolved the
same night; the callback SMS waits for the end of quiet hours while the mailed callback
goes at once; the household answers the mail, and the SMS is cancelled, never sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from kefu.app import App
from kefu.cli.main import cli
from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.models import Case, CaseEvent, OutboxMessage
from kefu.passes import PassResult
from kefu.plugins.heating import fees, imports
from kefu.sla.cases import find_case, resolve
from kefu.testing.files import write_csv
from kefu.testing.mail import build_mail, deliver_to_maildir

from .conftest import HOUSEHOLD_HEADER, household_rows, in_tx, outbox


def _app(heating_app: Callable[..., App], tmp_path: Path) -> tuple[App, Path]:
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    app = heating_app(config={"channels": {"maildir": {"heat": {"path": str(maildir), "poll_interval": "0s"}}}})
    in_tx(app, imports.import_households, write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows()))
    return app, maildir


def _outbox_list(app: App, *args: str) -> list[dict[str, str]]:
    result = CliRunner().invoke(cli, ["outbox", "list", "--json", *args], obj={"app": app}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, str]] = json.loads(result.output)
    return rows


HOUSEHOLD = "+8613900000001"  # CB-0001's phone


def _sms_sent(tmp_path: Path, to: str = HOUSEHOLD) -> list[str]:
    """The bodies of the SMS the spool sender sent to ``to``."""
    spool = tmp_path / "spool" / "sms.jsonl"
    lines = [json.loads(line) for line in spool.read_text().splitlines()] if spool.exists() else []
    return [line["body"] for line in lines if line["to"] == to]


def test_a_callback_answered_by_mail_while_its_sms_waits_for_quiet_hours_is_cancelled_never_sent(
    heating_app: Callable[..., App], tmp_path: Path, clock: FakeClock, run_pass: Callable[[App], PassResult]
) -> None:
    app, maildir = _app(heating_app, tmp_path)
    clock.set("2026-11-02T21:30:00+08:00")  # inside quiet hours (21:00–08:00)
    deliver_to_maildir(
        maildir, build_mail(sender="hh1@example.com", subject="暖气不热", text="户号：CB-0001 家里暖气不热")
    )
    run_pass(app)
    with app.sessions() as s:
        (case,) = s.scalars(select(Case))
        number = case.number
    assert case.kind == "heating.general"
    # The (non-urgent) ack SMS waits for 08:00 and says so; the mailed ack went.
    (ack_sms,) = [r for r in _outbox_list(app) if r["template"] == "heating/ack.txt" and r["channel"] == "sms"]
    assert ack_sms["state"] == "queued" and ack_sms["why"] == "held until 11-03 08:00 (quiet hours)"

    clock.advance(minutes=30)  # fixed the same night
    in_tx(app, lambda ctx: resolve(ctx, find_case(ctx.db(), number), actor="zhang", reason="已调网"))
    run_pass(app)  # the mailed callback goes; the callback SMS is held
    callbacks = {m.channel: m for m in outbox(app, template="heating/callback.txt")}
    assert callbacks["email"].state == "sent" and callbacks["sms"].state == "queued"
    with app.sessions() as s:
        moved = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.to_state == "callback")).one()
    assert moved.reason == "回访已排队（短信、邮件）"  # not "sent": the SMS is still waiting

    clock.advance(minutes=20)  # the household answers the mail
    deliver_to_maildir(
        maildir,
        build_mail(
            sender="hh1@example.com",
            subject=f"Re: [{number}] 回访",
            text="满意",
            in_reply_to=callbacks["email"].message_id,
        ),
    )
    run_pass(app)
    clock.set("2026-11-03T08:30:00+08:00")  # quiet hours over
    run_pass(app)
    clock.advance(seconds=5)  # past any SMS pacing slot
    run_pass(app)

    sms = {m.template: m for m in outbox(app, channel="sms", audience="customer")}
    assert sms["heating/callback.txt"].state == "cancelled"
    assert (
        sms["heating/callback.txt"]
        .data["cancelled"]
        .startswith("the customer already answered the callback before it went (回访满意")
    )
    # The ack was moot as soon as the case was resolved.
    assert sms["heating/ack.txt"].state == "cancelled"
    assert sms["heating/ack.txt"].data["cancelled"].startswith("the case was resolved before it went")
    assert not [body for body in _sms_sent(tmp_path) if number in body]  # never sent
    with app.sessions() as s:
        case = find_case(s, number)
        assert case is not None and case.state == "closed"
        cancelled = [e.reason for e in case.events if e.type == "notification_cancelled"]
    assert len(cancelled) == 2 and "answered the callback" in cancelled[1]
    listed = {r["template"]: r for r in _outbox_list(app, "--case", number) if r["channel"] == "sms"}
    assert listed["heating/callback.txt"]["why"].startswith("cancelled: the customer already answered")
    shown = CliRunner().invoke(cli, ["cases", "show", number], obj={"app": app}, catch_exceptions=False)
    assert "cancelled: the customer already answered" in shown.output and "回访已排队" in shown.output


def test_a_fee_reminder_still_waiting_is_cancelled_when_the_ledger_says_paid(
    heating_app: Callable[..., App], tmp_path: Path
) -> None:
    app, _maildir = _app(heating_app, tmp_path)
    header = ["户号", "采暖期", "应收", "实收"]
    in_tx(
        app,
        imports.import_fees,
        write_csv(tmp_path / "fees.csv", header, [["CB-0001", "2026", "2000", "0"], ["CB-0002", "2026", "2000", "0"]]),
    )
    assert in_tx(app, fees.run_campaign, date(2026, 10, 8)) == ("before", 2)
    in_tx(app, imports.import_fees, write_csv(tmp_path / "paid.csv", header, [["CB-0001", "2026", "2000", "2000"]]))
    rows = {m.idem_key.split("/")[-2]: m for m in outbox(app, channel="sms")}
    assert rows["CB-0001"].state == "cancelled"
    assert rows["CB-0001"].data["cancelled"] == (
        "the household paid its 2026 heating fee (fee ledger import) before it went"
    )
    assert rows["CB-0002"].state == "queued"


def test_a_message_is_only_cancelled_by_the_events_it_names(
    heating_app: Callable[..., App], tmp_path: Path, clock: FakeClock, run_pass: Callable[[App], PassResult]
) -> None:
    app, _maildir = _app(heating_app, tmp_path)
    clock.set("2026-11-02T22:00:00+08:00")
    from kefu.db.models import Customer
    from kefu.sla.cases import assign, open_case

    def go(ctx):
        cust = ctx.db().scalars(select(Customer).where(Customer.ref == "CB-0001")).one()
        case = open_case(ctx, kind="heating.general", title="暖气不热", customer=cust)
        assign(ctx, case, "wang")  # an event no queued message names
        return case.number

    number = in_tx(app, go)
    (ack,) = outbox(app, channel="sms", audience="customer")
    assert ack.state == "queued" and ack.data["cancel_on"] == ["resolved", "closed"]
    with transaction(app.sessions) as s:
        assert s.scalars(select(OutboxMessage.state).where(OutboxMessage.id == ack.id)).one() == "queued"
    clock.set("2026-11-03T08:30:00+08:00")
    run_pass(app)
    clock.advance(seconds=5)  # the SMS pacing slot after the dispatch SMS to staff
    run_pass(app)
    assert any(number in body for body in _sms_sent(tmp_path))
