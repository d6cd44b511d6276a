"""``POST /ecommerce/orders``: the shop's ERP pushes order events, signed per shop.

Headers: ``X-Kefu-Shop`` (the shop's key), ``X-Kefu-Timestamp`` (Unix seconds) and
``X-Kefu-Signature`` (hex HMAC-SHA256 of ``<timestamp>.<body>`` with the shop's key, read
from the secret ``[ecommerce.shops.<key>] push_secret`` names: never from the TOML). A
request older than ``push_max_age`` (5 min) or a signature already seen is refused as a
replay; every refusal is a 401, logged with the client and the shop, nothing else.

The body is one order or ``{"orders": [...]}``; each has ``order_no`` and any of
``status`` (a Taobao/聚水潭 status), ``trade_status`` (旺店通), ``delivery_status`` (E店宝),
``print_state`` (未打单/已打单/已打包/已发货), ``paid_at``, ``event_at`` (ISO; default the
timestamp), ``in_stock``, and the plain fields of :data:`orders.TEXT_FIELDS`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from kefu.api import Request, Response, Route
from kefu.plugins.ecommerce import rules
from kefu.plugins.ecommerce.config import Ctx
from kefu.plugins.ecommerce.imports import guess_time
from kefu.plugins.ecommerce.models import Order
from kefu.plugins.ecommerce.orders import TEXT_FIELDS, Applier, OrderEvent

SEEN_MAX = 10_000


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature an ERP sends: hex HMAC-SHA256 over ``<timestamp>.<body>``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def routes(ctx: Ctx) -> list[Route]:
    """The push route, when at least one shop names a push secret."""
    if not any(s.push_secret for s in ctx.config.shops.values()):
        return []
    seen: OrderedDict[str, None] = OrderedDict()
    return [Route("POST", f"/{ctx.name}/orders", lambda request: push(ctx, request, seen))]


def _refuse(ctx: Ctx, request: Request, shop: str, why: str) -> Response:
    ctx.log.warning("%s order push from %s refused (shop %r): %s", ctx.name, request.client, shop[:32], why)
    return Response.json({"error": "unauthorised"}, 401)


def authorise(ctx: Ctx, request: Request, seen: OrderedDict[str, None]) -> tuple[str | None, str]:
    """(shop, '') for a good signature, else (None, why)."""
    shop = request.header("x-kefu-shop").strip()
    stamp = request.header("x-kefu-timestamp").strip()
    given = request.header("x-kefu-signature").strip().lower()
    spec = ctx.config.shops.get(shop)
    if spec is None or not spec.push_secret:
        return None, "unknown shop or no push secret"
    secret = ctx.secret(spec.push_secret)
    if not secret:
        return None, f"secret {spec.push_secret!r} is not provided"
    if not stamp or not given:
        return None, "unsigned"
    if not stamp.isdigit():
        return None, "bad timestamp"
    if not hmac.compare_digest(sign(secret, stamp, request.body), given):
        return None, "wrong signature"
    age = ctx.now() - datetime.fromtimestamp(int(stamp), UTC)
    if age > ctx.config.push_max_age or -age > ctx.config.push_max_age:
        return None, f"replayed or stale (timestamp {int(age.total_seconds())} s old)"
    if given in seen:
        return None, "replayed (signature already used)"
    seen[given] = None
    while len(seen) > SEEN_MAX:
        seen.popitem(last=False)
    return shop, ""


_PRINT = {
    "not_printed": rules.NOT_PRINTED,
    "printed": rules.PRINTED,
    "packed": rules.PACKED,
    "shipped": rules.SHIPPED,
    **{s: s for s in rules.PRINT_STATES},
}


def event_of(ctx: Ctx, shop: str, item: Any, stamp: datetime) -> OrderEvent:
    """One pushed order as an event; ValueError naming what is wrong."""
    if not isinstance(item, dict):
        raise ValueError("each order is a JSON object")
    number = str(item.get("order_no") or "").strip()
    if not number:
        raise ValueError("order_no is required")
    raw = {k: str(item.get(k) or "") for k in ("status", "trade_status", "delivery_status", "print_status")}
    status, printed, problem = rules.read_status(raw)
    if problem:
        raise ValueError(problem)
    if item.get("print_state"):
        if str(item["print_state"]) not in _PRINT:
            raise ValueError(f"print_state {item['print_state']!r}: write 未打单/已打单/已打包/已发货")
        printed = _PRINT[str(item["print_state"])]
    values: dict[str, Any] = {k: str(item[k]) for k in TEXT_FIELDS if item.get(k) not in (None, "")}
    for key in ("paid_at", "refund_deadline", "proof_deadline"):
        if item.get(key):
            values[key] = guess_time(str(item[key]), ctx)
    stock = item.get("in_stock")
    return OrderEvent(
        shop=shop,
        order_no=number,
        status=status,
        print_state=printed,
        event_at=guess_time(str(item["event_at"]), ctx) if item.get("event_at") else stamp,
        in_stock=None if stock is None else bool(stock),
        values=values,
    )


def push(ctx: Ctx, request: Request, seen: OrderedDict[str, None]) -> Response:
    """Apply the pushed events: 401 unless signed and fresh, 400 naming a bad item, else the counts."""
    shop, why = authorise(ctx, request, seen)
    if shop is None:
        return _refuse(ctx, request, request.header("x-kefu-shop"), why)
    stamp = datetime.fromtimestamp(int(request.header("x-kefu-timestamp")), UTC)
    try:
        body = request.json()
        items = body.get("orders") if isinstance(body, dict) and "orders" in body else [body]
        if not isinstance(items, list):
            raise ValueError("orders must be a list")
        events = [event_of(ctx, shop, item, stamp) for item in items]
    except (ValueError, UnicodeDecodeError) as exc:
        return Response.json({"error": str(exc)}, 400)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    from kefu.plugins.ecommerce import disputes

    with ctx.transaction() as tx:
        applier = Applier(tx, source="push")
        session = tx.db()
        for ev in events:
            found = session.scalars(
                select(Order).where(Order.shop == ev.shop, Order.order_no == ev.order_no)
            ).one_or_none()
            done = applier.apply(found, ev)
            if found is None:
                session.add(done.order)
                session.flush()
            if done.new_dispute:
                disputes.open_dispute(tx, done.order)
            counts[done.outcome] += 1
    return Response.json(counts)
