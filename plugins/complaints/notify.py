"""Who is told: the customer of a case, and the holders of a role in a project.

Every message goes through the core outbox (``queue_message``) with an
idempotency key naming case, rule, recipient and channel, so a retried hook or a
rerun job never queues it twice. Templates live in ``templates/`` and are named
``complaints/<rule>.<channel>.j2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from kefu.api import Case, Customer, OutboxItem, OutboxMessage, RotaShift
from kefu.plugins.complaints.config import Ctx

# What makes a queued message to the customer moot before it goes: an ack once the case is
# done, a callback question once the customer has answered it or the case is closed.
ACK_MOOT = ("resolved", "closed")
CALLBACK_MOOT = ("callback_answered", "closed")


@dataclass(frozen=True)
class StaffContact:
    """A member of staff as configured in ``[staff.people]``."""

    key: str
    name: str
    email: str | None
    phone: str | None


def role_holders(ctx: Ctx, project: str | None, role: str) -> list[StaffContact]:
    """The people holding ``role`` for ``project`` now: listed people, or who is on duty in a rota."""
    cfg = ctx.config
    people = ctx.people
    keys: list[str] = []
    for holder in cfg.roles_for(project).holders(role):
        if holder in people:
            keys.append(holder)
            continue
        now = ctx.now()
        on_duty = ctx.db().scalars(
            select(RotaShift.staff_key).where(
                RotaShift.rota == holder, RotaShift.starts_at <= now, RotaShift.ends_at > now
            )
        )
        keys.extend(on_duty)
    seen: dict[str, StaffContact] = {}
    for key in keys:
        person = people.get(key)
        if person is not None and key not in seen:
            seen[key] = StaffContact(key, person.name, person.email, person.phone)
    return list(seen.values())


def tell_customer(
    ctx: Ctx,
    case: Case,
    rule: str,
    context: dict[str, Any],
    *,
    channels: tuple[str, ...] = ("sms", "email"),
    urgent: bool | None = None,
    key_suffix: str = "",
    cancel_on: tuple[str, ...] = (),
) -> list[OutboxMessage]:
    """Queue ``rule``'s template to the case's customer on each channel they can be reached on.

    ``cancel_on``: the case events that make it moot while it waits (see ``queue_message``).
    """
    if case.customer_id is None:
        return []
    customer = ctx.db().get(Customer, case.customer_id)
    if customer is None:
        return []
    return tell(
        ctx,
        customer,
        rule,
        context,
        case=case,
        channels=channels,
        urgent=case.urgent if urgent is None else urgent,
        key=f"{case.number}/{rule}{key_suffix}/customer",
        cancel_on=cancel_on,
    )


def tell(
    ctx: Ctx,
    customer: Customer,
    rule: str,
    context: dict[str, Any],
    *,
    key: str,
    case: Case | None = None,
    channels: tuple[str, ...] = ("sms", "email"),
    urgent: bool = False,
    cancel_on: tuple[str, ...] = (),
) -> list[OutboxMessage]:
    """Queue ``rule``'s template to one customer, once per channel under ``key``."""
    queued = []
    for channel in channels:
        address = customer.phone if channel == "sms" else customer.email
        if not address:
            continue
        row = ctx.queue(
            key=f"{key}/{channel}",
            channel=channel,
            recipient=address,
            template=f"{rule}.txt",
            context={"customer_name": customer.name, **context},
            case=case,
            customer=customer,
            recipient_name=customer.name,
            urgent=urgent,
            cancel_on=cancel_on,
        )
        if row is not None:
            queued.append(row)
    return queued


def tell_items(
    customer: Customer, rule: str, context: dict[str, Any], *, key: str, channels: tuple[str, ...] = ("sms", "email")
) -> list[OutboxItem]:
    """What :func:`tell` would queue, as items for the core's bulk ``queue_many`` (campaign jobs)."""
    return [
        OutboxItem(
            key=f"{key}/{channel}",
            channel=channel,
            recipient=address,
            template=f"{rule}.txt",
            context={"customer_name": customer.name, **context},
            customer=customer,
            recipient_name=customer.name,
        )
        for channel in channels
        if (address := customer.phone if channel == "sms" else customer.email)
    ]


def tell_role(
    ctx: Ctx,
    project: str | None,
    role: str,
    rule: str,
    context: dict[str, Any],
    *,
    key: str,
    case: Case | None = None,
    urgent: bool = False,
    not_before: datetime | None = None,
) -> list[OutboxMessage]:
    """Queue ``rule``'s staff template to every holder of ``role`` in ``project`` (email, else SMS).

    Nobody configured for the role is logged as a warning naming the config key,
    never a silent drop.
    """
    holders = role_holders(ctx, project, role)
    if not holders:
        ctx.log.warning(
            "nobody holds role %r for project %r: set [complaints.projects.%s.roles] %s or "
            "[complaints.roles] %s; %s not sent",
            role,
            project,
            project,
            role,
            role,
            rule,
        )
    queued = []
    for person in holders:
        channel, address = ("email", person.email) if person.email else ("sms", person.phone)
        if not address:
            continue
        row = ctx.queue(
            key=f"{key}/{person.key}/{channel}",
            channel=channel,
            recipient=address,
            template=f"{rule}.txt",
            context={"staff_name": person.name, "role": role, "project": project or "", **context},
            case=case,
            audience="staff",
            recipient_name=person.name,
            urgent=urgent,
            not_before=not_before,
        )
        if row is not None:
            queued.append(row)
    return queued


def case_context(case: Case) -> dict[str, Any]:
    """What every template about a case may use."""
    return {
        "case_number": case.number,
        "title": case.title,
        "project": case.unit or "",
        "home": case.data.get("home", ""),
        "step": case.step or "",
    }
