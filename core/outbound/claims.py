"""Claiming due outbox rows so each is sent by exactly one dispatcher.

A claim moves rows from ``queued`` to ``sending`` in one short transaction
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several daemons share the queue;
SQLite serialises writers with ``BEGIN IMMEDIATE``). Consent and quiet hours are
decided in the same transaction: such rows are skipped or held, never claimed.

A row left in ``sending`` by a dispatcher that died (kill -9, power cut) is
given back: at once when it was this node's previous process, else after
``[outbound] claim_timeout``. At most the one row that was on the wire when the
process died is therefore sent twice; every other claimed row was not sent yet.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from kefu.app import App
from kefu.db.base import table_of
from kefu.db.models import Case, Customer, OutboxMessage
from kefu.outbound.policy import quiet_until

_PROCESS_NONCE = secrets.token_hex(4)


def claim_token(app: App) -> str:
    """``node:pid:nonce`` of this process: what it writes into the rows it claims."""
    return f"{app.settings.kefu.node_name}:{os.getpid()}:{_PROCESS_NONCE}"


_TABLE = table_of(OutboxMessage)
# Built once: every dispatch run starts with it, and building the statement cost more than running it.
_RELEASE = (
    update(_TABLE)
    .where(
        _TABLE.c.state == "sending",
        or_(
            and_(_TABLE.c.claimed_by.like(bindparam("node_like"), escape="/"),
                 _TABLE.c.claimed_by != bindparam("token")),
            _TABLE.c.claimed_at < bindparam("stale_before", type_=_TABLE.c.claimed_at.type),
        ),
    )
    .values(state="queued", claimed_by=None, claimed_at=None)
)


def release_orphans(app: App, now: datetime) -> int:
    """Give back rows stuck in ``sending`` by a dead dispatcher; return how many."""
    node = app.settings.kefu.node_name.replace("/", "//").replace("%", "/%").replace("_", "/_")
    with app.engine.begin() as conn:
        result = conn.execute(_RELEASE, {"node_like": f"{node}:%", "token": claim_token(app),
                                         "stale_before": now - app.settings.outbound.claim_timeout})
        return int(result.rowcount or 0)


@dataclass(slots=True)
class OutboxRow:
    """A claimed outbox row as plain values: the dispatcher reads it, never the ORM.

    Building ORM instances (identity map, instance state, change tracking) for a
    batch cost more than the rest of the claim; the claim writes with Core UPDATEs.
    """

    id: int
    idem_key: str
    plugin: str
    case_id: int | None
    customer_id: int | None
    channel: str
    audience: str
    recipient: str
    recipient_name: str | None
    template: str
    subject: str | None
    body: str
    urgent: bool
    marketing: bool
    state: str
    created_at: datetime
    not_before: datetime
    attempts: int
    last_error: str | None
    provider_id: str | None
    message_id: str | None
    sent_at: datetime | None
    delivery_status: str | None
    claimed_by: str | None
    claimed_at: datetime | None
    data: dict[str, Any]


@dataclass(frozen=True)
class Claimed:
    """A claimed row and what the sender needs besides the row itself."""

    row: OutboxRow
    case_number: str | None


def claim_due(app: App, now: datetime, limit: int) -> tuple[list[Claimed], int]:
    """Claim up to ``limit`` due rows; return them and how many were skipped or held instead."""
    token = claim_token(app)
    # A Core connection, not a Session: the claim reads and writes plain values, and a
    # Session's setup was a good part of a claim's cost; one joins it only for customers.
    with app.engine.begin() as conn:
        query = _DUE_LOCKED if conn.dialect.name == "postgresql" else _DUE
        rows = [OutboxRow(*found) for found in conn.execute(query, {"now": now, "limit": limit})]
        if not rows:
            return [], 0
        customers, numbers = _Customers(by_id={}, by_phone={}), dict[int, str]()
        if any(r.customer_id or r.case_id for r in rows):
            with Session(bind=conn) as session:
                customers = _customers(session, rows)
                numbers = _case_numbers(session, rows)
        claimed: list[Claimed] = []
        skipped: list[dict[str, Any]] = []
        held: list[dict[str, Any]] = []
        for row in rows:
            reason = refusal(row, customers)
            if reason is not None:
                row.state, row.last_error = "skipped", reason
                skipped.append({"row_id": row.id, "reason": reason})
                continue
            until = hold_until(app, row, now)
            if until is not None:
                row.not_before = until
                row.data = {**(row.data or {}), "held": "quiet hours"}
                held.append({"row_id": row.id, "until": until, "data": row.data})
                continue
            row.state, row.claimed_by, row.claimed_at = "sending", token, now
            row.attempts = (row.attempts or 0) + 1
            claimed.append(Claimed(row=row, case_number=numbers.get(row.case_id or 0)))
        if claimed:
            conn.execute(_CLAIM, {"ids": [item.row.id for item in claimed], "token": token, "now": now})
        if skipped:
            conn.execute(_SKIP, skipped)
        if held:
            conn.execute(_HOLD, held)
        return claimed, len(skipped) + len(held)


# In OutboxRow's field order, so a column added to the table later cannot shift the values.
_COLUMNS = [_TABLE.c[field.name] for field in fields(OutboxRow)]
_DUE = (select(*_COLUMNS)
        .where(_TABLE.c.state == "queued", _TABLE.c.not_before <= bindparam("now"))
        .order_by(_TABLE.c.not_before, _TABLE.c.id)
        .limit(bindparam("limit")))
_DUE_LOCKED = _DUE.with_for_update(skip_locked=True)  # PostgreSQL: dispatchers share the queue
_CLAIM = (update(_TABLE).where(_TABLE.c.id.in_(bindparam("ids", expanding=True)))
          .values(state="sending", claimed_by=bindparam("token"),
                  claimed_at=bindparam("now", type_=_TABLE.c.claimed_at.type),
                  attempts=func.coalesce(_TABLE.c.attempts, 0) + 1))
_SKIP = (update(_TABLE).where(_TABLE.c.id == bindparam("row_id"))
         .values(state="skipped", last_error=bindparam("reason")))
_HOLD = (update(_TABLE).where(_TABLE.c.id == bindparam("row_id"))
         .values(not_before=bindparam("until"), data=bindparam("data", type_=_TABLE.c.data.type)))


def refusal(row: OutboxRow, customers: _Customers) -> str | None:
    """Why this customer row must not be sent (opt-out, known-bad address), or None."""
    if row.audience != "customer":
        return None
    if row.channel == "sms":
        for customer in customers.for_sms(row):
            if customer.sms_opt_out:
                when = f" on {customer.sms_opt_out_at:%Y-%m-%d}" if customer.sms_opt_out_at else ""
                kind = "marketing " if row.marketing else ""
                return f"not sent: the number opted out of SMS (退订){when}; no {kind}SMS to it"
            if customer.phone_invalid:
                return "not sent: the number is known to be invalid (an earlier send was refused)"
    if row.channel == "email":
        owner = customers.by_id.get(row.customer_id or 0)
        if owner is not None and row.recipient.strip().lower() in _undeliverable(owner):
            return "not sent: the address is known to be undeliverable (an earlier send bounced)"
    return None


def _undeliverable(customer: Customer) -> set[str]:
    """The customer's addresses that bounced: per address, so the others still get mail."""
    bad = {a.lower() for a in (customer.data or {}).get("undeliverable_emails") or []}
    if customer.email_undeliverable and customer.email:
        bad.add(customer.email.strip().lower())
    return bad


