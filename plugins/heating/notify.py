"""Queueing the heating plugin's messages: to households by SMS, to staff by SMS and mail.

Every message has an idempotency key naming case (or campaign), rule, recipient and
channel, so a rerun of the same step queues nothing new.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kefu.api import Case, Customer, OutboxItem
from kefu.plugins.heating.config import Ctx
from kefu.plugins.heating.models import Household


def household_of(ctx: Ctx, case: Case) -> Household | None:
    """The household a case concerns (through its customer), or None."""
    if case.customer_id is None:
        return None
    return ctx.db().scalars(select(Household).where(Household.customer_id == case.customer_id)).one_or_none()


def case_context(ctx: Ctx, case: Case, **extra: Any) -> dict[str, Any]:
    """What every heating template may use about a case (no phone numbers: texts are logged)."""
    local = case.opened_at.astimezone(ctx.tz)
    data = case.data or {}
    return {
        "case_number": case.number,
        "title": case.title,
        "kind": case.kind,
        "own_kind": ctx.kind_of(case),
        "opened_at": local.strftime("%Y-%m-%d %H:%M"),
        "station": data.get("station_name") or data.get("station") or "",
        "address": data.get("address", ""),
        "site_name": ctx.site_name,
        **extra,
    }


def customer_sms(
    case: Case | None,
    customer: Customer,
    rule: str,
    template: str,
    context: dict[str, Any],
    *,
    urgent: bool = False,
    marketing: bool = False,
    key: str | None = None,
) -> OutboxItem | None:
    """One SMS to a household as an outbox item, or None if it has no usable number or opted out.

    Campaigns and outages collect these for one :func:`kefu.outbound.bulk.queue_many`
    call; the dispatcher enforces consent again at send time.
    """
    if not customer.phone or customer.sms_opt_out or customer.phone_invalid:
        return None
    if key is None and case is None:
        raise ValueError(f"an SMS of rule {rule!r} without a case needs its idempotency key")
    return OutboxItem(
        key=key or f"{case.number if case is not None else ''}/{rule}/{customer.ref or customer.id}/sms",
        channel="sms",
        recipient=customer.phone,
        recipient_name=customer.name or None,
        template=template,
        context=context,
        case=case,
        customer=customer,
        urgent=urgent,
        marketing=marketing,
    )


def sms_customer(
    ctx: Ctx,
    case: Case | None,
    customer: Customer,
    rule: str,
    template: str,
    context: dict[str, Any],
    *,
    urgent: bool = False,
    marketing: bool = False,
    key: str | None = None,
    cancel_on: tuple[str, ...] = (),
) -> bool:
    """Queue one SMS to a household unless it has no number or opted out; True if queued.

    ``cancel_on``: the case events that make it moot while it waits (see ``queue_message``).
    """
    item = customer_sms(case, customer, rule, template, context, urgent=urgent, marketing=marketing, key=key)
    if item is None:
        return False
    row = ctx.queue(
        key=item.key,
        channel=item.channel,
        recipient=item.recipient,
        recipient_name=item.recipient_name,
        template=item.template,
        context=item.context,
        case=item.case,
        customer=item.customer,
        urgent=item.urgent,
        marketing=item.marketing,
        cancel_on=cancel_on,
    )
    return row is not None


def mail_customer(
    ctx: Ctx,
    case: Case,
    customer: Customer,
    rule: str,
    template: str,
    context: dict[str, Any],
    *,
    cancel_on: tuple[str, ...] = (),
) -> bool:
    """Answer a case that came in by mail by mail too (the reply threads onto the case); True if queued."""
    if (case.data or {}).get("source") != "email" or not customer.email or customer.email_undeliverable:
        return False
    row = ctx.queue(
        key=f"{case.number}/{rule}/{customer.ref or customer.id}/email",
        channel="email",
        recipient=customer.email,
        recipient_name=customer.name or None,
        template=template,
        context=context,
        case=case,
        customer=customer,
        cancel_on=cancel_on,
    )
    return row is not None


def tell_staff(
    ctx: Ctx,
    staff_key: str,
    rule: str,
    template: str,
    context: dict[str, Any],
    *,
    case: Case | None = None,
    scope: str | None = None,
    urgent: bool = False,
    channels: tuple[str, ...] = ("sms", "email"),
) -> int:
    """Queue a message to a member of staff on each channel they have; how many were queued.

    A staff key missing from ``[staff.people]`` is logged, not raised: the case
    goes on and the log names the key to add.
    """
    person = ctx.people.get(staff_key)
    if person is None:
        ctx.log.warning("%s: staff %r is not in [staff.people]; %s not sent", ctx.name, staff_key, rule)
        return 0
    where = scope or (case.number if case is not None else ctx.name)
    queued = 0
    for channel in channels:
        address = person.phone if channel == "sms" else person.email
        if not address:
            continue
        row = ctx.queue(
            key=f"{where}/{rule}/{staff_key}/{channel}",
            channel=channel,
            recipient=address,
            recipient_name=person.name,
            template=f"{template}.txt",
            context={**context, "staff_name": person.name},
            case=case,
            audience="staff",
            urgent=urgent,
        )
        queued += row is not None
    return queued


def people_for(ctx: Ctx, target: str, unit: str | None = None) -> list[str]:
    """The staff keys a [staff] target (rota, role, person) means now; [] (logged) if unknown."""
    return ctx.reachable_staff(target, unit=unit)


def tell_target(ctx: Ctx, target: str, rule: str, template: str, context: dict[str, Any], **options: Any) -> list[str]:
    """Tell everyone a [staff] target means now (the station's person on duty …); who was told."""
    people = people_for(ctx, target)
    for key in people:
        tell_staff(ctx, key, rule, template, context, **options)
    return people
