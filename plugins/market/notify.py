"""Queueing the market's messages to staff: every one keyed on scope, rule, person and channel."""

from __future__ import annotations

from typing import Any

from kefu.api import Case, UnknownRecipient
from kefu.plugins.market.config import Ctx


def people_for(ctx: Ctx, target: str, unit: str | None = None) -> list[str]:
    """The staff keys a ``[staff]`` target means now; [] (logged) if unknown."""
    try:
        return ctx.staff_for(target, unit=unit)
    except UnknownRecipient as exc:
        ctx.log.error("%s: %s; nobody reached", ctx.name, exc)
        return []


def tell(
    ctx: Ctx,
    target: str,
    scope: str,
    template: str,
    context: dict[str, Any],
    *,
    case: Case | None = None,
    unit: str | None = None,
    urgent: bool = False,
    channels: tuple[str, ...] = ("sms", "email"),
) -> list[str]:
    """Tell everyone ``target`` means now, once per ``scope`` (the key's first part); the keys queued."""
    queued: list[str] = []
    for key in people_for(ctx, target, unit):
        person = ctx.person(key)
        if person is None:
            continue
        for channel in channels:
            address = person.phone if channel == "sms" else person.email
            if not address:
                continue
            idem = f"{ctx.name}/{scope}/{key}/{channel}"
            row = ctx.queue(
                key=idem,
                channel=channel,
                recipient=address,
                recipient_name=person.name,
                template=template,
                context={**context, "staff_name": person.name, "site_name": ctx.site_name},
                case=case,
                audience="staff",
                urgent=urgent,
            )
            if row is not None:
                queued.append(idem)
    return queued
