"""The desk's actions on one order, each callable from a hook, a command or (later) a console view:
order changes and special requests (售前 ③④⑥), cancellations (售前 ⑤, 售后 ②), returns (售后 ③④),
the packer's 已打包 and 原包裹已收到, and bank transfers (售前 ⑦).

Every action reads the order's print state at the moment it runs and follows the seed's
branch for it. Remarks are recorded with the red flag; kefu does not claim to have written
them to the platform (``Remark.pushed`` stays False unless an ERP push does so).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from kefu.api import Case, CaseError
from kefu.plugins.ecommerce import kinds, rules
from kefu.plugins.ecommerce.config import Ctx
from kefu.plugins.ecommerce.models import AfterSalesEntry, BankTransfer, Order, Remark
from kefu.plugins.ecommerce.notify import mask_address, people_for, reply_to_buyer, tell_role


def _order_context(ctx: Ctx, order: Order, **extra: Any) -> dict[str, Any]:
    """What staff templates show of an order: its number and state; buyer data masked."""
    return {
        "order_no": order.order_no,
        "shop": order.shop,
        "print_state": order.print_state,
        "buyer": order.buyer,
        "site_name": ctx.site_name,
        **extra,
    }


def _data(case: Case, **values: Any) -> None:
    """Merge ``values`` into the case's data (a new dict, so the change is saved)."""
    case.data = {**(case.data or {}), **values}


def _author(ctx: Ctx, by: str | None) -> str:
    """The name a remark ends with: the member of staff's name, else the configured author."""
    person = ctx.person(by) if by else None
    return person.name if person is not None else (by or ctx.config.remark_author)


def give_to(ctx: Ctx, case: Case, role: str, reason: str) -> None:
    """Assign the case to the first person ``role`` of the order's shop means now."""
    owners = people_for(ctx, ctx.config.role(role, case.unit))
    if owners and case.owner != owners[0]:
        ctx.assign(case, owners[0], reason=reason)


def add_remark(ctx: Ctx, order: Order, text: str, by: str, case: Case | None = None) -> Remark:
    """Record a red-flagged remark on the order (Taobao seller_flag 1)."""
    row = Remark(
        order_id=order.id,
        case_id=case.id if case else None,
        text=text,
        flag=rules.FLAG_RED,
        author=by,
        created_at=ctx.now(),
    )
    ctx.db().add(row)
    order.seller_flag = rules.FLAG_RED
    if case is not None:
        ctx.record_event(case, "note", reason=f"备注(红旗): {text}", data={"remark": text, "flag": rules.FLAG_RED})
    return row


def remarks_of(ctx: Ctx, order: Order) -> list[Remark]:
    """The order's remarks, oldest first."""
    return list(ctx.db().scalars(select(Remark).where(Remark.order_id == order.id).order_by(Remark.id)))


def case_for(ctx: Ctx, order: Order, kind: str, *, title: str, by: str = "system", **data: Any) -> Case:
    """Open a case of ``kind`` about ``order`` (unit = the shop)."""
    return ctx.open_case(
        kind=kind,
        title=title,
        unit=order.shop,
        data={"order_no": order.order_no, "order_id": order.id, **data},
        actor=by,
    )


def order_of(ctx: Ctx, case: Case) -> Order | None:
    """The order a case is about."""
    order_id = (case.data or {}).get("order_id")
    return ctx.db().get(Order, order_id) if order_id else None


# ------------------------------------------------------------------ order change, special request


