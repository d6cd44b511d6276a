"""Recording what happened to a claimed row: sent, retried later, dead, or failed for good.

Each outcome is its own short transaction, written right after the send, so a
crash loses at most the knowledge that the one in-flight row went out. The
common outcome, sent without a letter, is one Core UPDATE on a connection the
dispatcher keeps (:class:`SentRecorder`): an ORM session per row cost more than the
SMTP round trips.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, literal_column, null, select, update

from kefu.app import App
from kefu.db.base import table_of
from kefu.db.engine import transaction
from kefu.db.models import Case, Customer, Letter, OutboxMessage
from kefu.outbound.claims import OutboxRow
from kefu.outbound.policy import retry_delay
from kefu.secrets import mask
from kefu.senders.base import PermanentFailure, SendFailure, SendResult

log = logging.getLogger("kefu.outbox")
_TABLE = table_of(OutboxMessage)
_SENT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    # Constants as SQL literals: only the three per-row values are bound.
    .values(
        state=literal_column("'sent'"),
        provider_id=bindparam("provider_id"),
        sent_at=bindparam("sent_at", type_=_TABLE.c.sent_at.type),
        claimed_by=null(),
        claimed_at=null(),
        last_error=null(),
    )
)


class SentRecorder:
    """Marks rows sent, each in a transaction of its own, on one connection kept for a run.

    The UPDATE is built once and run with SQLAlchemy Core on the kept connection: an ORM
    session per row cost more than the SMTP round trip it follows. On SQLite the
    transaction takes the write lock up front (``BEGIN IMMEDIATE``, as every kefu
    transaction does) so a concurrent writer makes it wait instead of failing.
    """

    def __init__(self, engine: Engine) -> None:
        self.conn = engine.connect()

    def record(self, row_id: int, result: SendResult, now: datetime) -> None:
        """Mark row ``row_id`` sent with the provider's id; committed before this returns."""
        with self.conn.begin():
            self.conn.execute(
                _SENT, {"row_id": row_id, "provider_id": result.provider_id, "sent_at": result.sent_at or now}
            )

    def close(self) -> None:
        """Give the connection back to the pool."""
        self.conn.close()


def mark_sent(app: App, row: OutboxRow, result: SendResult, now: datetime, letter_pdf: bytes | None = None) -> None:
    """The row went out: record the provider's id and the time (and archive its letter)."""
    with transaction(app.sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(
                state="sent",
                provider_id=result.provider_id,
                sent_at=result.sent_at or now,
                claimed_by=None,
                claimed_at=None,
                last_error=None,
            )
        )
        if letter_pdf is not None:
            archive_letter(app, session, row, letter_pdf, now, to_post=row.channel == "letter")


def archive_letter(app: App, session: Any, row: OutboxRow, pdf: bytes, now: datetime, *, to_post: bool) -> Letter:
    """Keep the letter's PDF with its case; letters to post wait in ``kefu letters pending``."""
    data = row.data or {}
    letter = Letter(
        case_id=row.case_id,
        outbox_id=row.id,
        plugin=row.plugin,
        title=row.subject or row.template,
        to_post=to_post,
        template=data.get("letter") or row.template,
        recipient_name=row.recipient_name or row.recipient,
        address=_postal_address(data),
        pdf=pdf,
        created_at=now,
    )
    session.add(letter)
    session.flush()
    if row.case_id is not None:
        case = session.get(Case, row.case_id)
        if case is not None:
            from kefu.sla.cases import record_event

            record_event(
                app.context(row.plugin, session),
                case,
                "letter_archived",
                reason=f"《{letter.title}》致 {letter.recipient_name}"
                + ("：待打印邮寄（kefu letters pending）" if to_post else "：已随邮件发出"),
                data={"letter_id": letter.id, "outbox_id": row.id, "to_post": to_post},
            )
    return letter


def _postal_address(data: dict[str, Any]) -> str | None:
    """Where the letter is posted: the row's address, else the one its template printed."""
    context = data.get("context") or {}
    found = data.get("address") or (context.get("address") if isinstance(context, dict) else None)
    return str(found) if found else None


