"""Buyers' mail and SMS: which request a message is (change, special request, cancel, return,
shipping question), the order it names, and the desk's action on it."""

from __future__ import annotations

import re

from kefu.api import Case, CaseEvent, Classification, InboundItem, InboundMessage
from kefu.plugins.ecommerce import desk, kinds, promise, rules
from kefu.plugins.ecommerce.config import Ctx, EcommerceConfig
from kefu.plugins.ecommerce.orders import find_order

TRACKING = re.compile(r"(?:退货)?(?:快递|物流|运)?单号[：:\s]*([A-Za-z]{0,4}\d{8,20})")

# category → kind
KIND_OF = {
    "address": kinds.CHANGE,
    "attribute": kinds.CHANGE,
    "special": kinds.CHANGE,
    "cancel": kinds.CANCEL,
    "return": kinds.RETURN,
    "tracking": kinds.RETURN,
    "ask": kinds.ASK,
}


def categorize(cfg: EcommerceConfig, text: str) -> tuple[str | None, float]:
    """The request a buyer's text makes and how sure (the highest word count wins; 0 for none)."""
    c = cfg.classify
    # Weights break ties the way the desk would: an address change or a cancellation matters most.
    scores = {
        "address": rules.score_words(text, c.address_words) * 1.2,
        "attribute": rules.score_words(text, c.attribute_words),
        "special": rules.score_words(text, c.special_words),
        "cancel": rules.score_words(text, c.cancel_words) * 1.1,
        "return": rules.score_words(text, cfg.returns.return_words) * 1.1,
        "tracking": 1.5 if TRACKING.search(text) and rules.score_words(text, c.sent_back_words) else 0.0,
        "ask": rules.score_words(text, c.ask_words),
    }
    best = max(scores, key=lambda k: scores[k])
    return (best, scores[best]) if scores[best] > 0 else (None, 0.0)


def classify(ctx: Ctx, item: InboundMessage) -> Classification | None:
    """Claim a buyer's message about an order; a named order number makes the claim surer."""
    text = "\n".join(p for p in (item.subject, item.text) if p)
    category, score = categorize(ctx.config, text)
    if category is None:
        return None
    number = rules.order_number_in(text)
    return Classification(
        kind=ctx.kind(KIND_OF[category]),
        title=" ".join(text.split())[:200],
        score=1.0 + score + (1.0 if number else 0.0),
    )


def _text_of(ctx: Ctx, case: Case) -> tuple[str, InboundItem | None]:
    item_id = (case.data or {}).get("item_id")
    item = ctx.db().get(InboundItem, item_id) if item_id else None
    if item is None:
        return case.title or "", None
    return "\n".join(p for p in (item.subject, item.text) if p), item


def _attachments(data: dict[str, object] | None) -> int:
    """How many files came with the item (the core names them in the case's or event's data; the
    rows are stored with the case right after the hooks run)."""
    files = (data or {}).get("attachments")
    return len(files) if isinstance(files, list) else 0


def on_opened(ctx: Ctx, case: Case) -> None:
    """Find the order the message names and act on it; without one, 售前客服 asks the buyer."""
    if (case.data or {}).get("order_id"):
        return  # opened by the desk itself (CLI, import), which acts on it
    text, _item = _text_of(ctx, case)
    number = rules.order_number_in(text)
    order = find_order(ctx, number) if number else None
    kind = ctx.kind_of(case)
    if order is None:
        ctx.record_event(case, "note", reason=f"未找到订单 {number or '(未写订单号)'}; 请售前客服联系买家")
        desk.give_to(ctx, case, "presales", "未找到订单")
        return
    case.unit = order.shop
    category, _score = categorize(ctx.config, text)
    if kind == kinds.CHANGE:
        change = category if category in ("address", "attribute", "special") else "special"
        detail = {
            "address": rules.new_address_in(text),
            "attribute": rules.attribute_in(text),
        }.get(change) or _request_text(text, number or "")
        desk.request_change(ctx, case, order, change, detail)
    elif kind == kinds.CANCEL:
        desk.cancel(ctx, case, order)
    elif kind == kinds.ASK:
        promise.answer(ctx, case, order)
    elif kind == kinds.RETURN:
        match = TRACKING.search(text)
        if category == "tracking" and match:
            try:
                desk.register_tracking(ctx, order, match.group(1))
            except ValueError:
                pass
            else:
                ctx.resolve(case, reason=f"退货单号 {match.group(1)} 已登记到原退换货单")
                return
        quality = rules.score_words(text, ctx.config.returns.photo_words) > 0
        desk.start_return(ctx, case, order, quality, reason=" ".join(text.split())[:200])
        desk.photos_received(ctx, case, _attachments(case.data))


def _request_text(text: str, number: str) -> str:
    """A special request's own words: the message without the order number, on one line."""
    return " ".join(text.replace(number, "").replace("订单号", "").replace("订单", "").split()).strip("：:，, ")[:200]


def on_changed(ctx: Ctx, case: Case, event: CaseEvent) -> None:
    """A buyer's reply on a return: photos move it on, a tracking number is registered."""
    if event.type != "customer_reply" or ctx.kind_of(case) != kinds.RETURN:
        return
    item_id = (event.data or {}).get("item_id")
    item = ctx.db().get(InboundItem, item_id) if item_id else None
    if item is None:
        return
    desk.photos_received(ctx, case, _attachments(event.data))
    match = TRACKING.search(item.text or "") or TRACKING.search(item.subject or "")
    order = desk.order_of(ctx, case)
    if match and order is not None and case.step in (kinds.TRACKING, kinds.PHOTOS):
        desk.register_tracking(ctx, order, match.group(1))
