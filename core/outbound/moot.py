"""Cancelling queued messages a later event made pointless, and saying why a row waits.

A row queued with ``cancel_on`` (see :func:`kefu.outbound.outbox.queue_message`) names
the events of its case that make it moot: an acknowledgement is moot once the case is
resolved or closed, a callback question once the customer has answered it. When such
an event is recorded, :func:`cancel_moot` cancels the case's rows still ``queued`` with
the reason (a row already being sent goes out). Rows without a case (a fee reminder)
are cancelled by key with :func:`cancel_queued` when the event happens (a payment).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kefu.db.models import Case, CaseEvent, OutboxMessage

if TYPE_CHECKING:
    from kefu.context import PluginContext

# The events a row may name in ``cancel_on``: an event type, or the state the case moves to.
MOOT_TRIGGERS: dict[str, str] = {
    "callback_answered": "the customer already answered the callback",
    "resolved": "the case was resolved",
    "closed": "the case was closed",
}


def check_triggers(cancel_on: Iterable[str]) -> list[str]:
    """``cancel_on`` as a list; ValueError naming an event no case records."""
    names = list(cancel_on)
    unknown = [n for n in names if n not in MOOT_TRIGGERS]
    if unknown:
        raise ValueError(f"cancel_on: unknown event(s) {unknown}; known: {', '.join(MOOT_TRIGGERS)}")
    return names


def triggers_of(event: CaseEvent) -> list[str]:
    """The moot triggers ``event`` fires: its type and the state it moves the case to."""
    return [t for t in (event.type, event.to_state) if t in MOOT_TRIGGERS]


def cancel_moot(ctx: PluginContext, case: Case, event: CaseEvent) -> list[OutboxMessage]:
    """Cancel ``case``'s queued rows whose ``cancel_on`` names what ``event`` did; the rows cancelled."""
    triggers = triggers_of(event)
    if not triggers:
        return []
    rows = [
        row
        for row in ctx.db().scalars(
            select(OutboxMessage).where(OutboxMessage.case_id == case.id, OutboxMessage.state == "queued")
        )
        if set((row.data or {}).get("cancel_on") or ()) & set(triggers)
    ]
    if not rows:
        return []
    why = MOOT_TRIGGERS[next(t for t in triggers if any(t in (r.data or {}).get("cancel_on", ()) for r in rows))]
    reason = f"{why} before it went" + (f" ({event.reason})" if event.reason else "")
    _cancel(rows, reason, ctx.now())
    return rows


def cancel_queued(
    ctx: PluginContext, *, key_prefix: str, reason: str, matches: Callable[[str], bool] | None = None
) -> int:
    """Cancel the queued rows whose idempotency key starts with ``key_prefix`` (``heating/fee/2026/``)
    and, if given, ``matches`` (the key → True to cancel) with ``reason``; how many were cancelled."""
    rows = [
        row
        for row in ctx.db().scalars(
            select(OutboxMessage).where(
                OutboxMessage.state == "queued",
                OutboxMessage.idem_key.like(f"{_like_literal(key_prefix)}%", escape="/"),
            )
        )
        if matches is None or matches(row.idem_key)
    ]
    _cancel(rows, reason, ctx.now())
    return len(rows)


def _like_literal(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _cancel(rows: list[OutboxMessage], reason: str, now: datetime) -> None:
    for row in rows:
        row.state = "cancelled"
        row.data = {**(row.data or {}), "cancelled": reason, "cancelled_at": now.isoformat()}


def waiting(row: Any, now: datetime, tz: ZoneInfo) -> str:
    """Why an outbox row is where it is, and until when (for ``kefu outbox list``, case history)."""
    data = row.data or {}
    until = row.not_before.astimezone(tz)
    when = until.strftime("%H:%M") if until.date() == now.astimezone(tz).date() else until.strftime("%m-%d %H:%M")
    if row.state == "cancelled":
        return f"cancelled: {data.get('cancelled', 'no reason recorded')}"
    if row.state == "sending":
        return f"being sent by {row.claimed_by or 'a dispatcher'}"
    if row.state == "sent":
        return "sent" + (f" {row.sent_at.astimezone(tz):%m-%d %H:%M}" if row.sent_at else "")
    if row.state in ("failed", "dead", "skipped"):
        return row.last_error or row.state
    if row.not_before <= now:
        return "due: goes at the next dispatch"
    if row.last_error:
        return f"retry at {when} after: {row.last_error}"
    if data.get("held"):
        return f"held until {when} ({data['held']})"
    return f"waits until {when}"
