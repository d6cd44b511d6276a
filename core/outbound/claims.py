"""Claiming due outbox rows so each is sent by exactly one dispatcher.

A claim moves rows from ``queued`` to ``sending`` in one short transaction
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several daemons share the queue;
SQLite serialises writers with ``BEGIN IMMEDIATE``). Consent and quiet hours are
decided in the same transaction: such rows are skipped or held, never claimed.

Every claim names the claiming process (:mod:`kefu.identity`, unique per process
whatever ``node_name`` says) and carries a lease, ``lease_until``: the dispatcher
renews it while it works through its batch (:class:`LeaseKeeper`), and a row is
taken over by another dispatcher only once its lease has expired — or at once when
its claimant provably died (a process of this kernel and PID namespace that no
longer exists). A live daemon's claims are never taken, even under the same
``node_name``. At most the one row that was on the wire when a process died is
therefore sent twice; every other claimed row was not sent yet.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from kefu import identity
from kefu.app import App
from kefu.db.base import table_of
from kefu.db.models import Case, Customer, OutboxMessage
from kefu.outbound.policy import quiet_until


def claim_token(app: App) -> str:
    """This process's identity token: what it writes into the rows it claims."""
    return identity.current(app.settings.kefu.node_name).token


def lease_length(app: App) -> timedelta:
    """How long a claim holds without renewal (``[outbound] claim_timeout``)."""
    return app.settings.outbound.claim_timeout


_TABLE = table_of(OutboxMessage)
_WHEN = _TABLE.c.claimed_at.type
# Built once: every dispatch run starts with them, and building a statement cost more than running it.
_EXPIRED = (
    update(_TABLE)
    .where(
        _TABLE.c.state == "sending",
        or_(
            _TABLE.c.lease_until < bindparam("now", type_=_WHEN),
            # A claim written before leases existed: its claim time and the lease length.
            and_(_TABLE.c.lease_until.is_(None), _TABLE.c.claimed_at < bindparam("stale_before", type_=_WHEN)),
        ),
    )
    .values(state="queued", claimed_by=None, claimed_at=None, lease_until=None)
)
_CLAIMANTS = select(_TABLE.c.claimed_by).where(_TABLE.c.state == "sending").distinct()
_OF_DEAD = (
    update(_TABLE)
    .where(_TABLE.c.state == "sending", _TABLE.c.claimed_by.in_(bindparam("dead", expanding=True)))
    .values(state="queued", claimed_by=None, claimed_at=None, lease_until=None)
)
_RENEW = (
    update(_TABLE)
    .where(_TABLE.c.state == "sending", _TABLE.c.claimed_by == bindparam("token"))
    .values(lease_until=bindparam("until", type_=_WHEN))
)
_GIVE_BACK = (
    update(_TABLE)
    .where(
        _TABLE.c.state == "sending",
        _TABLE.c.claimed_by == bindparam("token"),
        _TABLE.c.id.in_(bindparam("ids", expanding=True)),
    )
    # The claim's attempt is returned: the row was never tried.
    .values(state="queued", claimed_by=None, claimed_at=None, lease_until=None, attempts=_TABLE.c.attempts - 1)
)
_HELD = select(_TABLE.c.id).where(_TABLE.c.state == "sending", _TABLE.c.claimed_by == bindparam("token"))


def release_orphans(app: App, now: datetime) -> int:
    """Give back rows whose claim's lease expired, or whose claimant provably died; return how many."""
    me = identity.current(app.settings.kefu.node_name)
    with app.engine.begin() as conn:
        result = conn.execute(_EXPIRED, {"now": now, "stale_before": now - lease_length(app)})
        released = int(result.rowcount or 0)
        dead = [token for token in conn.scalars(_CLAIMANTS) if token and identity.provably_dead(token, me)]
        if dead:
            released += int(conn.execute(_OF_DEAD, {"dead": dead}).rowcount or 0)
        return released