def request_change(ctx: Ctx, case: Case, order: Order, change: str, text: str, by: str | None = None) -> str:
    """An order change (``address``, ``attribute``) or ``special`` request, by the print state now.

    not printed → change + remark + packer notice; printed → warehouse hands back the slips
    (发货单/快递单) to amend; packed → the parcel comes back and is reprinted; shipped →
    after-sales. Returns the branch taken (the print state).
    """
    state = order.print_state
    author = _author(ctx, by)
    today = ctx.local_now().date()
    _data(case, order_id=order.id, order_no=order.order_no, change=change, text=text, print_state=state)
    context = _order_context(ctx, order, change=change, text=text, case_number=case.number)
    if state == rules.NOT_PRINTED:
        if change == "address":
            order.address = text
        add_remark(ctx, order, rules.remark(change, text, today, author), author, case)
        ctx.set_step(case, kinds.NOTE_AND_TELL, reason="未打单: 已修改并备注, 通知打单")
        tell_role(ctx, "packer", order.shop, f"{case.number}/packer", "packer_notice.txt", context, case=case)
        reply_to_buyer(ctx, case, "confirm", "change_done.txt", {**context, "address": mask_address(text)})
        ctx.resolve(case, reason="已修改妥当并通知打单")
    elif state in (rules.PRINTED, rules.PACKED):
        step = kinds.AMEND_SLIPS if state == rules.PRINTED else kinds.REPRINT
        ctx.set_step(case, step, reason=f"{state}: 到仓库取回{'发货单与快递单' if state == rules.PRINTED else '包裹'}")
        tell_role(ctx, "warehouse", order.shop, f"{case.number}/retrieve", "retrieve_notice.txt", context, case=case)
        if state == rules.PACKED:
            tell_role(ctx, "packer", order.shop, f"{case.number}/reprint", "packer_notice.txt", context, case=case)
        give_to(ctx, case, "presales", "售前客服取回单据修改")
    else:
        ctx.set_step(case, kinds.TO_AFTERSALES, reason="已发货: 交由售后客服负责")
        give_to(ctx, case, "aftersales", "已发货, 转售后客服")
        tell_role(
            ctx, "aftersales", order.shop, f"{case.number}/aftersales", "aftersales_notice.txt", context, case=case
        )
    return state


def slips_amended(ctx: Ctx, case: Case, by: str | None = None) -> Remark:
    """The slips were amended (printed) or the parcel reprinted (packed): the remark, and done."""
    order = order_of(ctx, case)
    data = case.data or {}
    if order is None or case.step not in (kinds.AMEND_SLIPS, kinds.REPRINT):
        raise CaseError(f"{case.number}：没有待取回的单据或包裹")
    author = _author(ctx, by)
    change, text = str(data.get("change", "special")), str(data.get("text", ""))
    if change == "address":
        order.address = text
    on_slips = case.step == kinds.AMEND_SLIPS
    remark = add_remark(
        ctx, order, rules.remark(change, text, ctx.local_now().date(), author, on_slips=on_slips), author, case
    )
    if case.step == kinds.REPRINT and order.print_state == rules.PACKED:
        order.print_state = rules.PRINTED  # reprinted: a new slip, the parcel to be packed again
    ctx.resolve(case, actor=by or "system", reason="已在发货单与快递单上修改妥当" if on_slips else "已重新打单")
    return remark


def mark_packed(ctx: Ctx, order: Order, by: str | None = None) -> bool:
    """The packer's 已打包 (no export carries it); False if the order is past it already."""
    if rules.PRINT_RANK[order.print_state] >= rules.PRINT_RANK[rules.PACKED]:
        return False
    order.print_state = rules.PACKED
    order.updated_at = ctx.now()
    ctx.log.info("%s order %s packed by %s", ctx.name, order.order_no, by or "packer")
    return True


# ------------------------------------------------------------------ cancel after payment


def cancel(ctx: Ctx, case: Case, order: Order, by: str | None = None) -> str:
    """The buyer no longer wants a paid order: the seed's branch for the print state now."""
    state = order.print_state
    _data(case, order_id=order.id, order_no=order.order_no, print_state=state)
    context = _order_context(ctx, order, case_number=case.number)
    if state == rules.NOT_PRINTED:
        ctx.set_step(case, kinds.VOID, reason="未打单: 通知打单作废")
        tell_role(ctx, "packer", order.shop, f"{case.number}/void", "void_notice.txt", context, case=case)
    elif state in (rules.PRINTED, rules.PACKED):
        ctx.set_step(case, kinds.RETRIEVE, reason=f"{state}: 到仓库要回单据或包裹")
        tell_role(ctx, "warehouse", order.shop, f"{case.number}/retrieve", "retrieve_notice.txt", context, case=case)
    else:
        recall(ctx, case, order, by)
    return state


