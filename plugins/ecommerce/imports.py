"""Order files through the core's one import pipeline: Taobao/Tmall 订单报表, Tmall 退款单, and the ERPs
E店宝, 聚水潭 and 旺店通, each a ready column map (``MAPS``) that ``[ecommerce.maps]`` may extend.

Without ``--map`` every map's headers are accepted at once (their fields do not clash:
each ERP's status column is its own field), so a file is read once whatever it is.
Order numbers stay text (``Code``: Excel's ``="…"`` guard is taken off by the pipeline).
The formats are a start gathered from public parsers of these exports, not gospel:
a shop whose export differs adds its spellings in ``[ecommerce.maps.<name>]``.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.api.imports import Code, Importer, ImportReport, ImportRow, LocalTime, Outcome, RowError, column
from kefu.plugins.ecommerce import rules
from kefu.plugins.ecommerce.config import Ctx
from kefu.plugins.ecommerce.models import Order
from kefu.plugins.ecommerce.orders import TEXT_FIELDS, TIME_FIELDS, Applier, OrderEvent

# field → header spellings, per export. The field names are the row model's.
MAPS: dict[str, dict[str, list[str]]] = {
    "taobao": {
        "order_no": ["订单编号"],
        "buyer": ["买家会员名"],
        "status": ["订单状态"],
        "buyer_message": ["买家留言"],
        "receiver": ["收货人姓名"],
        "address": ["收货地址"],
        "phone": ["联系手机"],
        "paid_at": ["订单付款时间"],
        "tracking_no": ["物流单号"],
        "carrier": ["物流公司"],
        "remark": ["订单备注"],
        "changed_address": ["修改后的收货地址"],
        "shop": ["店铺名称"],
    },
    "tmall_refund": {
        "order_no": ["订单编号"],
        "refund_no": ["退款编号"],
        "refund_status": ["退款状态"],
        "goods_status": ["货物状态"],
        "needs_return": ["是否需要退货"],
        "refund_deadline": ["超时时间"],
        "dispute_state": ["客服介入状态"],
        "return_tracking": ["退货物流单号"],
        "proof_deadline": ["举证超时"],
        "buyer": ["买家昵称"],
    },
    "edb": {
        "order_no": ["out_tid"],
        "erp_no": ["tid"],
        "print_time": ["print_time"],
        "delivery_status": ["delivery_status"],
        "carrier": ["express"],
        "tracking_no": ["express_no"],
        "shop": ["shop_id"],
    },
    "jst": {
        "order_no": ["so_id"],
        "erp_no": ["o_id"],
        "status": ["status"],
        "is_print_express": ["is_print_express"],
        "paid_at": ["pay_date"],
        "event_at": ["modified"],
        "carrier": ["logistics_company"],
        "tracking_no": ["l_id"],
        "shop": ["shop_name"],
    },
    "wdt": {
        "order_no": ["src_tids"],
        "erp_no": ["trade_no"],
        "trade_status": ["trade_status"],
        "print_status": ["logistics_print_status"],
        "paid_at": ["pay_time"],
        "event_at": ["modified"],
        "carrier": ["logistics_name"],
        "tracking_no": ["logistics_no"],
        "shop": ["shop_name"],
    },
}
READY_MAPS = tuple(MAPS)


class OrderRow(ImportRow):
    """One order (or refund) row of any of the maps; only order_no is required."""

    order_no: Code = column()
    shop: str = column("店铺", default="")
    erp_no: Code = column(default="")
    status: str = column(default="")
    trade_status: str = column(default="")
    delivery_status: str = column(default="")
    print_status: str = column(default="")
    is_print_express: str = column(default="")
    print_time: str = column(default="")
    shipped_at: str = column("发货时间", default="")
    in_stock: str = column("库存状态", "是否有货", default="")
    buyer: str = column(default="")
    receiver: str = column(default="")
    address: str = column(default="")
    changed_address: str = column(default="")
    phone: str = column(default="")
    buyer_message: str = column(default="")
    remark: str = column(default="")
    paid_at: LocalTime | None = column(default=None)
    event_at: LocalTime | None = column("修改时间", "更新时间", default=None)
    carrier: str = column(default="")
    tracking_no: Code = column(default="")
    refund_no: Code = column(default="")
    refund_status: str = column(default="")
    goods_status: str = column(default="")
    needs_return: str = column(default="")
    refund_deadline: LocalTime | None = column(default=None)
    dispute_state: str = column(default="")
    return_tracking: Code = column(default="")
    proof_deadline: LocalTime | None = column(default=None)


_STOCK = {"有货": True, "有库存": True, "是": True, "1": True, "缺货": False, "无货": False, "否": False, "0": False}


def maps_of(ctx: Ctx) -> dict[str, dict[str, list[str]]]:
    """The ready maps with ``[ecommerce.maps]`` laid over them (a map of the same name is extended)."""
    merged = {name: {f: list(h) for f, h in spec.items()} for name, spec in MAPS.items()}
    for name, spec in ctx.config.maps.items():
        target = merged.setdefault(name, {})
        for field_name, headers in spec.items():
            if field_name not in OrderRow.model_fields:
                raise RowError(f"[ecommerce.maps.{name}] names no field {field_name!r}")
            target[field_name] = [*headers, *[h for h in target.get(field_name, []) if h not in headers]]
    return merged


STATUS_FIELDS = (
    "status",
    "trade_status",
    "delivery_status",
    "print_status",
    "is_print_express",
    "print_time",
    "shipped_at",
)


def event_of(row: OrderRow, shop: str) -> OrderEvent:
    """The event a row describes; RowError for a status no map reads."""
    status, printed, problem = rules.read_status({k: getattr(row, k) for k in STATUS_FIELDS})
    if problem:
        raise RowError(problem, "status")
    values = {k: v for k in (*TEXT_FIELDS, *TIME_FIELDS) if (v := getattr(row, k)) not in (None, "")}
    if row.changed_address:
        values["address"] = row.changed_address  # 修改后的收货地址 is where it goes now
    stock = row.in_stock.strip()
    if stock and stock not in _STOCK:
        raise RowError(f"stock {stock!r}: write 有货 or 缺货", "in_stock")
    needs = row.needs_return.strip()
    return OrderEvent(
        shop=shop,
        order_no=row.order_no,
        status=status,
        print_state=printed,
        event_at=row.event_at,
        in_stock=_STOCK[stock] if stock else None,
        needs_return=rules.truthy(needs) if needs else None,
        values=values,
    )


class OrderImport(Importer[OrderRow]):
    """``kefu ecommerce import orders``: orders keyed by shop + order number; a re-run changes nothing."""

    name = "orders"
    row_model = OrderRow
    key_label = "shop/order"

    def __init__(self, ctx: Ctx, map_name: str | None = None, shop: str | None = None) -> None:
        self.ctx = ctx
        maps = maps_of(ctx)
        if map_name is not None and map_name not in maps:
            raise RowError(f"no column map {map_name!r} (ready: {', '.join(sorted(maps))})")
        self.maps = {map_name: maps[map_name]} if map_name else maps
        self.map_name = map_name
        self.shop = shop
        self.applier = Applier(ctx)
        self.orders: dict[tuple[str, str], Order] = {}
        self.by_name = {spec.name: key for key, spec in ctx.config.shops.items() if spec.name}
        self.paid: list[Order] = []
        self.disputes: list[Order] = []
        self._checked: tuple[OrderRow, OrderEvent] | None = None

    def headers(self) -> dict[str, tuple[str, ...]]:
        """The chosen map's headers (every map's, when none is chosen) beside the row model's own."""
        accepted: dict[str, list[str]] = {name: [] for name in OrderRow.model_fields}
        for spec in self.maps.values():
            for field_name, spellings in spec.items():
                accepted[field_name] += [s for s in spellings if s not in accepted[field_name]]
        base = super().headers()
        # The row model's own spellings (its field name, 店铺, 库存状态 …) always work beside the map's.
        return {f: tuple(dict.fromkeys((*base[f], *accepted[f]))) for f in accepted}

    def shop_of(self, row: OrderRow) -> str:
        """The shop key of a row: its shop column (key or name), else ``--shop``, else the default."""
        given = row.shop.strip()
        if given:
            return self.by_name.get(given, given)
        return self.ctx.config.shop_key(self.shop)

    def key(self, row: OrderRow) -> Hashable:
        """Shop and order number (a refund row of an order updates the same order)."""
        return self.shop_of(row), row.order_no

    def start(self, session: Session) -> None:
        """The orders already known."""
        self.orders = {(o.shop, o.order_no): o for o in session.scalars(select(Order))}

    def check(self, row: OrderRow) -> None:
        """A known shop (when shops are configured) and a status some map reads."""
        shop = self.shop_of(row)
        if self.ctx.config.shops and shop not in self.ctx.config.shops:
            raise RowError(f"shop {shop!r} is not in [ecommerce.shops]", "shop")
        if not row.order_no.strip():
            raise RowError("the order number is empty", "order_no")
        self._checked = (row, event_of(row, shop))

    def apply(self, session: Session, row: OrderRow) -> Outcome:
        """Create or bring forward the order (with the event ``check`` just read from the row)."""
        checked, ev = self._checked if self._checked is not None else (None, None)
        if checked is not row or ev is None:
            ev = event_of(row, self.shop_of(row))
        found = self.orders.get((ev.shop, ev.order_no))
        done = self.applier.apply(found, ev)
        if found is None:
            session.add(done.order)
            self.orders[(ev.shop, ev.order_no)] = done.order
        if done.new_dispute:
            self.disputes.append(done.order)
        return done.outcome  # type: ignore[return-value]

    def finish(self, session: Session, report: ImportReport) -> None:
        """New disputes open their cases (so the 24 h clock starts at once)."""
        from kefu.plugins.ecommerce import disputes

        session.flush()
        for order in self.disputes:
            disputes.open_dispute(self.ctx, order)


def guess_time(text: str, ctx: Ctx) -> datetime | None:
    """An ISO time from a push, in the site's zone unless it names one; None if empty."""
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=ctx.tz)
