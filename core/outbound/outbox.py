"""Queueing notifications in the outbox, in the transaction of the change that causes them.

(First cut, written so the other areas can build on the API; issue 5 adds
rendering, consent, quiet hours and the dispatcher.)
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kefu.db.models import Case, Customer, OutboxMessage

if TYPE_CHECKING:
    from kefu.context import PluginContext


def queue_message(
    ctx: PluginContext,
    *,
    key: str,
    channel: str,
    recipient: str,
    template: str,
    context: dict[str, Any] | None = None,
    case: Case | None = None,
    customer: Customer | None = None,
    audience: str = "customer",
    recipient_name: str | None = None,
    urgent: bool = False,
    marketing: bool = False,
    not_before: datetime | None = None,
) -> OutboxMessage | None:
    """Queue one message unless a row with the same idempotency ``key`` exists (then None).

    ``key`` names the case, rule, step, recipient and channel, e.g.
    ``"HT-2026-000123/ack/customer/sms"``.
    """
    session = ctx.db()
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.idem_key == key)) is not None:
        return None
    now = ctx.now()
    row = OutboxMessage(
        idem_key=key,
        plugin=ctx.name,
        case_id=case.id if case is not None else None,
        customer_id=customer.id if customer is not None else (case.customer_id if case else None),
        channel=channel,
        audience=audience,
        recipient=recipient,
        recipient_name=recipient_name,
        template=template,
        urgent=urgent,
        marketing=marketing,
        created_at=now,
        not_before=not_before or now,
        data={"context": context or {}},
    )
    session.add(row)
    session.flush()
    return row
