"""``kefu ecommerce …``: order imports, the desk's actions by staff (each a function of ``desk`` a
console view can call too), the digest and the bank-transfer register."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from sqlalchemy import select

from kefu.api import Case, CaseError, command_context, emit, json_option
from kefu.api.imports import ImportFileError, RowError, import_options, run, show_report
from kefu.plugins.ecommerce import desk, disputes, kinds, rules
from kefu.plugins.ecommerce.config import Ctx
from kefu.plugins.ecommerce.imports import OrderImport, maps_of
from kefu.plugins.ecommerce.models import BankTransfer, Order
from kefu.plugins.ecommerce.notify import mask_address, mask_name
from kefu.plugins.ecommerce.orders import find_order


@contextmanager
def _ctx() -> Iterator[Ctx]:
    """The plugin's context in one transaction (committed when the command succeeds)."""
    with command_context(__name__).transaction() as ctx:
        try:
            yield ctx
        except (CaseError, RowError) as exc:
            raise click.ClickException(str(exc)) from exc


def _order(ctx: Ctx, number: str, shop: str | None) -> Order:
    order = find_order(ctx, number, shop)
    if order is None:
        raise click.ClickException(
            f"no order {number}{f' in shop {shop}' if shop else ''} (or it is in several shops: --shop)"
        )
    return order


def _case(ctx: Ctx, number: str) -> Case:
    case = ctx.find_case(number)
    if case is None or ctx.kind_of(case) is None:
        raise click.ClickException(f"no {ctx.name} case {number}")
    return case


shop_option = click.option("--shop", default=None, help="the shop key of [ecommerce.shops] (default: the only one)")
by_option = click.option("--by", default=None, help="the staff key acting (names the remark)")


@click.group()
def ecommerce() -> None:
    """Online shop after-sales desk (电商客服): orders, changes, cancellations, returns."""


@ecommerce.group("import")
def import_group() -> None:
    """Import order files (CSV in UTF-8/GBK/GB18030, or XLSX)."""


@import_group.command("orders")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--map", "map_name", default=None, help="column map: taobao, tmall_refund, edb, jst, wdt or [ecommerce.maps]"
)
@shop_option
@import_options
def import_orders(file: Path, map_name: str | None, shop: str | None, dry_run: bool, as_json: bool) -> None:
    """Import an order export: one order per shop + order number; a re-import changes nothing."""
    try:
        with _ctx() as ctx:
            report = run(ctx, OrderImport(ctx, map_name, shop), file, dry_run=dry_run)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    show_report(report, as_json)


@ecommerce.command("maps")
@json_option
def maps_cmd(as_json: bool) -> None:
    """The column maps (ready ones and [ecommerce.maps])."""
    with _ctx() as ctx:
        rows = [
            {"map": name, "field": f, "headers": " / ".join(h)}
            for name, spec in maps_of(ctx).items()
            for f, h in spec.items()
        ]
    emit(rows, as_json)


@ecommerce.command("orders")
@shop_option
@click.option("--state", default=None, help="only this print state (未打单/已打单/已打包/已发货)")
@json_option
def orders_cmd(shop: str | None, state: str | None, as_json: bool) -> None:
    """Orders with their status, print state and promise; buyer data masked."""
    with _ctx() as ctx:
        query = select(Order).order_by(Order.shop, Order.order_no)
        if shop:
            query = query.where(Order.shop == shop)
        if state:
            query = query.where(Order.print_state == state)
        rows = [
            {
                "shop": o.shop,
                "order": o.order_no,
                "status": rules.STATUS_LABEL.get(o.status, o.status),
                "print": o.print_state,
                "promised": o.promised_on.isoformat() if o.promised_on else "",
                "buyer": mask_name(o.buyer),
                "address": mask_address(o.address),
                "flag": o.seller_flag,
            }
            for o in ctx.db().scalars(query.limit(1000))
        ]
    emit(rows, as_json)


