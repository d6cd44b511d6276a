"""Imports: the tenant/shop register, the fee ledger and payments, through the core's one pipeline.

Each import declares its row model (Chinese and English headers) and its natural
key — shop number; shop + fee kind + period; the same for a payment plus its date
and amount — and goes through :mod:`kefu.api.imports`: CSV in UTF-8 or GB18030 or an
XLSX workbook, bad rows reported by line while the good ones land, never
half-written, and a re-run of the same file changes nothing.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.api import Customer
from kefu.api.imports import (
    Code,
    Day,
    Importer,
    ImportRow,
    LocalTime,
    Number,
    OptionalPhone,
    Outcome,
    RowError,
    column,
)
from kefu.plugins.market import fees
from kefu.plugins.market.config import Ctx
from kefu.plugins.market.models import FeeLine, FeePayment, OpeningCheck, PatrolCheckin, Shop

SHOP_NO = ("铺位号", "商铺号", "摊位号", "店铺号", "shop")
_PERIOD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")


def cents(value: float) -> Decimal:
    """A money amount as the ledger stores it (two decimals)."""
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def parse_period(text: str) -> str:
    """A billing month as staff write it (2026-11, 2026/11, 2026年11月) → ``2026-11``."""
    match = _PERIOD.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise RowError(f"{text!r} is not a month (write 2026-11)", "period")
    return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"


def _line_key(ctx: Ctx, shop_no: str, kind: str, period: str) -> tuple[str, str, str]:
    """A ledger line's natural key; a kind or period that does not read stays as written (``check`` refuses it)."""
    try:
        return shop_no, fee_kind(ctx, kind), parse_period(period)
    except RowError:
        return shop_no, kind, period


def _differ(obj: object, values: dict[str, object]) -> bool:
    """Set ``values`` on ``obj``; True if any differed (so a re-import reports 'unchanged')."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


# ------------------------------------------------------------------ shops and tenants


class ShopRow(ImportRow):
    """One shop of the register (from the 商铺租用合同 and its 补充协议)."""

    shop_no: Code = column(*SHOP_NO)
    floor: Code = column("楼层", "floor_no")
    area: str = column("片区", "区域", default="")
    tenant: Code = column("经营户编号", "租户编号", "tenant_code")
    tenant_name: str = column("经营户", "租户", "商户名称", "name", default="")
    phone: OptionalPhone = column("联系电话", "电话", "手机", "mobile", default=None)
    contract_start: Day | None = column("合同开始", "起租日", "start", default=None)
    contract_end: Day | None = column("合同结束", "到期日", "end", default=None)
    watch: str = column("关注标记", "重点关注", "watch_flags", default="")


class ShopImport(Importer[ShopRow]):
    """``kefu market import shops``: each shop and its tenant (a customer), keyed by shop number."""

    name = "shops"
    row_model = ShopRow
    key_label = "shop"

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.now = ctx.now()
        self.customers: dict[str, Customer] = {}
        self.shops: dict[str, Shop] = {}

    def key(self, row: ShopRow) -> str:
        """The shop number."""
        return row.shop_no

    def start(self, session: Session) -> None:
        """The market's tenants and shops."""
        self.customers = {
            str(c.ref): c for c in session.scalars(select(Customer).where(Customer.plugin == self.ctx.name))
        }
        self.shops = {s.shop_no: s for s in session.scalars(select(Shop))}

    def check(self, row: ShopRow) -> None:
        """A floor of ``[market.floors]`` (when floors are configured); contract dates in order."""
        floors = self.ctx.config.floors
        if floors and row.floor not in floors:
            raise RowError(
                f"floor {row.floor!r} is not in [market.floors] ({', '.join(sorted(floors))})",
                "floor",
            )
        if row.contract_start and row.contract_end and row.contract_end < row.contract_start:
            raise RowError("the contract ends before it starts", "contract_end")

    def apply(self, session: Session, row: ShopRow) -> Outcome:
        """Create or update the tenant's customer and the shop."""
        contact: dict[str, object] = {
            "name": row.tenant_name,
            "phone": row.phone,
            "unit": row.floor,
        }
        cust = self.customers.get(row.tenant)
        outcome: Outcome = "unchanged"
        if cust is None:
            cust = Customer(plugin=self.ctx.name, ref=row.tenant, created_at=self.now, **contact)
            session.add(cust)
            session.flush()
            self.customers[row.tenant] = cust
            outcome = "created"
        elif _differ(cust, contact):
            outcome = "updated"
        values: dict[str, object] = {
            "floor": row.floor,
            "area": row.area,
            "tenant": row.tenant,
            "customer_id": cust.id,
            "contract_start": row.contract_start,
            "contract_end": row.contract_end,
            "watch": row.watch,
        }
        shop = self.shops.get(row.shop_no)
        if shop is None:
            shop = Shop(shop_no=row.shop_no, updated_at=self.now, **values)
            session.add(shop)
            self.shops[row.shop_no] = shop
            return "created"
        if _differ(shop, values):
            shop.updated_at = self.now
            return "updated" if outcome == "unchanged" else outcome
        return outcome