def recall(ctx: Ctx, case: Case, order: Order, by: str | None = None) -> AfterSalesEntry:
    """Shipped: courier recall, a 售后登记表 line and the two-part 快件退回单 (售后 ②)."""
    entry = AfterSalesEntry(
        order_id=order.id, case_id=case.id, kind="recall", reason="已发货后买家取消", created_at=ctx.now()
    )
    ctx.db().add(entry)
    ctx.db().flush()
    _data(case, recall=True, received=False, entry_id=entry.id)
    ctx.set_step(case, kinds.RECALL, reason="已发货: 联系快递撤回, 登记售后登记表, 打印两联快件退回单")
    give_to(ctx, case, "aftersales", "已发货取消: 售后客服撤回包裹")
    context = _order_context(
        ctx, order, case_number=case.number, carrier=order.carrier, tracking_no=order.tracking_no, entry_id=entry.id
    )
    tell_role(ctx, "aftersales", order.shop, f"{case.number}/recall", "recall_notice.txt", context, case=case)
    for key in people_for(ctx, ctx.config.role("packer", order.shop)):
        person = ctx.person(key)
        ctx.queue(
            key=f"{case.number}/return_slip/{key}/letter",
            channel="letter",
            recipient=person.name if person else key,
            recipient_name=person.name if person else None,
            address=f"{ctx.site_name} 打单",
            template="return_slip.html",
            context={**context, "today": ctx.local_now().date().isoformat()},
            case=case,
            audience="staff",
        )
    return entry


def parcel_received(ctx: Ctx, order: Order, by: str) -> AfterSalesEntry:
    """The packer signs 原包裹已收到 on the 售后登记表; the refund step opens (售后 ②)."""
    entry = (
        ctx.db()
        .scalars(
            select(AfterSalesEntry)
            .where(AfterSalesEntry.order_id == order.id, AfterSalesEntry.received_at.is_(None))
            .order_by(AfterSalesEntry.id.desc())
        )
        .first()
    )
    if entry is None:
        raise CaseError(f"订单 {order.order_no}：没有等待原包裹的撤回或退货")
    entry.received_by, entry.received_at = by, ctx.now()
    case = ctx.db().get(Case, entry.case_id) if entry.case_id else None
    if case is not None:
        _data(case, received=True, received_by=by)
        ctx.record_event(case, "note", actor=by, reason=f"原包裹已收到 {_author(ctx, by)} {ctx.local_now():%Y-%m-%d}")
        ctx.set_step(case, kinds.REFUND, actor=by, reason="原包裹已收到, 售后客服处理退款")
        tell_role(
            ctx,
            "aftersales",
            order.shop,
            f"{case.number}/refund",
            "refund_task.txt",
            _order_context(ctx, order, case_number=case.number),
            case=case,
        )
    return entry


def step_done(ctx: Ctx, case: Case, by: str | None = None) -> str:
    """The packer voided or the warehouse handed back: the refund step; returns the new step."""
    if case.step not in (kinds.VOID, kinds.RETRIEVE):
        raise CaseError(f"{case.number} 在“{case.step}”步骤，没有需要确认的事项")
    order = order_of(ctx, case)
    ctx.set_step(case, kinds.REFUND, actor=by or "system", reason="已作废" if case.step == kinds.VOID else "已取回")
    give_to(ctx, case, "aftersales", "售后客服处理退款")
    if order is not None:
        tell_role(
            ctx,
            "aftersales",
            order.shop,
            f"{case.number}/refund",
            "refund_task.txt",
            _order_context(ctx, order, case_number=case.number),
            case=case,
        )
    return kinds.REFUND


def refund(ctx: Ctx, case: Case, by: str | None = None) -> None:
    """After-sales refunds: never before the packer's 原包裹已收到 on a recall (售后 ②)."""
    data = case.data or {}
    if data.get("recall") and not data.get("received"):
        raise CaseError(f"{case.number}：原包裹尚未收到，打单员签收“原包裹已收到”之前不能退款")
    if case.step != kinds.REFUND:
        raise CaseError(f"{case.number} 在“{case.step}”步骤，不在“{kinds.REFUND}”")
    order = order_of(ctx, case)
    entry_id = data.get("entry_id")
    entry = ctx.db().get(AfterSalesEntry, entry_id) if entry_id else None
    if entry is not None:
        entry.refunded_at = ctx.now()
    if order is not None and order.status in (rules.PAID, rules.SHIPPED_STATUS):
        order.status = rules.CLOSED
    ctx.resolve(case, actor=by or "system", reason="已退款")


# ------------------------------------------------------------------ returns and exchanges


def start_return(ctx: Ctx, case: Case, order: Order, quality: bool, reason: str = "") -> AfterSalesEntry:
    """The policy reply by the quality-fault flag; photos asked for a quality claim (售后 ③④)."""
    entry = AfterSalesEntry(
        order_id=order.id, case_id=case.id, kind="return", reason=reason, quality_fault=quality, created_at=ctx.now()
    )
    ctx.db().add(entry)
    ctx.db().flush()
    _data(case, order_id=order.id, order_no=order.order_no, quality=quality, entry_id=entry.id)
    reply_to_buyer(
        ctx,
        case,
        "policy",
        "return_policy.txt",
        _order_context(ctx, order, quality=quality, days=ctx.config.returns.tracking_within.days),
    )
    if quality:
        ctx.set_step(case, kinds.PHOTOS, reason="质量问题: 请买家拍照证实")
    else:
        ctx.set_step(case, kinds.TRACKING, reason="非质量问题: 买家承担退回运费, 待退货单号")
    give_to(ctx, case, "aftersales", "退换货")
    return entry