@ecommerce.command("change")
@click.argument("order_no")
@click.option("--address", default=None, help="the new address (客户要求修改地址)")
@click.option("--attribute", default=None, help="what the item changes to (客户拍下，要求修改成)")
@click.option("--special", default=None, help="a special request: 快递, 发票抬头, 贺卡, 送货时间")
@shop_option
@by_option
def change_cmd(
    order_no: str, address: str | None, attribute: str | None, special: str | None, shop: str | None, by: str | None
) -> None:
    """A staff entry of a buyer's change or special request: the branch for the order's print state now."""
    given = [(k, v) for k, v in (("address", address), ("attribute", attribute), ("special", special)) if v]
    if len(given) != 1:
        raise click.ClickException("give exactly one of --address, --attribute, --special")
    change, text = given[0]
    with _ctx() as ctx:
        order = _order(ctx, order_no, shop)
        case = desk.case_for(ctx, order, kinds.CHANGE, title=f"{order.order_no} {change}", by=by or "staff")
        branch = desk.request_change(ctx, case, order, change, text, by)
        click.echo(f"{case.number}: {order.order_no} {branch} → {case.step}")


@ecommerce.command("amended")
@click.argument("case_number")
@by_option
def amended_cmd(case_number: str, by: str | None) -> None:
    """The slips are amended (已打单) or the parcel reprinted (已打包): the remark is recorded."""
    with _ctx() as ctx:
        remark = desk.slips_amended(ctx, _case(ctx, case_number), by)
        click.echo(remark.text)


@ecommerce.command("packed")
@click.argument("order_no")
@shop_option
@by_option
def packed_cmd(order_no: str, shop: str | None, by: str | None) -> None:
    """The packer's 已打包 (no export carries it)."""
    with _ctx() as ctx:
        order = _order(ctx, order_no, shop)
        changed = desk.mark_packed(ctx, order, by)
        click.echo(f"{order.order_no}: {order.print_state}{'' if changed else ' (unchanged)'}")


@ecommerce.command("cancel")
@click.argument("order_no")
@shop_option
@by_option
def cancel_cmd(order_no: str, shop: str | None, by: str | None) -> None:
    """The buyer cancels after paying: void, retrieve or recall by the print state now."""
    with _ctx() as ctx:
        order = _order(ctx, order_no, shop)
        case = desk.case_for(ctx, order, kinds.CANCEL, title=f"{order.order_no} 取消", by=by or "staff")
        desk.cancel(ctx, case, order, by)
        click.echo(f"{case.number}: {order.order_no} {order.print_state} → {case.step}")


@ecommerce.command("done")
@click.argument("case_number")
@by_option
def done_cmd(case_number: str, by: str | None) -> None:
    """The packer voided the order, or the warehouse handed back the slip/parcel: on to the refund."""
    with _ctx() as ctx:
        click.echo(desk.step_done(ctx, _case(ctx, case_number), by))


@ecommerce.command("received")
@click.argument("order_no")
@shop_option
@click.option("--by", required=True, help="the packer (打单) who signs 原包裹已收到")
def received_cmd(order_no: str, shop: str | None, by: str) -> None:
    """The packer signs 原包裹已收到 on the 售后登记表: the refund may follow."""
    with _ctx() as ctx:
        entry = desk.parcel_received(ctx, _order(ctx, order_no, shop), by)
        click.echo(f"售后登记表 #{entry.id}: 原包裹已收到 {by}")


@ecommerce.command("refund")
@click.argument("case_number")
@by_option
def refund_cmd(case_number: str, by: str | None) -> None:
    """After-sales refunded: refused on a recall before 原包裹已收到."""
    with _ctx() as ctx:
        case = _case(ctx, case_number)
        desk.refund(ctx, case, by)
        click.echo(f"{case.number}: {case.state}")