def mark_retry(app: App, row: OutboxRow, error: SendFailure | Exception, now: datetime) -> str:
    """A transient failure: queue again after the backoff, or make the row dead; the new state."""
    retry = app.settings.outbound.retry
    text = f"{type(error).__name__}: {error}"
    attempts = row.attempts or 1
    with transaction(app.sessions) as session:
        if attempts >= retry.max_attempts:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(
                    state="dead",
                    last_error=f"gave up after {attempts} attempts; last: {text}",
                    claimed_by=None,
                    claimed_at=None,
                )
            )
            log.error(
                "outbox row %d (%s to %s) is dead after %d attempts: %s",
                row.id,
                row.channel,
                mask(row.recipient),
                attempts,
                text,
            )
            tell_case(
                app,
                session,
                row,
                "notification_dead",
                f"{row.channel} to {mask(row.recipient)} not sent after {attempts} attempts: {text} "
                f"(kefu outbox retry {row.id})",
            )
            return "dead"
        due = now + retry_delay(attempts, retry)
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(state="queued", not_before=due, last_error=text, claimed_by=None, claimed_at=None)
        )
    log.warning(
        "outbox row %d (%s to %s) failed (attempt %d), retrying at %s: %s",
        row.id,
        row.channel,
        mask(row.recipient),
        attempts,
        due.isoformat(timespec="seconds"),
        text,
    )
    return "queued"


def mark_waiting(app: App, row: OutboxRow, reason: str, until: datetime) -> None:
    """Something the site must fix (a letter font) holds the row until ``until``; it never dies of it.

    The claim's attempt is given back, so waiting for a person does not use up the retries.
    """
    with transaction(app.sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(
                state="queued",
                not_before=until,
                last_error=reason,
                claimed_by=None,
                claimed_at=None,
                attempts=max((row.attempts or 1) - 1, 0),
                data={**(row.data or {}), "held": "letter fonts"},
            )
        )
    log.debug(
        "outbox row %d (%s to %s) waits until %s: %s",
        row.id,
        row.channel,
        mask(row.recipient),
        until.isoformat(timespec="seconds"),
        reason,
    )


def mark_failed(app: App, row: OutboxRow, failure: PermanentFailure | Exception, now: datetime) -> None:
    """A permanent failure: never retried; recorded on the customer and on the case."""
    text = f"{failure}"
    with transaction(app.sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(state="failed", last_error=text, claimed_by=None, claimed_at=None)
        )
        flag = getattr(failure, "flag", None)
        if flag and row.audience == "customer":
            flag_customers(session, row, flag, now, text)
        tell_case(
            app,
            session,
            row,
            "notification_failed",
            f"{row.channel} to {mask(row.recipient)} failed permanently: {text}",
        )
    log.error("outbox row %d (%s to %s) failed permanently: %s", row.id, row.channel, mask(row.recipient), text)


def flag_customers(session: Any, row: OutboxRow | OutboxMessage, flag: str, now: datetime, text: str) -> None:
    """Set ``flag`` (phone_invalid, sms_opt_out, email_undeliverable) on the row's customers."""
    query = select(Customer)
    if row.channel == "sms":
        query = query.where((Customer.phone == row.recipient) | (Customer.id == (row.customer_id or -1)))
    else:
        query = query.where((Customer.email == row.recipient) | (Customer.id == (row.customer_id or -1)))
    from kefu.intake.bounces import mark_undeliverable

    for customer in session.scalars(query):
        if flag == "email_undeliverable":
            mark_undeliverable(customer, row.recipient, text)  # that address, not the customer's others
            continue
        setattr(customer, flag, True)
        if flag == "sms_opt_out" and customer.sms_opt_out_at is None:
            customer.sms_opt_out_at = now
        customer.data = {**(customer.data or {}), f"{flag}_reason": f"outbox row {row.id}: {text}"}


def tell_case(app: App, session: Any, row: OutboxRow | OutboxMessage, type_: str, reason: str) -> None:
    """Record ``type_`` on the row's case (where its owner sees it), isolated in a savepoint."""
    if row.case_id is None:
        return
    case = session.get(Case, row.case_id)
    if case is None:
        return
    from kefu.sla.cases import record_event

    try:
        with session.begin_nested():
            record_event(
                app.context(row.plugin, session),
                case,
                type_,
                reason=reason,
                data={"outbox_id": row.id, "channel": row.channel},
            )
    except Exception:  # the row's own outcome must be recorded even if the case hook misbehaves
        log.exception("could not record %s on case %s", type_, case.number)
