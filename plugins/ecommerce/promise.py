"""The shipping promise (售前 ⑨): told to the buyer who asks, on the channel they used; an order not
shipped by its promised day escalates to the supervisor."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from kefu.api import Case
from kefu.plugins.ecommerce import kinds, rules
from kefu.plugins.ecommerce.config import Ctx
from kefu.plugins.ecommerce.models import Order
from kefu.plugins.ecommerce.notify import reply_to_buyer, tell_role


def answer(ctx: Ctx, case: Case, order: Order) -> str | None:
    """Tell the buyer when the order ships (or that it has), then close the question."""
    if order.print_state == rules.SHIPPED:
        context = {
            "order_no": order.order_no,
            "shipped": True,
            "carrier": order.carrier,
            "tracking_no": order.tracking_no,
        }
    else:
        context = {"order_no": order.order_no, "shipped": False, "promised_on": order.promised_on}
    key = reply_to_buyer(ctx, case, "promise", "promise.txt", {**context, "carrier": order.carrier})
    ctx.resolve(case, reason=f"已答复发货时间 {order.promised_on or order.tracking_no}")
    return key


def late_orders(ctx: Ctx, today: date) -> list[Order]:
    """Paid orders whose promised day is past and that have not shipped."""
    return list(
        ctx.db().scalars(
            select(Order)
            .where(Order.promised_on < today, Order.status == rules.PAID, Order.print_state != rules.SHIPPED)
            .order_by(Order.promised_on, Order.order_no)
        )
    )


def escalate_late(ctx: Ctx, today: date) -> int:
    """One 未按承诺发货 case per late order, given to the supervisor; how many opened."""
    seen = {
        (c.data or {}).get("order_id") for c in ctx.db().scalars(select(Case).where(Case.kind == ctx.kind(kinds.LATE)))
    }
    opened = 0
    for order in late_orders(ctx, today):
        if order.id in seen:
            continue
        case = ctx.open_case(
            kind=kinds.LATE,
            title=f"未按承诺发货 {order.order_no} (承诺 {order.promised_on})",
            unit=order.shop,
            data={"order_id": order.id, "order_no": order.order_no, "promised_on": str(order.promised_on)},
        )
        tell_role(
            ctx,
            "supervisor",
            order.shop,
            f"{case.number}/late",
            "late_escalation.txt",
            {"order_no": order.order_no, "promised_on": order.promised_on, "case_number": case.number},
            case=case,
        )
        opened += 1
    return opened