def give_back(app: App, ids: set[int]) -> int:
    """Queue again the rows of ``ids`` this process claimed and never sent; return how many."""
    with app.engine.begin() as conn:
        result = conn.execute(_GIVE_BACK, {"token": claim_token(app), "ids": sorted(ids)})
        return int(result.rowcount or 0)


class LeaseKeeper:
    """Renews this process's leases while a dispatch run works through what it claimed.

    :meth:`tick` is called between rows; it writes only when a third of the lease
    has passed since the last renewal. When a lease may have lapsed meanwhile (a
    send that hung for longer than the rest of it), the rows another dispatcher
    took over are reported so that they are not sent a second time.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self.token = claim_token(app)
        self.length = lease_length(app)
        self.renewed = app.clock.now()  # every claim of the run is at least this fresh

    def claimed(self, now: datetime) -> None:
        """A batch was just claimed at ``now`` (its lease starts then)."""
        self.renewed = now

    def due(self, now: datetime) -> bool:
        """True when a third of the lease has passed since the last renewal."""
        return now - self.renewed >= self.length / 3

    def tick(self, now: datetime) -> set[int] | None:
        """Renew when due; return the ids this process still holds if its lease may have lapsed."""
        if not self.due(now):
            return None
        lapsed = now - self.renewed >= self.length
        with self.app.engine.begin() as conn:
            conn.execute(_RENEW, {"token": self.token, "until": now + self.length})
            held = set(conn.scalars(_HELD, {"token": self.token})) if lapsed else None
        self.renewed = now
        return held


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
    lease_until: datetime | None
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
            row.lease_until = now + lease_length(app)
            row.attempts = (row.attempts or 0) + 1
            claimed.append(Claimed(row=row, case_number=numbers.get(row.case_id or 0)))
        if claimed:
            conn.execute(
                _CLAIM,
                {
                    "ids": [item.row.id for item in claimed],
                    "token": token,
                    "now": now,
                    "until": now + lease_length(app),
                },
            )
        if skipped:
            conn.execute(_SKIP, skipped)
        if held:
            conn.execute(_HOLD, held)
        return claimed, len(skipped) + len(held)


# In OutboxRow's field order, so a column added to the table later cannot shift the values.
_COLUMNS = [_TABLE.c[field.name] for field in fields(OutboxRow)]
_DUE = (
    select(*_COLUMNS)
    .where(_TABLE.c.state == "queued", _TABLE.c.not_before <= bindparam("now"))
    .order_by(_TABLE.c.not_before, _TABLE.c.id)
    .limit(bindparam("limit"))
)
_DUE_LOCKED = _DUE.with_for_update(skip_locked=True)  # PostgreSQL: dispatchers share the queue
_CLAIM = (
    update(_TABLE)
    .where(_TABLE.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        state="sending",
        claimed_by=bindparam("token"),
        claimed_at=bindparam("now", type_=_TABLE.c.claimed_at.type),
        lease_until=bindparam("until", type_=_TABLE.c.lease_until.type),
        attempts=func.coalesce(_TABLE.c.attempts, 0) + 1,
    )
)
_SKIP = update(_TABLE).where(_TABLE.c.id == bindparam("row_id")).values(state="skipped", last_error=bindparam("reason"))
_HOLD = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(not_before=bindparam("until"), data=bindparam("data", type_=_TABLE.c.data.type))
)


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
        for c in session.scalars(
            select(Customer).where(Customer.phone.in_(phones), or_(Customer.sms_opt_out, Customer.phone_invalid))
        ):
            by_phone.setdefault(c.phone or "", []).append(c)
    return _Customers(by_id=by_id, by_phone=by_phone)


def _case_numbers(session: Session, rows: list[OutboxRow]) -> dict[int, str]:
    ids = {r.case_id for r in rows if r.case_id}
    if not ids:
        return {}
    return dict(session.execute(select(Case.id, Case.number).where(Case.id.in_(ids))).all())
