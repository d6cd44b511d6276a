"""Messages to the desk's staff and to buyers, each keyed on scope, rule, person and channel."""

from __future__ import annotations

from typing import Any

from kefu.api import Case, Customer, mask
from kefu.plugins.ecommerce.config import Ctx


def people_for(ctx: Ctx, target: str) -> list[str]:
    """The staff keys a ``[staff]`` target means now; [] (logged) if unknown."""
    return ctx.reachable_staff(target)


def tell_role(
    ctx: Ctx,
    role: str,
    shop: str | None,
    scope: str,
    template: str,
    context: dict[str, Any],
    *,
    case: Case | None = None,
    urgent: bool = False,
    channels: tuple[str, ...] = ("sms", "email"),
) -> list[str]:
    """Tell everyone ``role`` (supervisor, packer …) of ``shop`` means now, once per ``scope``; keys queued."""
    return ctx.tell_staff(
        ctx.config.role(role, shop),
        scope=f"{ctx.name}/{scope}",
        template=template,
        context=context,
        case=case,
        urgent=urgent,
        channels=channels,
    )


def reply_to_buyer(ctx: Ctx, case: Case, rule: str, template: str, context: dict[str, Any]) -> str | None:
    """Answer the buyer on the channel they used (the case's ``source``: email or sms); the key queued."""
    data = case.data or {}
    customer = ctx.db().get(Customer, case.customer_id) if case.customer_id else None
    channel = "sms" if data.get("source") == "sms" else "email"
    if channel == "sms":
        recipient = (customer.phone if customer else None) or data.get("reply_to")
    else:
        recipient = data.get("reply_to") or (customer.email if customer else None)
    if not recipient:
        ctx.log.info("%s %s: no address to answer on %s", ctx.name, case.number, channel)
        return None
    key = f"{case.number}/{rule}/buyer/{channel}"
    row = ctx.queue(
        key=key,
        channel=channel,
        recipient=str(recipient),
        template=template,
        context={**context, "case_number": case.number, "site_name": ctx.site_name},
        case=case,
        customer=customer,
    )
    if row is None:
        return None
    ctx.log.info("%s %s: %s answered to %s", ctx.name, case.number, rule, mask(str(recipient)))
    return key


def mask_name(name: str) -> str:
    """A buyer's name or nick for logs and listings: 张三丰 → 张**, tb_abc123 → t*******3."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if all("\u4e00" <= c <= "\u9fff" for c in name):
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_address(address: str) -> str:
    """An address for logs and listings: the first 6 characters (province, city), the rest hidden."""
    address = (address or "").strip()
    return address[:6] + "****" if len(address) > 6 else "****" if address else ""
