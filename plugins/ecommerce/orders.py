"""Order events (a file row or a push) applied to the orders table: keyed by shop + order number,
never duplicated, and never moved backwards by an older event (an export taken before the
last push, a resent file). The shipping promise is fixed when the order is first seen paid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from kefu.plugins.ecommerce import rules
from kefu.plugins.ecommerce.config import Ctx
from kefu.plugins.ecommerce.models import Order

# Plain fields an event may carry, copied as given when present.
TEXT_FIELDS = (
    "buyer",
    "receiver",
    "phone",
    "address",
    "buyer_message",
    "carrier",
    "tracking_no",
    "refund_no",
    "refund_status",
    "goods_status",
    "dispute_state",
    "return_tracking",
)
TIME_FIELDS = ("paid_at", "refund_deadline", "proof_deadline")
# 客服介入 states that make a row a dispute (维权中).
DISPUTE_WORDS = ("需要客服介入", "客服介入中", "维权中", "待举证", "举证中")


def is_dispute(state: str) -> bool:
    """A 客服介入状态 that means the platform is arbitrating (not 不需要客服介入 / 客服已处理)."""
    return any(word in state for word in DISPUTE_WORDS) and not state.startswith("不需要")


@dataclass
class OrderEvent:
    """What one row or push says of an order; None means 'not said' and changes nothing."""

    shop: str
    order_no: str
    status: str | None = None
    print_state: str | None = None
    event_at: datetime | None = None
    in_stock: bool | None = None
    needs_return: bool | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Applied:
    """The order after an event, and what the event did."""

    order: Order
    outcome: str  # created, updated, unchanged
    newly_paid: bool = False
    new_dispute: bool = False


def ship_day_test(ctx: Ctx, shop: str) -> Callable[[date], bool]:
    """Whether a day is a shipping day of ``shop`` (working days of [calendar] unless every_day)."""
    spec = ctx.config.shops.get(shop)
    if spec is not None and spec.ships_on == "every_day":
        return lambda _day: True
    calendar = ctx.calendar
    cache: dict[date, bool] = {}

    def ships(day: date) -> bool:
        if day not in cache:
            cache[day] = calendar.is_working_day(day)
        return cache[day]

    return ships


class Applier:
    """Applies events to orders of one transaction, with the shipping-day test cached per shop."""

    def __init__(self, ctx: Ctx, source: str = "import") -> None:
        self.ctx = ctx
        self.source = source
        self.now = ctx.now()
        self._ships: dict[str, Callable[[date], bool]] = {}

    def promise(self, order: Order) -> date | None:
        """The promised shipping day of a paid order (售前 ⑨), in the shop's calendar."""
        if order.paid_at is None:
            return None
        if order.shop not in self._ships:
            self._ships[order.shop] = ship_day_test(self.ctx, order.shop)
        local = order.paid_at.astimezone(self.ctx.tz)
        return rules.promised_day(local, order.in_stock, self.ctx.config.cutoff_of(order.shop), self._ships[order.shop])

    def apply(self, order: Order | None, ev: OrderEvent) -> Applied:
        """Create the order or bring it forward; a stale event leaves it as it is."""
        if order is None:
            order = Order(
                shop=ev.shop,
                order_no=ev.order_no,
                status=ev.status or rules.PAID,
                print_state=ev.print_state or rules.NOT_PRINTED,
                in_stock=True if ev.in_stock is None else ev.in_stock,
                needs_return=bool(ev.needs_return),
                event_at=ev.event_at,
                source=self.source,
                updated_at=self.now,
                **{k: ev.values.get(k, "") for k in TEXT_FIELDS},
                **{k: ev.values.get(k) for k in TIME_FIELDS},
            )
            if order.print_state == rules.SHIPPED and order.status in (rules.UNPAID, rules.PAID):
                order.status = rules.SHIPPED_STATUS
            self._promise_if_due(order)
            return Applied(order, "created", order.promised_on is not None, is_dispute(order.dispute_state))
        if rules.is_stale(order.event_at, ev.event_at):
            return Applied(order, "unchanged")
        was_dispute = is_dispute(order.dispute_state)
        changes: dict[str, Any] = {
            "status": rules.merged_status(order.status, ev.status),
            "print_state": rules.merged_print_state(order.print_state, ev.print_state),
        }
        if changes["print_state"] == rules.SHIPPED and changes["status"] in (rules.UNPAID, rules.PAID):
            changes["status"] = rules.SHIPPED_STATUS
        if ev.in_stock is not None:
            changes["in_stock"] = ev.in_stock
        if ev.needs_return is not None:
            changes["needs_return"] = ev.needs_return
        for key in (*TEXT_FIELDS, *TIME_FIELDS):
            if key in ev.values and ev.values[key] not in (None, ""):
                changes[key] = ev.values[key]
        if ev.event_at is not None and (order.event_at is None or ev.event_at > order.event_at):
            changes["event_at"] = ev.event_at
        changed = False
        for key, value in changes.items():
            if getattr(order, key) != value:
                setattr(order, key, value)
                changed = True
        if not changed:
            return Applied(order, "unchanged")
        order.updated_at = self.now
        had_promise = order.promised_on is not None
        self._promise_if_due(order)
        return Applied(
            order,
            "updated",
            newly_paid=not had_promise and order.promised_on is not None,
            new_dispute=is_dispute(order.dispute_state) and not was_dispute,
        )

    def _promise_if_due(self, order: Order) -> None:
        if order.promised_on is None and order.status == rules.PAID and order.print_state != rules.SHIPPED:
            order.promised_on = self.promise(order)


def find_order(ctx: Ctx, order_no: str, shop: str | None = None) -> Order | None:
    """The order with this number (in ``shop``, or the only one with it)."""
    query = select(Order).where(Order.order_no == order_no.strip())
    if shop:
        query = query.where(Order.shop == shop)
    found = list(ctx.db().scalars(query.limit(2)))
    return found[0] if len(found) == 1 else None
