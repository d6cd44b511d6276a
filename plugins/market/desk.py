"""The store service desk (第二篇 卖场客服组): lost items, gift stock, and the desk registers.

Registers: returns/exchanges (退换货) and invoices (开具发票) with their outcome,
membership cards (会员卡: 受理 → 审核 → 发卡), parcel storage (存包: a ticket,
collected or not by closing), customer suggestions (forwarded to the supervisor).
Each month's registers export as CSV (one file, a register column) or XLSX (a sheet
per register).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

from openpyxl import Workbook
from sqlalchemy import select

from kefu.plugins.market.config import Ctx
from kefu.plugins.market.models import DeskEntry, GiftStock, LostItem
from kefu.plugins.market.notify import tell

REGISTERS = {
    "return": "退换货",
    "invoice": "开具发票",
    "membership": "会员卡",
    "parcel": "存包",
    "suggestion": "意见建议",
}
MEMBERSHIP_STEPS = ("受理", "审核", "发卡")


class DeskError(ValueError):
    """A desk entry the rules refuse (a negative gift balance, a step out of order …)."""


# ------------------------------------------------------------------ lost items


def register_lost(
    ctx: Ctx, description: str, *, place: str = "", owner_phone: str | None = None, by: str = "desk"
) -> LostItem:
    """Register a lost item; a known owner is texted at once; held ``desk.lost_hold`` (30 d)."""
    now = ctx.now()
    hold = ctx.config.desk.lost_hold
    item = LostItem(
        found_at=now,
        place=place,
        description=description,
        owner_phone=owner_phone,
        held_until=(now.astimezone(ctx.tz) + hold).date(),
        closed_by="",
    )
    ctx.db().add(item)
    ctx.db().flush()
    if owner_phone:
        ctx.queue(
            key=f"{ctx.name}/lost/{item.id}/owner/sms",
            channel="sms",
            recipient=owner_phone,
            template="lost_owner.txt",
            context={
                "description": description,
                "place": place,
                "held_until": item.held_until.isoformat(),
                "site_name": ctx.site_name,
            },
        )
    return item


def return_lost(ctx: Ctx, item_id: int, *, to: str, by: str) -> LostItem:
    """Hand a held item back to its owner."""
    item = ctx.db().get(LostItem, item_id)
    if item is None or item.state != "held":
        raise DeskError(f"lost item {item_id} is not held at the desk")
    item.state, item.closed_at, item.closed_by = "returned", ctx.now(), f"{by} → {to}"
    return item


def report_unclaimed(ctx: Ctx, today: date) -> int:
    """Items held past their time are reported to ``desk.lost_report_to``; how many."""
    items = list(ctx.db().scalars(select(LostItem).where(LostItem.state == "held", LostItem.held_until < today)))
    for item in items:
        tell(
            ctx,
            ctx.config.desk.lost_report_to,
            f"lost/{item.id}/report",
            "lost_report.txt",
            {
                "item_id": item.id,
                "description": item.description,
                "place": item.place,
                "found_on": item.found_at.astimezone(ctx.tz).date().isoformat(),
            },
            channels=("email",),
        )
        item.state, item.closed_at, item.closed_by = "reported", ctx.now(), "system"
    return len(items)


# ------------------------------------------------------------------ gift stock


def gift_move(ctx: Ctx, gift: str, qty: int, *, by: str, note: str = "") -> int:
    """Add (qty > 0) or issue (qty < 0) a gift; an issue beyond the stock is refused. The new balance."""
    session = ctx.db()
    stock = session.scalars(select(GiftStock).where(GiftStock.gift == gift).with_for_update()).one_or_none()
    if stock is None:
        if qty < 0:
            raise DeskError(f"gift {gift!r} has no stock")
        stock = GiftStock(gift=gift, balance=0)
        session.add(stock)
    if stock.balance + qty < 0:
        raise DeskError(f"gift {gift!r}: {stock.balance} in stock, cannot issue {-qty}")
    stock.balance += qty
    entry(ctx, "gift", f"{gift} {qty:+d}", by=by, outcome=note, state=str(stock.balance))
    return stock.balance


# ------------------------------------------------------------------ registers


def entry(
    ctx: Ctx,
    register: str,
    detail: str,
    *,
    customer: str = "",
    phone: str | None = None,
    by: str = "desk",
    state: str = "",
    outcome: str = "",
) -> DeskEntry:
    """Add an entry to a register; a suggestion is forwarded to the supervisor at once."""
    if register not in REGISTERS and register != "gift":
        raise DeskError(f"{register!r}: write one of {', '.join(REGISTERS)}")
    now = ctx.now()
    if register == "membership":
        state = MEMBERSHIP_STEPS[0]
    elif register == "parcel":
        state = state or "stored"
    row = DeskEntry(
        register=register,
        at=now,
        customer=customer,
        phone=phone,
        detail=detail,
        state=state,
        outcome=outcome,
        by=by,
        updated_at=now,
    )
    ctx.db().add(row)
    ctx.db().flush()
    if register == "suggestion":
        tell(
            ctx,
            ctx.config.desk.supervisor,
            f"suggestion/{row.id}",
            "suggestion.txt",
            {"entry_id": row.id, "customer": customer or "顾客", "detail": detail},
            channels=("email",),
        )
    return row


def advance_membership(ctx: Ctx, entry_id: int, *, by: str) -> str:
    """受理 → 审核 → 发卡, one step at a time; the new step."""
    row = ctx.db().get(DeskEntry, entry_id)
    if row is None or row.register != "membership":
        raise DeskError(f"no membership application {entry_id}")
    i = MEMBERSHIP_STEPS.index(row.state)
    if i == len(MEMBERSHIP_STEPS) - 1:
        raise DeskError(f"application {entry_id}: the card was issued already")
    row.state, row.by, row.updated_at = MEMBERSHIP_STEPS[i + 1], by, ctx.now()
    return row.state


def collect_parcel(ctx: Ctx, entry_id: int, *, by: str) -> None:
    """The parcel of ticket ``entry_id`` was collected."""
    row = ctx.db().get(DeskEntry, entry_id)
    if row is None or row.register != "parcel" or row.state != "stored":
        raise DeskError(f"ticket {entry_id} is not a stored parcel")
    row.state, row.by, row.updated_at = "collected", by, ctx.now()


def parcels_left(ctx: Ctx, today: date) -> int:
    """At closing: parcels of ``today`` not collected are told to the supervisor; how many."""
    start = datetime.combine(today, datetime.min.time(), tzinfo=ctx.tz)
    rows = list(
        ctx.db().scalars(
            select(DeskEntry).where(
                DeskEntry.register == "parcel",
                DeskEntry.state == "stored",
                DeskEntry.at >= start,
                DeskEntry.at < start + timedelta(days=1),
            )
        )
    )
    if rows:
        tell(
            ctx,
            ctx.config.desk.supervisor,
            f"parcels/{today}",
            "parcels_left.txt",
            {"day": today.isoformat(), "tickets": [r.id for r in rows]},
            channels=("email",),
        )
    return len(rows)


# ------------------------------------------------------------------ monthly exports

HEADER = ["登记簿", "编号", "时间", "顾客", "电话", "内容", "状态", "结果", "经办人"]


def month_rows(ctx: Ctx, month: str) -> dict[str, list[list[str]]]:
    """The month's registers (``2026-11``), lost items included, as rows by register label."""
    first = datetime.fromisoformat(f"{month}-01T00:00:00").replace(tzinfo=ctx.tz)
    after = (first + timedelta(days=32)).replace(day=1)
    out: dict[str, list[list[str]]] = {}
    for e in ctx.db().scalars(
        select(DeskEntry).where(DeskEntry.at >= first, DeskEntry.at < after).order_by(DeskEntry.at, DeskEntry.id)
    ):
        label = REGISTERS.get(e.register, "赠品")
        out.setdefault(label, []).append(
            [
                label,
                str(e.id),
                f"{e.at.astimezone(ctx.tz):%Y-%m-%d %H:%M}",
                e.customer,
                e.phone or "",
                e.detail,
                e.state,
                e.outcome,
                e.by,
            ]
        )
    for item in ctx.db().scalars(
        select(LostItem)
        .where(LostItem.found_at >= first, LostItem.found_at < after)
        .order_by(LostItem.found_at, LostItem.id)
    ):
        out.setdefault("遗留商品", []).append(
            [
                "遗留商品",
                str(item.id),
                f"{item.found_at.astimezone(ctx.tz):%Y-%m-%d %H:%M}",
                "",
                item.owner_phone or "",
                f"{item.description}（{item.place}）",
                item.state,
                f"保管至 {item.held_until}",
                item.closed_by,
            ]
        )
    return out


def export_month(ctx: Ctx, month: str, fmt: str) -> bytes:
    """The month's registers as CSV (UTF-8 with BOM, as Excel opens it) or XLSX (a sheet per register)."""
    rows = month_rows(ctx, month)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(HEADER)
        for label in sorted(rows):
            writer.writerows(rows[label])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")
    if fmt != "xlsx":
        raise DeskError(f"format {fmt!r}: write csv or xlsx")
    book = Workbook()
    first = book.active
    for i, label in enumerate(sorted(rows) or ["登记簿"]):
        sheet = first if i == 0 and first is not None else book.create_sheet()
        sheet.title = label
        sheet.append(HEADER)
        for row in rows.get(label, []):
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