def photos_received(ctx: Ctx, case: Case, count: int) -> None:
    """The buyer's photos came (kept as the case's attachments): on to the return tracking number."""
    if case.step == kinds.PHOTOS and count:
        ctx.record_event(case, "note", actor="customer", reason=f"买家照片 {count} 张")
        ctx.set_step(case, kinds.TRACKING, actor="customer", reason="已收到照片, 待退货单号")


def register_tracking(ctx: Ctx, order: Order, number: str, by: str = "customer") -> AfterSalesEntry:
    """The buyer's return tracking number, registered on the 售后退换货 line (any channel)."""
    entry = (
        ctx.db()
        .scalars(
            select(AfterSalesEntry)
            .where(AfterSalesEntry.order_id == order.id, AfterSalesEntry.kind == "return")
            .order_by(AfterSalesEntry.id.desc())
        )
        .first()
    )
    if entry is None:
        raise CaseError(f"订单 {order.order_no}：没有登记退换货")
    entry.return_tracking = number
    order.return_tracking = number
    case = ctx.db().get(Case, entry.case_id) if entry.case_id else None
    if case is not None and case.state not in ("resolved", "closed"):
        ctx.record_event(case, "note", actor=by, reason=f"退货单号 {number}")
        ctx.set_step(case, kinds.RECEIVING, actor=by, reason="退货单号已登记, 待收退货")
    return entry


def remind_tracking(ctx: Ctx, case: Case) -> None:
    """No return tracking number in N days: the buyer is reminded, after-sales told."""
    order = order_of(ctx, case)
    if order is None:
        return
    context = _order_context(ctx, order, case_number=case.number)
    reply_to_buyer(ctx, case, "tracking_reminder", "tracking_reminder.txt", context)
    tell_role(ctx, "aftersales", order.shop, f"{case.number}/tracking", "tracking_overdue.txt", context, case=case)


# ------------------------------------------------------------------ bank transfers


def register_transfer(
    ctx: Ctx,
    *,
    shop: str,
    payer: str,
    amount: Decimal,
    paid_on: date,
    bank_ref: str = "",
    contact: str = "",
    by: str = "system",
) -> BankTransfer:
    """A line of the 银行转账明细表 and its follow-up case (daily until matched)."""
    row = BankTransfer(
        shop=shop,
        payer=payer,
        amount=amount,
        paid_on=paid_on,
        bank_ref=bank_ref,
        contact=contact,
        created_at=ctx.now(),
    )
    ctx.db().add(row)
    ctx.db().flush()
    case = ctx.open_case(
        kind=kinds.TRANSFER,
        title=f"银行转账 {amount} 元 {paid_on.isoformat()}",
        unit=shop,
        data={"transfer_id": row.id},
        actor=by,
    )
    row.case_id = case.id
    give_to(ctx, case, "presales", "售前客服跟踪银行转账订单")
    return row


def match_transfer(ctx: Ctx, transfer: BankTransfer, order_no: str, by: str = "system") -> None:
    """The transfer is matched to its order: the follow-up ends."""
    transfer.order_no, transfer.matched_at = order_no, ctx.now()
    case = ctx.db().get(Case, transfer.case_id) if transfer.case_id else None
    if case is not None and case.state not in ("resolved", "closed"):
        ctx.resolve(case, actor=by, reason=f"已对应订单 {order_no}")


def follow_up_transfers(ctx: Ctx, today: date) -> int:
    """Each unmatched transfer reminded once a day to 售前客服; how many."""
    count = 0
    for row in ctx.db().scalars(select(BankTransfer).where(BankTransfer.matched_at.is_(None))):
        count += bool(
            tell_role(
                ctx,
                "presales",
                row.shop,
                f"transfer/{row.id}/{today.isoformat()}",
                "transfer_follow_up.txt",
                {"payer": row.payer, "amount": str(row.amount), "paid_on": row.paid_on.isoformat(), "id": row.id},
                channels=("email",),
            )
        )
    return count
