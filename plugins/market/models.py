"""The market plugin's own tables (``market_*``): shops, the fee ledger, patrol check-ins and rounds.

Tenants (经营户) are core customers (``plugin`` = the market's name, ``ref`` = tenant
code) so every channel finds them by phone and their consent is honoured; a shop
(商铺) names its tenant. Each table has a business key so every import and every
job can run again without duplicating a row.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.api.tables import CASE_ID, CUSTOMER_ID, Base

MONEY = Numeric(12, 2)


class Shop(Base):
    """A 商铺 on a floor and area, rented by a tenant under a 商铺租用合同 (and 补充协议)."""

    __tablename__ = "market_shops"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_no: Mapped[str] = mapped_column(String(32), unique=True)
    floor: Mapped[str] = mapped_column(String(16), index=True)
    area: Mapped[str] = mapped_column(String(32), default="")
    tenant: Mapped[str] = mapped_column(String(64), index=True, doc="tenant code = customer ref")
    customer_id: Mapped[int] = mapped_column(ForeignKey(CUSTOMER_ID, ondelete="CASCADE"), index=True)
    contract_start: Mapped[date | None]
    contract_end: Mapped[date | None]
    watch: Mapped[str] = mapped_column(String(64), default="", doc="watch-list flags: 借贷资金 / 联建 / 担保贷款")
    updated_at: Mapped[datetime]


class FeeLine(Base):
    """One line of the fee ledger: a shop's fee of one kind for one period, with its due date.

    ``paid`` grows with each payment; the line is settled when it reaches ``amount``.
    ``escalated_case_id`` is the market manager's case once the line is 30 d overdue.
    """

    __tablename__ = "market_fee_lines"
    __table_args__ = (UniqueConstraint("shop_no", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_no: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16), doc="the month billed, 2026-11")
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    due_on: Mapped[date] = mapped_column(index=True)
    paid_on: Mapped[date | None]
    escalated_case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID, ondelete="SET NULL"))
    updated_at: Mapped[datetime]

    @property
    def owed(self) -> Decimal:
        """What is still to pay (never negative)."""
        return max(Decimal("0"), Decimal(self.amount) - Decimal(self.paid))


class FeePayment(Base):
    """One payment against a ledger line, keyed by line, date, amount and receipt (收据号).

    So a re-import adds nothing.
    """

    __tablename__ = "market_fee_payments"
    __table_args__ = (UniqueConstraint("line_id", "paid_on", "amount", "receipt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("market_fee_lines.id", ondelete="CASCADE"), index=True)
    paid_on: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(MONEY)
    receipt: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(16), default="import")
    recorded_at: Mapped[datetime]


class PatrolCheckin(Base):
    """One patrol check-in at a point: by SMS, mail, the patrol app or a patrol-stick export."""

    __tablename__ = "market_patrol_checkins"
    __table_args__ = (UniqueConstraint("point", "at", "person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    point: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    person: Mapped[str] = mapped_column(String(64), doc="staff key, card number or phone as sent")
    status: Mapped[str] = mapped_column(String(16), default="", doc="'', 正常 or 隐患")
    problem: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="sms")


class PatrolRound(Base):
    """One patrol window of a route (开门 / 日常 / 午间 / 闭店 / 夜间), evaluated once it closes.

    The record a supervisor countersigns (GB/T 40248-2021): place (route and points),
    time, persons and problems; ``missed`` lists the points not checked (漏巡).
    """

    __tablename__ = "market_patrol_rounds"
    __table_args__ = (UniqueConstraint("route", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    route: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(16), doc="opening, regular, noon, closing, night")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(index=True)
    persons: Mapped[list[str]] = mapped_column(JSON, default=list)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    missed: Mapped[list[str]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID, ondelete="SET NULL"))
    signed_by: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime | None]


class MarketTask(Base):
    """A task the market's calendar set (event preparation, 地毯式 inspection, monthly checks), once per key."""

    __tablename__ = "market_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True, doc="inspect/holiday/2027-02-06 …")
    label: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date]
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID, ondelete="SET NULL"))
    created_at: Mapped[datetime]


class OpeningCheck(Base):
    """An area supervisor's opening check of one shop on one day (经营户开门营业管理/考勤)."""

    __tablename__ = "market_opening_checks"
    __table_args__ = (UniqueConstraint("shop_no", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_no: Mapped[str] = mapped_column(String(32), index=True)
    day: Mapped[date]
    opened: Mapped[bool]
    checked_by: Mapped[str] = mapped_column(String(64), default="")


class LostItem(Base):
    """A 遗留商品 registered at the desk: held ``lost_hold`` (30 d), returned or then reported."""

    __tablename__ = "market_lost_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    found_at: Mapped[datetime] = mapped_column(index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text)
    owner_phone: Mapped[str | None] = mapped_column(String(32))
    held_until: Mapped[date]
    state: Mapped[str] = mapped_column(String(16), default="held", doc="held, returned, reported")
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str] = mapped_column(String(64), default="")


class GiftStock(Base):
    """A promotional gift's stock (赠品): its balance never goes below zero."""

    __tablename__ = "market_gift_stock"

    id: Mapped[int] = mapped_column(primary_key=True)
    gift: Mapped[str] = mapped_column(String(100), unique=True)
    balance: Mapped[int] = mapped_column(default=0)


class DeskEntry(Base):
    """One entry of a desk register: return/exchange, invoice, membership card, parcel, suggestion."""

    __tablename__ = "market_desk_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    register: Mapped[str] = mapped_column(String(16), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    customer: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime]


class ShiftLog(Base):
    """A 值班记录 (``duty``) or a floor's 工作日志 (``floor:3F``) for one shift day."""

    __tablename__ = "market_shift_logs"
    __table_args__ = (UniqueConstraint("log", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    log: Mapped[str] = mapped_column(String(32))
    day: Mapped[date]
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime]
