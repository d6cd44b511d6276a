"""The ecommerce desk in the staff console: the case actions and plugin pages of issue #18.

Every action calls the same ``desk`` (or ``disputes``) function as ``kefu ecommerce …``,
with the signed-in person as the actor; a ``CaseError`` is the refusal the page shows
(退款 before 原包裹已收到, for one). Shops are the units: a case carries its shop as
``unit``, so the console's scope keeps a shop's agent to that shop's cases; the page
actions name an order by its number, and ``unit_of`` gives the console the order's shop
to check the same way. Buyer data on the pages is always masked, as in ``kefu ecommerce
orders``: the order number is the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from kefu.api import OPEN_STATES, Case, CaseError, ConsoleAction, ConsoleField, ConsolePage, mask
from kefu.plugins.ecommerce import desk, disputes, kinds, promise, rules
from kefu.plugins.ecommerce.config import Ctx
from kefu.plugins.ecommerce.models import BankTransfer, Order
from kefu.plugins.ecommerce.notify import mask_address, mask_name
from kefu.plugins.ecommerce.orders import find_order

CHANGES = (("address", "修改地址"), ("attribute", "修改商品属性（尺码、颜色…）"), ("special", "特殊要求"))
OPEN = tuple(sorted(OPEN_STATES))
# 退款 moves money: not for duty staff (打单, 仓库), who confirm parcels and slips.
DESK_ROLES = ("admin", "head", "agent")


# ------------------------------------------------------------------ helpers


def _order_in(ctx: Ctx, values: Mapping[str, str]) -> Order:
    """The order the form names (number, and shop when there are several); refused if none."""
    number = (values.get("order_no") or "").strip()
    shop = (values.get("shop") or "").strip() or None
    order = find_order(ctx, number, shop) if number else None
    if order is None:
        where = f"（店铺 {shop}）" if shop else ""
        raise CaseError(f"没有订单 {number}{where}；订单号在多个店铺时请选择店铺")
    return order


def order_shop(ctx: Ctx, values: Mapping[str, str]) -> str:
    """``unit_of`` of the page actions: the shop of the order typed (the console checks it)."""
    return _order_in(ctx, values).shop


def _case_order(ctx: Ctx, case: Case) -> Order:
    order = desk.order_of(ctx, case)
    if order is None:
        raise CaseError(f"{case.number} 没有对应的订单")
    return order


def _shop_field(ctx: Ctx) -> tuple[ConsoleField, ...]:
    """A shop select only when there are several shops (one shop: the order number says it)."""
    shops = ctx.config.shops
    if len(shops) < 2:
        return ()
    choices = tuple((key, f"{key} {s.name}".strip()) for key, s in sorted(shops.items()))
    return (ConsoleField("shop", "店铺", type="select", choices=choices, help="订单号在多个店铺都有时必选"),)


# ------------------------------------------------------------------ case actions


def amended(ctx: Ctx, case: Case | None, _values: Mapping[str, str], actor: str) -> str:
    """已在发货单与快递单上修改妥当 (or reprinted): the remark, and the change is done."""
    assert case is not None
    remark = desk.slips_amended(ctx, case, actor)
    return f"{case.number}：已备注（红旗）{remark.text}"


def parcel_received(ctx: Ctx, case: Case | None, _values: Mapping[str, str], actor: str) -> str:
    """The packer's 原包裹已收到 on this case's 售后登记表 line: the refund step opens."""
    assert case is not None
    entry = desk.parcel_received(ctx, _case_order(ctx, case), actor)
    if entry.case_id != case.id:  # the order's open line is another case's: sign that one there
        raise CaseError(f"{case.number}：售后登记表上没有待收的原包裹（订单的待收包裹属于另一工单）")
    return f"{case.number}：售后登记表 #{entry.id} 原包裹已收到，转售后客服退款"


def step_done(ctx: Ctx, case: Case | None, _values: Mapping[str, str], actor: str) -> str:
    """The packer voided, or the warehouse handed back the slip or parcel: on to the refund."""
    assert case is not None
    return f"{case.number}：进入{desk.step_done(ctx, case, actor)}"


def refund(ctx: Ctx, case: Case | None, _values: Mapping[str, str], actor: str) -> str:
    """退款: refused on a recall before 原包裹已收到 (the desk's CaseError is shown)."""
    assert case is not None
    desk.refund(ctx, case, actor)
    return f"{case.number}：已退款，工单已解决"


def tracking(ctx: Ctx, case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """登记退货单号 the buyer gave by phone or Wangwang, on this case's return line."""
    assert case is not None
    number = (values.get("number") or "").strip()
    entry = desk.register_tracking(ctx, _case_order(ctx, case), number, actor)
    if entry.case_id != case.id:
        raise CaseError(f"{case.number}：此订单最新的退换货属于另一工单")
    return f"{case.number}：退货单号 {number} 已登记"


def touch_dispute(ctx: Ctx, case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """处理纠纷 (举证, 协商): the dispute's untouched clock starts again."""
    assert case is not None
    disputes.touch(ctx, _case_order(ctx, case), actor, (values.get("note") or "").strip())
    return f"{case.number}：已记录处理，无人处理计时重新开始"


def match_transfer(ctx: Ctx, case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """匹配转账: the transfer of this case belongs to an order of its shop; the follow-up ends."""
    assert case is not None
    transfer = ctx.db().scalars(select(BankTransfer).where(BankTransfer.case_id == case.id)).first()
    if transfer is None:
        raise CaseError(f"{case.number} 没有对应的银行转账")
    if transfer.matched_at is not None:
        raise CaseError(f"{case.number}：转账已对应订单 {transfer.order_no}")
    number = (values.get("order_no") or "").strip()
    order = find_order(ctx, number, transfer.shop)
    if order is None:  # a mistyped number would end the follow-up of a transfer nobody matched
        raise CaseError(f"店铺 {transfer.shop} 没有订单 {number}")
    desk.match_transfer(ctx, transfer, order.order_no, actor)
    return f"{case.number}：转账 {transfer.amount} 元已对应订单 {order.order_no}"


# ------------------------------------------------------------------ page actions


def packed(ctx: Ctx, _case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """The packer's 已打包 (no export carries it); forward only."""
    order = _order_in(ctx, values)
    changed = desk.mark_packed(ctx, order, actor)
    return f"{order.order_no}：{order.print_state}{'' if changed else '（未变：订单已在此之后）'}"


def enter_change(ctx: Ctx, _case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """A staff entry of a buyer's change or special request: the branch a buyer's mail takes."""
    order = _order_in(ctx, values)
    change, text = values.get("change", ""), (values.get("text") or "").strip()
    if change not in dict(CHANGES) or not text:
        raise CaseError("请选择修改类型并填写内容")
    case = desk.case_for(ctx, order, kinds.CHANGE, title=f"{order.order_no} {change}", by=actor)
    branch = desk.request_change(ctx, case, order, change, text, actor)
    return f"{case.number}：订单 {order.order_no} {branch} → {case.step or case.state}"


def enter_cancel(ctx: Ctx, _case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """A staff entry of a cancellation after payment: void, retrieve or recall by the print state."""
    order = _order_in(ctx, values)
    case = desk.case_for(ctx, order, kinds.CANCEL, title=f"{order.order_no} 取消", by=actor)
    branch = desk.cancel(ctx, case, order, actor)
    return f"{case.number}：订单 {order.order_no} {branch} → {case.step}"


# ------------------------------------------------------------------ pages


def _cases_by_order(ctx: Ctx, orders: list[Order]) -> dict[int, list[str]]:
    """The desk's case numbers of each order (one query: cases name their order in ``data``)."""
    numbers = {o.order_no for o in orders}
    out: dict[int, list[str]] = {}
    if not numbers:
        return out
    cases = ctx.db().scalars(
        select(Case).where(Case.plugin == ctx.name, Case.data["order_no"].as_string().in_(numbers)).order_by(Case.id)
    )
    for case in cases:
        order_id = (case.data or {}).get("order_id")
        if isinstance(order_id, int):
            out.setdefault(order_id, []).append(case.number)
    return out


def orders_lookup(ctx: Ctx, query: str) -> tuple[list[str], list[list[str]]]:
    """订单查询: orders whose number is or starts with ``query`` (50 at most); buyer data masked."""
    orders = list(
        ctx.db().scalars(
            select(Order)
            .where(Order.order_no.startswith(query, autoescape=True))
            .order_by(Order.shop, Order.order_no)
            .limit(50)
        )
    )
    cases = _cases_by_order(ctx, orders)
    rows = [
        [
            o.shop,
            o.order_no,
            rules.STATUS_LABEL.get(o.status, o.status),
            o.print_state,
            o.promised_on.isoformat() if o.promised_on else "",
            mask_name(o.buyer),
            mask_name(o.receiver),
            mask(o.phone) if o.phone else "",
            mask_address(o.address),
            "红旗" if o.seller_flag == rules.FLAG_RED else "",
            "、".join(cases.get(o.id, [])),
        ]
        for o in orders
    ]
    columns = ["店铺", "订单号", "状态", "打单", "承诺发货", "买家", "收货人", "电话", "地址", "旗帜", "工单"]
    return columns, rows


def digest(ctx: Ctx) -> tuple[list[str], list[list[str]]]:
    """退款/维权日报: the rows of the daily digest, as ``disputes.digest_rows`` computes them."""
    rows = [
        [
            r.deadline.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M") if r.deadline else "—",
            r.shop,
            r.order_no,
            r.refund_status or "—",
            r.dispute_state or "—",
            "、".join(r.flags),
            r.buyer,
        ]
        for r in disputes.digest_rows(ctx)
    ]
    return ["平台截止", "店铺", "订单号", "退款状态", "客服介入", "标记", "买家"], rows


def unmatched_transfers(ctx: Ctx) -> tuple[list[str], list[list[str]]]:
    """未匹配的银行转账 (银行转账明细表), oldest first; its case page matches it to an order."""
    transfers = ctx.db().scalars(
        select(BankTransfer).where(BankTransfer.matched_at.is_(None)).order_by(BankTransfer.paid_on, BankTransfer.id)
    )
    rows = []
    for t in transfers:
        case = ctx.db().get(Case, t.case_id) if t.case_id else None
        rows.append(
            [
                case.number if case else "",
                t.shop,
                mask_name(t.payer),
                f"{t.amount:.2f}",
                t.paid_on.isoformat(),
                t.bank_ref,
                mask(t.contact) if t.contact else "",
            ]
        )
    return ["工单号", "店铺", "付款人", "金额（元）", "转账日期", "银行流水号", "联系方式"], rows


def late(ctx: Ctx) -> tuple[list[str], list[list[str]]]:
    """超过承诺发货日的订单 (paid, not shipped), as the hourly late-order watch finds them."""
    rows = [
        [o.shop, o.order_no, o.promised_on.isoformat() if o.promised_on else "", o.print_state, mask_name(o.buyer)]
        for o in promise.late_orders(ctx, ctx.local_now().date())
    ]
    return ["店铺", "订单号", "承诺发货", "打单", "买家"], rows


# ------------------------------------------------------------------ the hook's list


def console_actions(ctx: Ctx) -> list[ConsoleAction | ConsolePage]:
    """The actions and pages ``kefu_console_actions`` returns."""
    k = kinds
    run: dict[str, Any] = {
        "amended": amended,
        "received": parcel_received,
        "done": step_done,
        "refund": refund,
        "tracking": tracking,
        "touch": touch_dispute,
        "match": match_transfer,
        "packed": packed,
        "change": enter_change,
        "cancel": enter_cancel,
    }
    pages: dict[str, Any] = {"orders": orders_lookup, "digest": digest, "transfers": unmatched_transfers, "late": late}
    unit_of: Any = order_shop
    order_no = ConsoleField("order_no", "订单号", required=True)
    shop = _shop_field(ctx)
    return [
        ConsolePage(
            name="orders",
            title="订单查询（买家信息已隐去）",
            rows=pages["orders"],
            unit_column=0,
            search=ConsoleField("order_no", "订单号", help="完整订单号或开头几位"),
        ),
        ConsolePage(name="digest", title="退款中 / 维权中（主管日报）", rows=pages["digest"], unit_column=1),
        ConsolePage(name="transfers", title="未匹配的银行转账", rows=pages["transfers"], case_column=0, unit_column=1),
        ConsolePage(name="late", title="超过承诺发货日未发货", rows=pages["late"], unit_column=0),
        ConsoleAction(
            name="packed", label="已打包", on="plugin", run=run["packed"], unit_of=unit_of, fields=(order_no, *shop)
        ),
        ConsoleAction(
            name="change",
            label="登记改单/特殊要求",
            on="plugin",
            run=run["change"],
            unit_of=unit_of,
            roles=DESK_ROLES,
            fields=(
                order_no,
                *shop,
                ConsoleField("change", "类型", type="select", required=True, choices=CHANGES),
                ConsoleField("text", "内容", type="textarea", required=True, help="新地址、改成什么，或买家的要求"),
            ),
        ),
        ConsoleAction(
            name="cancel",
            label="登记付款后取消",
            on="plugin",
            run=run["cancel"],
            unit_of=unit_of,
            roles=DESK_ROLES,
            fields=(order_no, *shop),
            confirm="按订单当前打单状态作废、取回或撤回，确定？",
        ),
        ConsoleAction(
            name="amended", label="已在发货单与快递单上修改妥当", kinds=(k.CHANGE,), run=run["amended"], states=OPEN
        ),
        ConsoleAction(name="done", label="已作废/已取回", kinds=(k.CANCEL,), run=run["done"], states=OPEN),
        ConsoleAction(
            name="received", label="原包裹已收到", kinds=(k.CANCEL, k.RETURN), run=run["received"], states=OPEN
        ),
        ConsoleAction(
            name="refund",
            label="退款",
            kinds=(k.CANCEL, k.RETURN),
            run=run["refund"],
            states=OPEN,
            roles=DESK_ROLES,
            confirm="已在平台上退款给买家？",
        ),
        ConsoleAction(
            name="tracking",
            label="登记退货单号",
            kinds=(k.RETURN,),
            run=run["tracking"],
            states=OPEN,
            fields=(ConsoleField("number", "退货单号", required=True),),
        ),
        ConsoleAction(
            name="touch",
            label="处理纠纷",
            kinds=(k.DISPUTE,),
            run=run["touch"],
            states=OPEN,
            roles=DESK_ROLES,
            fields=(ConsoleField("note", "处理内容", type="textarea", help="举证、协商……"),),
        ),
        ConsoleAction(
            name="match",
            label="匹配转账",
            kinds=(k.TRANSFER,),
            run=run["match"],
            states=OPEN,
            roles=DESK_ROLES,
            fields=(ConsoleField("order_no", "对应订单号", required=True),),
        ),
    ]
