"""The ecommerce plugin's own tables (``ecommerce_*``): orders, their remarks, the 售后登记表 and the
银行转账明细表.

An order is keyed by shop + platform order number (text, never a number: 18-digit
Taobao numbers do not survive a float). Buyer names, phones and addresses are
personal data: they are stored to do the work and masked wherever they are shown.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.api.tables import CASE_ID, Base

MONEY = Numeric(12, 2)


class Order(Base):
    """One platform order as the shop's ERP and the platform's exports last described it."""

    __tablename__ = "ecommerce_orders"
    __table_args__ = (UniqueConstraint("shop", "order_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop: Mapped[str] = mapped_column(String(32))
    order_no: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(16), default="paid", doc="unpaid, paid, shipped, finished, closed")
    print_state: Mapped[str] = mapped_column(String(8), default="未打单", doc="未打单 / 已打单 / 已打包 / 已发货")
    buyer: Mapped[str] = mapped_column(String(100), default="", doc="买家会员名 (masked when shown)")
    receiver: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    buyer_message: Mapped[str] = mapped_column(Text, default="")
    paid_at: Mapped[datetime | None]
    in_stock: Mapped[bool] = mapped_column(default=True)
    carrier: Mapped[str] = mapped_column(String(32), default="")
    tracking_no: Mapped[str] = mapped_column(String(40), default="")
    promised_on: Mapped[date | None] = mapped_column(index=True)
    refund_no: Mapped[str] = mapped_column(String(40), default="")
    refund_status: Mapped[str] = mapped_column(String(40), default="")
    goods_status: Mapped[str] = mapped_column(String(20), default="")
    needs_return: Mapped[bool] = mapped_column(default=False)
    refund_deadline: Mapped[datetime | None] = mapped_column(doc="超时时间")
    dispute_state: Mapped[str] = mapped_column(String(20), default="", doc="客服介入状态")
    proof_deadline: Mapped[datetime | None] = mapped_column(doc="举证超时")
    return_tracking: Mapped[str] = mapped_column(String(40), default="")
    dispute_touched_at: Mapped[datetime | None] = mapped_column(doc="last time staff acted on the dispute")
    seller_flag: Mapped[int] = mapped_column(default=0, doc="Taobao's 旗帜: 1 = red")
    event_at: Mapped[datetime | None] = mapped_column(doc="time of the newest event applied")
    source: Mapped[str] = mapped_column(String(16), default="import")
    updated_at: Mapped[datetime]


class Remark(Base):
    """A 卖家备注 kefu produced for an order, in the seed's format; ``pushed`` once an ERP took it."""

    __tablename__ = "ecommerce_remarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("ecommerce_orders.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID, ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    flag: Mapped[int] = mapped_column(default=1)
    author: Mapped[str] = mapped_column(String(64))
    pushed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class AfterSalesEntry(Base):
    """A line of the 售后登记表: a recall or return, and the packer's 原包裹已收到 signature."""

    __tablename__ = "ecommerce_aftersales"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("ecommerce_orders.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID, ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(16), doc="recall (撤回) or return (退换货)")
    reason: Mapped[str] = mapped_column(Text, default="")
    quality_fault: Mapped[bool] = mapped_column(default=False)
    return_tracking: Mapped[str] = mapped_column(String(40), default="")
    received_by: Mapped[str] = mapped_column(String(64), default="", doc="打单 who signed 原包裹已收到")
    received_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class BankTransfer(Base):
    """A line of the 银行转账明细表: a buyer's bank transfer, followed up until matched to an order."""

    __tablename__ = "ecommerce_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop: Mapped[str] = mapped_column(String(32))
    payer: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paid_on: Mapped[date]
    bank_ref: Mapped[str] = mapped_column(String(64), default="")
    contact: Mapped[str] = mapped_column(String(64), default="")
    order_no: Mapped[str] = mapped_column(String(40), default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID, ondelete="SET NULL"))
    matched_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
