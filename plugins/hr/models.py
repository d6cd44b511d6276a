"""The hr plugin's own tables (``hr_*``): the register, raw punches, day results, leave, sheets.

Raw punches are kept exactly as they came (who as the device wrote it, when, the
source, the device, the vendor's own result code) and are never edited: the day
results are derived from them, the shift and the calendar, and may be recomputed
any time until the month's sheet is approved. Each table has a business key so
every import and every job can run again without duplicating a row.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.api.tables import CASE_ID, Base

MONEY = Numeric(12, 2)


class Employee(Base):
    """One person of the imported register (config's ``[hr.employees]`` are not copied here)."""

    __tablename__ = "hr_employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, doc="staff key (the same as [staff.people])")
    number: Mapped[str] = mapped_column(String(64), index=True, doc="工号 as the clock-in device knows it")
    name: Mapped[str] = mapped_column(String(100))
    department: Mapped[str] = mapped_column(String(64), default="")
    manager: Mapped[str] = mapped_column(String(64), default="")
    shift: Mapped[str] = mapped_column(String(64), default="")
    salary: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    hired: Mapped[date | None]
    left: Mapped[date | None]
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime]


class Punch(Base):
    """One raw punch (打卡) as the source gave it; never edited."""

    __tablename__ = "hr_punches"
    __table_args__ = (UniqueConstraint("number", "at", "direction"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), index=True, doc="工号 / 账号 as written")
    name: Mapped[str] = mapped_column(String(100), default="", doc="姓名 as written")
    at: Mapped[datetime] = mapped_column(index=True)
    direction: Mapped[str] = mapped_column(String(8), default="", doc="in, out or '' (unknown)")
    slot: Mapped[str] = mapped_column(String(32), default="", doc="the vendor's slot: 上班1, 下班1 …")
    source: Mapped[str] = mapped_column(String(16), doc="dingtalk, wecom, long, api")
    device: Mapped[str] = mapped_column(String(100), default="")
    vendor_result: Mapped[str] = mapped_column(String(32), default="", doc="正常 / 迟到 / 严重迟到 …, kept, not used")
    recorded_at: Mapped[datetime]


class DayResult(Base):
    """One employee's working day as derived from punches, shift, calendar and leave."""

    __tablename__ = "hr_days"
    __table_args__ = (UniqueConstraint("employee", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee: Mapped[str] = mapped_column(String(64), index=True)
    day: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), doc="work, off, leave, absent")
    late_minutes: Mapped[int] = mapped_column(default=0)
    early_minutes: Mapped[int] = mapped_column(default=0)
    absent: Mapped[Decimal] = mapped_column(Numeric(3, 1), default=Decimal("0"))
    leave_kind: Mapped[str] = mapped_column(String(16), default="")
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, doc="the day's exception lines")
    computed_at: Mapped[datetime]


class Leave(Base):
    """A leave request (请假单) and what became of it."""

    __tablename__ = "hr_leaves"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    start: Mapped[date] = mapped_column(index=True)
    end: Mapped[date]
    half: Mapped[str] = mapped_column(
        String(2), default="", server_default="", doc="'' whole days; am or pm: that half of a one-day leave"
    )
    state: Mapped[str] = mapped_column(String(16), default="requested", doc="requested, approved, refused")
    reason: Mapped[str] = mapped_column(Text, default="")
    via: Mapped[str] = mapped_column(String(16), default="cli", doc="cli, sms, email, console")
    requested_at: Mapped[datetime]
    approver: Mapped[str] = mapped_column(String(64), default="", doc="who must approve (the manager)")
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[datetime | None]
    phoned_at: Mapped[datetime | None] = mapped_column(doc="when sick leave was phoned in")
    certificate_due: Mapped[date | None] = mapped_column(doc="the first working day back")
    certificate_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID, ondelete="SET NULL"))


class Proxy(Base):
    """A proxy sign-in (代签) found: ``signed_by`` signed in for ``signed_for`` on ``day``."""

    __tablename__ = "hr_proxies"
    __table_args__ = (UniqueConstraint("day", "signed_for", "signed_by"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    signed_for: Mapped[str] = mapped_column(String(64))
    signed_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64), default="")
    recorded_at: Mapped[datetime]


class Review(Base):
    """An HR review case opened for long absence (never a dismissal)."""

    __tablename__ = "hr_reviews"
    __table_args__ = (UniqueConstraint("employee", "year", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee: Mapped[str] = mapped_column(String(64))
    year: Mapped[int]
    reason: Mapped[str] = mapped_column(String(16), doc="consecutive or in_year")
    days: Mapped[int]
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID, ondelete="SET NULL"))
    opened_at: Mapped[datetime]


class Sheet(Base):
    """The month's reward/penalty sheet (奖罚评分表); frozen once approved."""

    __tablename__ = "hr_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7), unique=True, doc="2026-11")
    state: Mapped[str] = mapped_column(String(16), default="draft", doc="draft, sent, approved")
    due_on: Mapped[date]
    mode: Mapped[str] = mapped_column(String(16), doc="record_only or deduct, as built")
    rules_version: Mapped[str] = mapped_column(String(64), default="")
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, doc="one per employee")
    built_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str] = mapped_column(String(64), default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID, ondelete="SET NULL"))


class Amendment(Base):
    """A correction to an approved sheet: added beside it with its reason, never an edit."""

    __tablename__ = "hr_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("hr_sheets.id", ondelete="CASCADE"), index=True)
    employee: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
