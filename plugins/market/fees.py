"""应收尽收: the daily reminder ladder of every unpaid ledger line, the overdue lists, the 30-day escalation.

Every reminder is an outbox row keyed ``<plugin>/fee/<line id>/<step>/<channel>``, so a
step goes out once per line whatever re-runs or restarts happen; a settled line is
not selected, so a payment stops its ladder at once. No step ever cuts power or
water to force payment: 民法典 art. 944 forbids it; the ladder only reminds,
gives a reasonable period to pay, and escalates to people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from kefu.api import OPEN_STATES, Case, Customer, OutboxItem
from kefu.plugins.market import kinds, ladder
from kefu.plugins.market.config import Ctx
from kefu.plugins.market.models import FeeLine, Shop
from kefu.plugins.market.notify import tell


@dataclass(frozen=True)
class LadderRun:
    """What one run of the ladder did."""

    reminders: int
    escalated: int
    watch_alerts: int


def _money(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


def unpaid_lines(ctx: Ctx, until: date) -> list[tuple[FeeLine, Shop, Customer]]:
    """Unsettled lines due on or before ``until``, with their shop and tenant, by shop then due date."""
    rows = (
        ctx.db()
        .execute(
            select(FeeLine, Shop, Customer)
            .join(Shop, Shop.shop_no == FeeLine.shop_no)
            .join(Customer, Customer.id == Shop.customer_id)
            .where(FeeLine.paid < FeeLine.amount, FeeLine.due_on <= until)
            .order_by(FeeLine.shop_no, FeeLine.due_on, FeeLine.id)
        )
        .all()
    )
    return [(f, s, c) for f, s, c in rows]


def _context(ctx: Ctx, line: FeeLine, shop: Shop, cust: Customer, step: str, today: date) -> dict[str, object]:
    fees = ctx.config.fees
    label = fees.kinds.get(line.kind, line.kind)
    pay_by = today + timedelta(days=max(1, round(fees.pay_within.total_seconds() / 86400)))
    return {
        "tenant": cust.name or shop.tenant,
        "shop_no": shop.shop_no,
        "floor": shop.floor,
        "step": step,
        "items": [
            {
                "kind": label,
                "period": line.period,
                "amount": _money(line.amount),
                "paid": _money(line.paid),
                "owed": _money(line.owed),
                "due_on": line.due_on.isoformat(),
            }
        ],
        "kind": label,
        "period": line.period,
        "owed": _money(line.owed),
        "due_on": line.due_on.isoformat(),
        "days_overdue": ladder.days_overdue(line.due_on, today),
        "notice_date": today.isoformat(),
        "pay_by": pay_by.isoformat(),
        "site_name": ctx.site_name,
    }


def reminder_items(ctx: Ctx, today: date) -> list[OutboxItem]:
    """The SMS and 催缴通知书 of the step each unpaid line stands on ``today``."""
    fees = ctx.config.fees
    items: list[OutboxItem] = []
    for line, shop, cust in unpaid_lines(ctx, ladder.first_day(fees, today)):
        step = ladder.step_on(line.due_on, today, fees)
        if step is None:
            continue
        prefix = f"{ctx.name}/fee/{line.id}/{step}"
        context = _context(ctx, line, shop, cust, step, today)
        if cust.phone and not cust.phone_invalid:
            items.append(
                OutboxItem(
                    key=f"{prefix}/sms",
                    channel="sms",
                    recipient=cust.phone,
                    recipient_name=cust.name or None,
                    template="fee_reminder.txt",
                    context=context,
                    customer=cust,
                )
            )
        if fees.letter:
            items.append(
                OutboxItem(
                    key=f"{prefix}/letter",
                    channel="letter",
                    recipient=cust.name or shop.tenant,
                    recipient_name=cust.name or None,
                    address=f"{ctx.site_name} {shop.floor} {shop.shop_no} 号商铺",
                    template="fee_notice.html",
                    context=context,
                    customer=cust,
                )
            )
    return items


def run_ladder(ctx: Ctx, today: date) -> LadderRun:
    """Queue today's reminders, escalate lines 30 d overdue, alert on watch-list tenants' overdue fees."""
    # One INSERT … ON CONFLICT DO NOTHING per 500 rows; keys already queued (a re-run) are skipped unrendered.
    queued = len(ctx.queue_many(reminder_items(ctx, today)))
    escalated = watch = 0
    for line, shop, cust in unpaid_lines(ctx, today - timedelta(days=1)):
        if shop.watch:
            watch += bool(
                tell(
                    ctx,
                    ctx.config.market_manager,
                    f"watch/fee/{line.id}",
                    "watch_overdue.txt",
                    _context(ctx, line, shop, cust, "overdue", today),
                    urgent=True,
                )
            )
        if line.escalated_case_id is None and ladder.escalates(line.due_on, today, ctx.config.fees):
            _escalate(ctx, line, shop, cust, today)
            escalated += 1
    ctx.log.info("%s: fee ladder %s: %d reminders, %d escalated", ctx.name, today, queued, escalated)
    return LadderRun(queued, escalated, watch)


def _escalate(ctx: Ctx, line: FeeLine, shop: Shop, cust: Customer, today: date) -> Case:
    """The line is 30 d overdue: a case for the market manager, who is told at once."""
    cfg = ctx.config
    owners = ctx.staff_for(cfg.market_manager)
    context = _context(ctx, line, shop, cust, "escalated", today)
    case = ctx.open_case(
        kind=f"{ctx.name}.{kinds.ARREARS}",
        customer=cust,
        unit=shop.floor,
        owner=owners[0] if owners else None,
        title=f"欠费逾期 {ctx.config.fees.escalate_after.days} 天：{shop.shop_no} {context['kind']} {line.period}",
        data={
            "line_id": line.id,
            "shop_no": shop.shop_no,
            "kind": line.kind,
            "period": line.period,
            "owed": str(line.owed),
        },
        reason="逾期未缴，上报管理部经理",
    )
    line.escalated_case_id = case.id
    tell(
        ctx,
        cfg.market_manager,
        f"{case.number}/arrears",
        "arrears_escalation.txt",
        {**context, "case_number": case.number},
        case=case,
    )
    return case


def settle_escalation(ctx: Ctx, line: FeeLine) -> None:
    """A settled line's open escalation case is resolved (the ladder has already stopped)."""
    if line.escalated_case_id is None or line.owed > 0:
        return
    case = ctx.db().get(Case, line.escalated_case_id)
    if case is not None and case.state in OPEN_STATES:
        ctx.resolve(case, actor="payment", reason=f"已缴清 {line.period}")


def overdue_lists(ctx: Ctx, today: date) -> int:
    """Each floor manager's list of the floor's overdue lines, once a day; how many lists were queued."""
    by_floor: dict[str, list[dict[str, object]]] = {}
    for line, shop, cust in unpaid_lines(ctx, today - timedelta(days=1)):
        by_floor.setdefault(shop.floor, []).append(
            {
                "shop_no": shop.shop_no,
                "tenant": cust.name or shop.tenant,
                "kind": ctx.config.fees.kinds.get(line.kind, line.kind),
                "period": line.period,
                "owed": _money(line.owed),
                "due_on": line.due_on.isoformat(),
                "days_overdue": ladder.days_overdue(line.due_on, today),
            }
        )
    sent = 0
    for floor, rows in sorted(by_floor.items()):
        sent += bool(
            tell(
                ctx,
                ctx.config.floor_manager(floor),
                f"overdue/{floor}/{today}",
                "overdue_list.txt",
                {"floor": floor, "day": today.isoformat(), "rows": rows},
                unit=floor,
                channels=("email",),
            )
        )
    return sent
