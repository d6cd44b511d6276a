"""Imports: households, the fee ledger, station measurement sheets, visits, coal-lab and audit records.

Every import is idempotent (keyed on account number, account+season, account+time,
sample+measure, audit ref) and runs in the caller's transaction; bad rows are
reported by line and the good ones still land.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy import select

from kefu.api import Customer
from kefu.plugins.heating import csvfiles as cf
from kefu.plugins.heating import fees
from kefu.plugins.heating.config import Ctx
from kefu.plugins.heating.models import FeeEntry, Household, Visit

HOUSEHOLD_COLUMNS = {
    "account": ("户号", "用户编号", "账号", "account_no"),
    "name": ("户主", "姓名", "用户名"),
    "phone": ("电话", "手机", "联系电话", "mobile"),
    "address": ("地址", "住址"),
    "building": ("楼栋", "楼号", "楼"),
    "station": ("所站", "站", "换热站", "锅炉房", "站所"),
    "branch": ("分公司",),
    "heated_area": ("供热面积", "面积", "area"),
    "payment_status": ("缴费状态", "交费状态", "payment"),
}
FEE_COLUMNS = {
    "account": HOUSEHOLD_COLUMNS["account"],
    "season": ("采暖期", "供暖期", "年度", "season_year"),
    "amount_due": ("应收", "应缴", "应收金额", "due"),
    "amount_paid": ("实收", "已缴", "实收金额", "paid"),
    "paid_on": ("缴费日期", "交费日期", "paid_date"),
}
VISIT_COLUMNS = {
    "station": HOUSEHOLD_COLUMNS["station"],
    "visited_on": ("走访日期", "日期", "date"),
    "staff": ("走访人", "包保人", "责任人"),
    "account": HOUSEHOLD_COLUMNS["account"],
    "note": ("情况", "备注", "问题"),
}
_PAYMENT = {"已缴": "paid", "已交": "paid", "paid": "paid", "未缴": "unpaid", "未交": "unpaid",
            "欠费": "unpaid", "unpaid": "unpaid", "部分": "partial", "partial": "partial", "": "unknown"}
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(value: str) -> str | None:
    """Mainland mobiles to E.164 (+86…); other numbers kept as digits; empty → None."""
    digits = re.sub(r"[\s\-()（）]", "", value)
    if not digits:
        return None
    if digits.startswith("+"):
        return digits
    if digits.startswith("86") and _MOBILE.match(digits[2:]):
        return "+" + digits
    if _MOBILE.match(digits):
        return "+86" + digits
    if not digits.isdigit():
        raise ValueError(f"column 'phone': {value!r} is not a phone number")
    return digits


def import_households(ctx: Ctx, path: Path | str) -> cf.ImportReport:
    """``kefu heating import households FILE``: create or update each household and its customer."""
    cfg = ctx.config
    session = ctx.db()
    now = ctx.now()
    report = cf.ImportReport("households")
    customers = {c.ref: c for c in session.scalars(select(Customer).where(Customer.plugin == ctx.name))}
    households = {h.account: h for h in session.scalars(select(Household))}
    seen: dict[str, int] = {}
    # New households wait for their customer's id: one flush for the whole file, not one per row.
    waiting: list[tuple[Customer, dict[str, object]]] = []

    def handle(line: int, row: dict[str, str]) -> str:
        account = cf.need(row, "account")
        if account in seen:
            raise ValueError(f"account {account!r} already given on line {seen[account]}")
        station = cf.need(row, "station")
        if cfg.stations and station not in cfg.stations:
            raise ValueError(
                f"station {station!r} is not in [heating.stations] ({', '.join(sorted(cfg.stations))})"
            )
        status = _PAYMENT.get(row.get("payment_status", "").lower())
        if status is None:
            raise ValueError(f"column 'payment_status': {row['payment_status']!r} is not 已缴/未缴/部分")
        phone = normalise_phone(row.get("phone", ""))
        area = cf.number(row, "heated_area", 0.0)
        branch = row.get("branch") or (cfg.stations[station].branch if station in cfg.stations else "")
        seen[account] = line
        values: dict[str, object] = {"address": row.get("address", ""), "building": row.get("building", ""),
                                     "station": station, "branch": branch, "heated_area": area,
                                     "payment_status": status}
        contact = {"name": row.get("name", ""), "phone": phone, "address": row.get("address", ""), "unit": station}
        cust = customers.get(account)
        hh = households.get(account)
        if cust is None:
            cust = Customer(plugin=ctx.name, ref=account, created_at=now, **contact)
            session.add(cust)
            customers[account] = cust
            waiting.append((cust, {"account": account, **values}))
            return "created"
        outcome = "updated" if cf.changed(cust, contact) else "unchanged"
        if hh is None:
            waiting.append((cust, {"account": account, **values}))
            return "created"
        if cf.changed(hh, values):
            hh.updated_at = now
            outcome = "updated"
        return outcome

    cf.each_row(report, cf.read_rows(path, HOUSEHOLD_COLUMNS, ("account", "station")), handle)
    session.flush()
    for cust, values in waiting:
        session.add(Household(customer_id=cust.id, updated_at=now, **values))
    session.flush()
    return report


def import_fees(ctx: Ctx, path: Path | str) -> cf.ImportReport:
    """Fee ledger: amount due and paid per account and season; sets each household's payment status."""
    session = ctx.db()
    now = ctx.now()
    report = cf.ImportReport("fees")
    households = {h.account: h for h in session.scalars(select(Household))}
    entries = {(e.account, e.season_year): e for e in session.scalars(select(FeeEntry))}
    paid_now: dict[int, set[str]] = {}

    def handle(_line: int, row: dict[str, str]) -> str:
        account = cf.need(row, "account")
        hh = households.get(account)
        if hh is None:
            raise ValueError(f"account {account!r} is not a known household; import households first")
        season = int(cf.number(row, "season"))
        due, paid = cf.number(row, "amount_due"), cf.number(row, "amount_paid", 0.0)
        paid_on: date | None = cf.day(row, "paid_on") if row.get("paid_on") else None
        values = {"amount_due": due, "amount_paid": paid, "paid_on": paid_on}
        entry = entries.get((account, season))
        outcome = "unchanged"
        if entry is None:
            entry = FeeEntry(account=account, season_year=season, imported_at=now, **values)
            session.add(entry)
            entries[(account, season)] = entry
            outcome = "created"
        elif cf.changed(entry, values):
            entry.imported_at = now
            outcome = "updated"
        hh.payment_status = "paid" if paid + 0.005 >= due else ("partial" if paid > 0 else "unpaid")
        if hh.payment_status == "paid":
            paid_now.setdefault(season, set()).add(account)
        return outcome

    cf.each_row(report, cf.read_rows(path, FEE_COLUMNS, ("account", "season", "amount_due")), handle)
    session.flush()
    for season, accounts in paid_now.items():  # a reminder still waiting is moot once paid
        fees.cancel_paid_reminders(ctx, accounts, season, "fee ledger import")
    return report


