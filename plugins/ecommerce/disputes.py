"""Refunds and disputes (主管每日查看店铺退款中以及维权中的订单): the daily digest sorted by the
platform's own deadlines, and disputes escalated when untouched or close to a deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select

from kefu.api import Case
from kefu.plugins.ecommerce import kinds
from kefu.plugins.ecommerce.config import Ctx
from kefu.plugins.ecommerce.models import AfterSalesEntry, Order
from kefu.plugins.ecommerce.notify import mask_name, tell_role
from kefu.plugins.ecommerce.orders import is_dispute

DONE_REFUND = ("退款成功", "退款关闭", "")
NO_RETURN_TRACKING = "需退货未填退货单号"
BACK_NOT_REFUNDED = "货已退回未退款"
_FAR = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DigestRow:
    """One order of the digest: its group, platform deadline and flags; the buyer masked."""

    shop: str
    order_no: str
    refund_status: str
    dispute_state: str
    deadline: datetime | None
    flags: tuple[str, ...]
    buyer: str


def _deadline(order: Order) -> datetime | None:
    times = [t for t in (order.proof_deadline, order.refund_deadline) if t is not None]
    return min(times) if times else None


def digest_rows(ctx: Ctx) -> list[DigestRow]:
    """Orders in refund (退款中) or dispute (维权中), nearest platform deadline first, with the two flags."""
    session = ctx.db()
    orders = session.scalars(
        select(Order).where(or_(Order.refund_status.not_in(DONE_REFUND), Order.dispute_state != ""))
    )
    back = {
        e.order_id
        for e in session.scalars(
            select(AfterSalesEntry).where(
                AfterSalesEntry.received_at.is_not(None), AfterSalesEntry.refunded_at.is_(None)
            )
        )
    }
    rows = []
    for o in orders:
        if o.refund_status in DONE_REFUND and not is_dispute(o.dispute_state):
            continue
        flags = []
        if o.needs_return and not o.return_tracking:
            flags.append(NO_RETURN_TRACKING)
        if o.id in back or ("已收到退货" in o.goods_status and o.refund_status != "退款成功"):
            flags.append(BACK_NOT_REFUNDED)
        rows.append(
            DigestRow(
                o.shop, o.order_no, o.refund_status, o.dispute_state, _deadline(o), tuple(flags), mask_name(o.buyer)
            )
        )
    rows.sort(key=lambda r: (r.deadline or _FAR, r.shop, r.order_no))
    return rows


def send_digest(ctx: Ctx, day: str) -> int:
    """The digest to after-sales and the supervisor, once per day; rows in it."""
    rows = digest_rows(ctx)
    if not rows:
        return 0
    # Groups come in the order of their most urgent row (the rows are sorted by deadline already).
    groups: dict[str, list[dict[str, object]]] = {}
    for r in rows:
        groups.setdefault(f"{r.refund_status or '—'} / {r.dispute_state or '无客服介入'}", []).append(_row(ctx, r))
    context = {"day": day, "rows": [_row(ctx, r) for r in rows], "groups": groups, "count": len(rows)}
    for role in ("aftersales", "supervisor"):
        tell_role(ctx, role, None, f"digest/{day}/{role}", "digest.txt", context, channels=("email",))
    return len(rows)


def _row(ctx: Ctx, r: DigestRow) -> dict[str, object]:
    return {
        "shop": r.shop,
        "order_no": r.order_no,
        "refund_status": r.refund_status,
        "dispute_state": r.dispute_state,
        "deadline": r.deadline.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M") if r.deadline else "—",
        "flags": "、".join(r.flags),
        "buyer": r.buyer,
    }


def open_dispute(ctx: Ctx, order: Order) -> Case | None:
    """A dispute (客服介入) opens its case once per order; its clock starts now."""
    existing = ctx.db().scalars(
        select(Case).where(Case.kind == ctx.kind(kinds.DISPUTE), Case.state.not_in(("resolved", "closed")))
    )
    if any((c.data or {}).get("order_id") == order.id for c in existing):
        return None
    order.dispute_touched_at = order.dispute_touched_at or ctx.now()
    case = ctx.open_case(
        kind=kinds.DISPUTE,
        title=f"维权 {order.order_no} {order.dispute_state}",
        unit=order.shop,
        data={"order_id": order.id, "order_no": order.order_no},
    )
    return case


def touch(ctx: Ctx, order: Order, by: str, note: str = "") -> None:
    """Staff acted on the dispute: its 'untouched' clock starts again."""
    order.dispute_touched_at = ctx.now()
    for case in ctx.db().scalars(
        select(Case).where(Case.kind == ctx.kind(kinds.DISPUTE), Case.state.not_in(("resolved", "closed")))
    ):
        if (case.data or {}).get("order_id") == order.id:
            ctx.record_event(case, "note", actor=by, reason=note or "已处理维权")


def escalate(ctx: Ctx, now: datetime) -> list[str]:
    """Disputes untouched for ``untouched`` (24 h) or within ``before_deadline`` of the platform's
    deadline → the supervisor, once per dispute, reason and day; the keys queued."""
    cfg = ctx.config.disputes
    queued: list[str] = []
    for case in ctx.db().scalars(
        select(Case).where(Case.kind == ctx.kind(kinds.DISPUTE), Case.state.not_in(("resolved", "closed")))
    ):
        order = ctx.db().get(Order, (case.data or {}).get("order_id"))
        if order is None:
            continue
        if not is_dispute(order.dispute_state):
            # The platform closed the arbitration (客服已处理, 不需要客服介入): the case ends with it.
            ctx.resolve(case, reason=f"客服介入状态: {order.dispute_state or '无'}")
            continue
        touched = order.dispute_touched_at or case.opened_at
        deadline = _deadline(order)
        reasons = []
        if now - touched >= cfg.untouched:
            reasons.append(("untouched", f"已 {int((now - touched).total_seconds() // 3600)} 小时无人处理"))
        if deadline is not None and deadline - now <= cfg.before_deadline:
            reasons.append(("deadline", f"距平台截止 {deadline.astimezone(ctx.tz):%m-%d %H:%M} 不足"))
        day = now.astimezone(ctx.tz).date().isoformat()
        for code, text in reasons:
            queued += tell_role(
                ctx,
                "supervisor",
                order.shop,
                f"{case.number}/escalate/{code}/{day}",
                "dispute_escalation.txt",
                {"order_no": order.order_no, "case_number": case.number, "why": text, "state": order.dispute_state},
                case=case,
                urgent=True,
            )
    return queued