@ecommerce.command("return")
@click.argument("order_no")
@click.option("--quality/--no-quality", default=False, help="the buyer reports a quality fault (photos requested)")
@click.option("--reason", default="")
@shop_option
@by_option
def return_cmd(order_no: str, quality: bool, reason: str, shop: str | None, by: str | None) -> None:
    """A return/exchange entered by staff: the policy reply by the quality-fault flag."""
    with _ctx() as ctx:
        order = _order(ctx, order_no, shop)
        case = desk.case_for(ctx, order, kinds.RETURN, title=f"{order.order_no} 退换货", by=by or "staff")
        desk.start_return(ctx, case, order, quality, reason)
        click.echo(f"{case.number}: {case.step}")


@ecommerce.command("tracking")
@click.argument("order_no")
@click.argument("number")
@shop_option
@by_option
def tracking_cmd(order_no: str, number: str, shop: str | None, by: str | None) -> None:
    """Register the buyer's return tracking number (told by phone, Wangwang …)."""
    with _ctx() as ctx:
        desk.register_tracking(ctx, _order(ctx, order_no, shop), number, by or "staff")
        click.echo(f"{order_no}: 退货单号 {number}")


@ecommerce.command("touch")
@click.argument("order_no")
@shop_option
@click.option("--by", required=True)
@click.option("--note", default="")
def touch_cmd(order_no: str, shop: str | None, by: str, note: str) -> None:
    """Staff acted on a dispute (举证, 协商): its untouched clock starts again."""
    with _ctx() as ctx:
        disputes.touch(ctx, _order(ctx, order_no, shop), by, note)


@ecommerce.command("digest")
@click.option("--send", is_flag=True, help="queue it to after-sales and the supervisor now")
@json_option
def digest_cmd(send: bool, as_json: bool) -> None:
    """Orders in refund or dispute, nearest platform deadline first, with the two flags."""
    with _ctx() as ctx:
        if send:
            disputes.send_digest(ctx, ctx.local_now().date().isoformat())
        rows = [
            {
                "deadline": r.deadline.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M") if r.deadline else "",
                "shop": r.shop,
                "order": r.order_no,
                "refund": r.refund_status,
                "dispute": r.dispute_state,
                "flags": "、".join(r.flags),
                "buyer": r.buyer,
            }
            for r in disputes.digest_rows(ctx)
        ]
    emit(rows, as_json)


@ecommerce.group("transfer")
def transfer() -> None:
    """The 银行转账明细表: register a transfer, match it to its order."""


@transfer.command("add")
@click.option("--payer", required=True)
@click.option("--amount", required=True)
@click.option("--on", "paid_on", default=None, help="the transfer's date (default: today)")
@click.option("--ref", default="", help="the bank's reference")
@click.option("--contact", default="", help="the buyer's ID or phone")
@shop_option
def transfer_add(payer: str, amount: str, paid_on: str | None, ref: str, contact: str, shop: str | None) -> None:
    """Register a buyer's bank transfer; it is followed up daily until matched."""
    try:
        value = Decimal(amount)
    except InvalidOperation as exc:
        raise click.ClickException(f"--amount {amount!r} is not a number") from exc
    with _ctx() as ctx:
        row = desk.register_transfer(
            ctx,
            shop=ctx.config.shop_key(shop),
            payer=payer,
            amount=value,
            paid_on=date.fromisoformat(paid_on) if paid_on else ctx.local_now().date(),
            bank_ref=ref,
            contact=contact,
        )
        click.echo(f"银行转账明细表 #{row.id}")


@transfer.command("match")
@click.argument("transfer_id", type=int)
@click.argument("order_no")
def transfer_match(transfer_id: int, order_no: str) -> None:
    """The transfer belongs to ORDER_NO: the follow-up ends."""
    with _ctx() as ctx:
        row = ctx.db().get(BankTransfer, transfer_id)
        if row is None:
            raise click.ClickException(f"no transfer #{transfer_id}")
        desk.match_transfer(ctx, row, order_no, "staff")