def hold_until(app: App, row: OutboxRow, now: datetime) -> datetime | None:
    """End of the customers' quiet hours when ``row`` is a non-urgent customer SMS sent inside them."""
    if row.channel != "sms" or row.audience != "customer" or row.urgent:
        return None
    cfg = app.settings.outbound.sms
    return quiet_until(now, cfg.quiet_start, cfg.quiet_end, app.settings.tz)


@dataclass
class _Customers:
    by_id: dict[int, Customer]
    by_phone: dict[str, list[Customer]]

    def for_sms(self, row: OutboxRow) -> list[Customer]:
        found = list(self.by_phone.get(row.recipient, []))
        own = self.by_id.get(row.customer_id or 0)
        if own is not None and own not in found and own.phone == row.recipient:
            found.append(own)
        return found


def _customers(session: Session, rows: list[OutboxRow]) -> _Customers:
    ids = {r.customer_id for r in rows if r.customer_id}
    phones = {r.recipient for r in rows if r.channel == "sms" and r.audience == "customer"}
    by_id: dict[int, Customer] = {}
    by_phone: dict[str, list[Customer]] = {}
    if ids:
        by_id = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    if phones:
        # The consent belongs to the number: any customer record holding it counts.
        for c in session.scalars(select(Customer).where(
                Customer.phone.in_(phones), or_(Customer.sms_opt_out, Customer.phone_invalid))):
            by_phone.setdefault(c.phone or "", []).append(c)
    return _Customers(by_id=by_id, by_phone=by_phone)


def _case_numbers(session: Session, rows: list[OutboxRow]) -> dict[int, str]:
    ids = {r.case_id for r in rows if r.case_id}
    if not ids:
        return {}
    return dict(session.execute(select(Case.id, Case.number).where(Case.id.in_(ids))).all())
