"""Queueing the market's messages to staff: every one keyed on scope, rule, person and channel."""

from __future__ import annotations

from typing import Any

from kefu.api import Case
from kefu.plugins.market.config import Ctx


def people_for(ctx: Ctx, target: str, unit: str | None = None) -> list[str]:
    """The staff keys a ``[staff]`` target means now; [] (logged) if unknown."""
    return ctx.reachable_staff(target, unit=unit)


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
    return ctx.tell_staff(
        target,
        scope=f"{ctx.name}/{scope}",
        template=template,
        context=context,
        case=case,
        unit=unit,
        urgent=urgent,
        channels=channels,
    )