def import_visits(ctx: Ctx, path: Path | str) -> cf.ImportReport:
    """包保走访 records: one row per visit; far-end is read from the station's far-end buildings."""
    session = ctx.db()
    report = cf.ImportReport("visits")
    households = {h.account: h for h in session.scalars(select(Household))}

    def handle(_line: int, row: dict[str, str]) -> str:
        station = cf.need(row, "station")
        visited = cf.day(row, "visited_on")
        account = row.get("account", "")
        staff = row.get("staff", "")
        return record_visit(ctx, station, visited, staff=staff, account=account,
                            note=row.get("note") or None, households=households)

    cf.each_row(report, cf.read_rows(path, VISIT_COLUMNS, ("station", "visited_on")), handle)
    session.flush()
    return report


def record_visit(
    ctx: Ctx,
    station: str,
    visited_on: date,
    *,
    staff: str = "",
    account: str = "",
    note: str | None = None,
    households: dict[str, Household] | None = None,
) -> str:
    """Record one visit (idempotent on station, day, staff, household); 'created' or 'unchanged'."""
    cfg = ctx.config
    if cfg.stations and station not in cfg.stations:
        raise ValueError(f"station {station!r} is not in [heating.stations]")
    session = ctx.db()
    found = session.scalars(select(Visit).where(
        Visit.station == station, Visit.visited_on == visited_on, Visit.staff == staff, Visit.account == account
    )).first()
    if found is not None:
        return "unchanged"
    far = False
    if account:
        hh = (households or {}).get(account) or session.scalars(
            select(Household).where(Household.account == account)).first()
        if hh is None:
            raise ValueError(f"account {account!r} is not a known household")
        st = cfg.stations.get(station)
        far = bool(st and hh.building in st.far_end_buildings)
    session.add(Visit(station=station, visited_on=visited_on, staff=staff, account=account, far_end=far, note=note))
    session.flush()
    return "created"