# ------------------------------------------------------------------ the fee ledger


class FeeRow(ImportRow):
    """One ledger line: a shop's fee of one kind for one month, with its due date."""

    shop_no: Code = column(*SHOP_NO)
    kind: str = column("费用类型", "费用项目", "项目", "fee")
    period: str = column("账期", "所属期", "月份", "month")
    amount: Number = column("金额", "应收金额", "应收")
    due_on: Day = column("缴费期限", "到期日", "截止日期", "due")


def fee_kind(ctx: Ctx, text: str) -> str:
    """The fee kind key for ``text`` (``rent`` or its label ``租金``); RowError if unknown."""
    kinds = ctx.config.fees.kinds
    value = text.strip()
    if value in kinds:
        return value
    for key, label in kinds.items():
        if label == value:
            return key
    raise RowError(f"{text!r} is not a fee kind ({'、'.join(kinds.values())})", "kind")


class FeeImport(Importer[FeeRow]):
    """``kefu market import fees``: ledger lines keyed by shop + kind + period."""

    name = "fee lines"
    row_model = FeeRow
    key_label = "shop/kind/period"

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.now = ctx.now()
        self.lines: dict[tuple[str, str, str], FeeLine] = {}
        self.shops: set[str] = set()

    def key(self, row: FeeRow) -> tuple[str, str, str]:
        """Shop, kind and period."""
        return _line_key(self.ctx, row.shop_no, row.kind, row.period)

    def start(self, session: Session) -> None:
        """The ledger and the register."""
        self.lines = {(f.shop_no, f.kind, f.period): f for f in session.scalars(select(FeeLine))}
        self.shops = set(session.scalars(select(Shop.shop_no)))

    def check(self, row: FeeRow) -> None:
        """A registered shop, a known kind and period, a positive amount."""
        if row.shop_no not in self.shops:
            raise RowError(f"shop {row.shop_no!r} is not in the register (import shops first)", "shop_no")
        fee_kind(self.ctx, row.kind)
        parse_period(row.period)
        if row.amount <= 0:
            raise RowError(f"amount {row.amount:g} must be positive", "amount")

    def apply(self, session: Session, row: FeeRow) -> Outcome:
        """Create the line, or update its amount and due date."""
        shop_no, kind, period = self.key(row)
        values: dict[str, object] = {"amount": cents(row.amount), "due_on": row.due_on}
        line = self.lines.get((shop_no, kind, period))
        if line is None:
            line = FeeLine(
                shop_no=shop_no,
                kind=kind,
                period=period,
                paid=Decimal("0"),
                updated_at=self.now,
                **values,
            )
            session.add(line)
            self.lines[(shop_no, kind, period)] = line
            return "created"
        if _differ(line, values):
            line.updated_at = self.now
            return "updated"
        return "unchanged"


