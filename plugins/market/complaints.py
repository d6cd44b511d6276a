"""Complaints by purchasers and customers (客商投诉): routed to the tenant's floor manager, a reply
within 24 h (default), and the callback loop of the complaints plugin (每件必回访): resolution asks
满意/不满意 by SMS, the answer closes or reopens the case.

A complaint names the shop it is about by its number (``3F-A018``); the case's unit is
that shop's floor, so its deadlines escalate along ``floor_manager@{unit}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import func, select

from kefu.api import Case, CaseEvent, Customer, InboundItem
from kefu.plugins.market.config import Ctx
from kefu.plugins.market.models import Shop
from kefu.plugins.market.notify import people_for, tell

# Shop numbers sit inside Chinese text with no word boundary around them ("投诉3F-001卖假货").
SHOP_REF = re.compile(r"(?<![A-Za-z0-9])([1-9]F-[A-Z]?\d{2,4})(?![0-9])", re.I)
SATISFIED, UNSATISFIED = 5, 1


def is_complaint(ctx: Ctx, text: str) -> bool:
    """The text uses one of ``[market.complaints] keywords``."""
    return any(word in text for word in ctx.config.complaints.keywords)


def shop_named(ctx: Ctx, text: str) -> Shop | None:
    """The registered shop whose number the text names, if any."""
    for ref in SHOP_REF.findall(text or ""):
        shop = ctx.db().scalars(select(Shop).where(Shop.shop_no == ref.upper())).one_or_none()
        if shop is not None:
            return shop
    return None


def _sms(ctx: Ctx, case: Case, rule: str, template: str, context: Mapping[str, object]) -> None:
    customer = ctx.db().get(Customer, case.customer_id) if case.customer_id else None
    if customer is None or not customer.phone or customer.sms_opt_out or customer.phone_invalid:
        return
    ctx.queue(
        key=f"{case.number}/{rule}/sms",
        channel="sms",
        recipient=customer.phone,
        template=template,
        context=dict(context),
        case=case,
        customer=customer,
    )


def on_opened(ctx: Ctx, case: Case) -> None:
    """To the floor manager of the shop complained about (else the market manager); acknowledge."""
    cfg = ctx.config
    shop = shop_named(ctx, case.title)
    target = cfg.floor_manager(shop.floor) if shop else cfg.market_manager
    if shop is not None:
        case.unit = shop.floor
    owners = people_for(ctx, target, case.unit)
    if owners and case.owner is None:
        ctx.assign(
            case,
            owners[0],
            reason=f"转{shop.floor if shop else ''}楼层经理处理" if shop else "转管理部经理",
        )
    context = {
        "case_number": case.number,
        "shop_no": shop.shop_no if shop else "",
        "site_name": ctx.site_name,
        "hours": f"{cfg.complaints.reply_within.total_seconds() / 3600:g}",
        "text": case.title,
    }
    if not (case.data or {}).get("no_ack"):
        _sms(ctx, case, "ack", "complaint_ack.txt", context)
    tell(
        ctx,
        target,
        f"{case.number}/complaint",
        "complaint_staff.txt",
        context,
        case=case,
        unit=case.unit,
    )


def on_changed(ctx: Ctx, case: Case, event: CaseEvent) -> None:
    """Resolution asks for the callback; the complainant's reply is the answer."""
    if event.to_state == "resolved":
        rnd = (
            ctx.db().scalar(
                select(func.count())
                .select_from(CaseEvent)
                .where(CaseEvent.case_id == case.id, CaseEvent.to_state == "resolved")
            )
            or 1
        )
        _sms(
            ctx,
            case,
            f"callback{rnd}",
            "complaint_callback.txt",
            {"case_number": case.number, "site_name": ctx.site_name},
        )
        ctx.transition(case, "callback", reason="已发回访短信")
    elif event.type == "customer_reply" and case.state == "callback":
        item_id = (event.data or {}).get("item_id")
        item = ctx.db().get(InboundItem, item_id) if item_id else None
        answer = parse_answer(ctx, (item.text if item is not None else None) or "")
        if answer is not None:
            ctx.record_callback(
                case,
                SATISFIED if answer else UNSATISFIED,
                actor="customer",
                reason=f"回访{'满意' if answer else '不满意'}",
            )


def parse_answer(ctx: Ctx, text: str) -> bool | None:
    """满意/1 → True, 不满意/2 → False, anything else None (unsatisfied words are checked first)."""
    first = (text or "").strip().splitlines()[0].strip() if (text or "").strip() else ""
    cfg = ctx.config.complaints
    if any(first.startswith(w) for w in cfg.unsatisfied):
        return False
    if any(first.startswith(w) for w in cfg.satisfied):
        return True
    return None