# ------------------------------------------------------------------ payments


class PaymentRow(ImportRow):
    """One payment against a ledger line (from the cashier's or the bank's export)."""

    shop_no: Code = column(*SHOP_NO)
    kind: str = column("费用类型", "费用项目", "项目", "fee")
    period: str = column("账期", "所属期", "月份", "month")
    amount: Number = column("实收金额", "缴费金额", "金额", "paid")
    paid_on: Day = column("缴费日期", "收款日期", "日期", "date")
    receipt: Code = column("收据号", "票据号", "流水号", "receipt_no", default="")


def record_payment(
    ctx: Ctx,
    line: FeeLine,
    amount: Decimal,
    paid_on: date,
    *,
    receipt: str = "",
    source: str = "import",
) -> bool:
    """Add a payment to a line unless it is recorded already (False); a settled line leaves the ladder at once.

    The ladder selects only lines that still owe, so the next run sends nothing for it.
    """
    session = ctx.db()
    seen = session.scalar(
        select(FeePayment.id).where(
            FeePayment.line_id == line.id,
            FeePayment.paid_on == paid_on,
            FeePayment.amount == amount,
            FeePayment.receipt == receipt,
        )
    )
    if seen is not None:
        return False
    session.add(
        FeePayment(
            line_id=line.id,
            paid_on=paid_on,
            amount=amount,
            receipt=receipt,
            source=source,
            recorded_at=ctx.now(),
        )
    )
    line.paid = Decimal(line.paid) + amount
    line.paid_on = paid_on
    line.updated_at = ctx.now()
    fees.settle_escalation(ctx, line)
    return True


class PaymentImport(Importer[PaymentRow]):
    """``kefu market import payments``: payments keyed by line + date + amount, so a re-run adds nothing."""

    name = "payments"
    row_model = PaymentRow
    key_label = "shop/kind/period/date/amount/receipt"

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.lines: dict[tuple[str, str, str], FeeLine] = {}

    def key(self, row: PaymentRow) -> tuple[str, str, str, date, Decimal, str]:
        """The line, the date, the amount and the receipt number."""
        return (
            *_line_key(self.ctx, row.shop_no, row.kind, row.period),
            row.paid_on,
            cents(row.amount),
            row.receipt,
        )

    def start(self, session: Session) -> None:
        """The ledger."""
        self.lines = {(f.shop_no, f.kind, f.period): f for f in session.scalars(select(FeeLine))}

    def check(self, row: PaymentRow) -> None:
        """A line of the ledger and a positive amount."""
        fee_kind(self.ctx, row.kind)
        parse_period(row.period)
        shop_no, kind, period, _day, amount, _receipt = self.key(row)
        if (shop_no, kind, period) not in self.lines:
            raise RowError(f"no ledger line {shop_no}/{kind}/{period} (import the ledger first)", "shop_no")
        if amount <= 0:
            raise RowError(f"amount {row.amount:g} must be positive", "amount")

    def apply(self, session: Session, row: PaymentRow) -> Outcome:
        """Add the payment unless it is recorded already (a re-import)."""
        shop_no, kind, period, paid_on, amount, receipt = self.key(row)
        line = self.lines[(shop_no, kind, period)]
        if not record_payment(self.ctx, line, amount, paid_on, receipt=receipt):
            return "unchanged"
        return "updated"


# ------------------------------------------------------------------ patrol-stick exports


class PatrolRow(ImportRow):
    """One read of a patrol stick (巡更棒): point, the guard's card or staff id, the time."""

    point: Code = column("点位号", "巡查点", "地点编号", "point_no")
    person: Code = column("人员卡号", "卡号", "工号", "巡查人", "card")
    at: LocalTime = column("巡查时间", "时间", "打卡时间", "time")
    status: str = column("状态", "结果", default="")
    problem: str = column("问题", "隐患描述", "备注", default="")


class PatrolImport(Importer[PatrolRow]):
    """``kefu market import patrols``: patrol-stick reads keyed by point + time + person."""

    name = "patrol check-ins"
    row_model = PatrolRow
    key_label = "point/time/person"

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.seen: set[tuple[str, datetime, str]] = set()

    def key(self, row: PatrolRow) -> tuple[str, datetime, str]:
        """Point, time and person."""
        return row.point.upper(), row.at, row.person

    def start(self, session: Session) -> None:
        """The check-ins already recorded."""
        self.seen = {(c.point, c.at, c.person) for c in session.scalars(select(PatrolCheckin))}

    def check(self, row: PatrolRow) -> None:
        """A point of ``[market.patrols.points]`` and a status we read."""
        if row.point.upper() not in self.ctx.config.patrols.points:
            raise RowError(f"patrol point {row.point!r} is not in [market.patrols.points]", "point")
        if row.status not in ("", "正常", "隐患"):
            raise RowError(f"status {row.status!r}: write 正常 or 隐患", "status")

    def apply(self, session: Session, row: PatrolRow) -> Outcome:
        """Record the check-in unless it is there already."""
        key = self.key(row)
        if key in self.seen:
            return "unchanged"
        session.add(
            PatrolCheckin(
                point=key[0],
                at=row.at,
                person=row.person,
                status=row.status,
                problem=row.problem,
                source="stick",
            )
        )
        self.seen.add(key)
        return "created"


# ------------------------------------------------------------------ opening checks


_OPEN = {
    "开门": True,
    "营业": True,
    "是": True,
    "open": True,
    "1": True,
    "y": True,
    "未开门": False,
    "关门": False,
    "未营业": False,
    "否": False,
    "closed": False,
    "0": False,
    "n": False,
}


class OpeningRow(ImportRow):
    """One shop's opening check on one day, as the area supervisor records it (经营户考勤)."""

    shop_no: Code = column(*SHOP_NO)
    day: Day = column("日期", "检查日期", "date")
    opened: str = column("开门营业", "是否开门", "营业情况", "open")
    checked_by: str = column("检查人", "片区主管", "checker", default="")


class OpeningImport(Importer[OpeningRow]):
    """``kefu market import opening``: opening checks keyed by shop + day."""

    name = "opening checks"
    row_model = OpeningRow
    key_label = "shop/day"

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.checks: dict[tuple[str, date], OpeningCheck] = {}
        self.shops: set[str] = set()

    def key(self, row: OpeningRow) -> tuple[str, date]:
        """Shop and day."""
        return row.shop_no, row.day

    def start(self, session: Session) -> None:
        """The checks already recorded and the register."""
        self.checks = {(c.shop_no, c.day): c for c in session.scalars(select(OpeningCheck))}
        self.shops = set(session.scalars(select(Shop.shop_no)))

    def check(self, row: OpeningRow) -> None:
        """A registered shop and an answer we read."""
        if row.shop_no not in self.shops:
            raise RowError(f"shop {row.shop_no!r} is not in the register", "shop_no")
        if row.opened.strip().lower() not in _OPEN:
            raise RowError(f"{row.opened!r}: write 开门 or 未开门", "opened")

    def apply(self, session: Session, row: OpeningRow) -> Outcome:
        """Record or correct the check."""
        opened = _OPEN[row.opened.strip().lower()]
        found = self.checks.get((row.shop_no, row.day))
        if found is None:
            found = OpeningCheck(shop_no=row.shop_no, day=row.day, opened=opened, checked_by=row.checked_by)
            session.add(found)
            self.checks[(row.shop_no, row.day)] = found
            return "created"
        return "updated" if _differ(found, {"opened": opened, "checked_by": row.checked_by}) else "unchanged"
