"""The heating plugin's own tables (``heating_*``): households, ledger, measurements, visits …

Households are core customers (the plugin's own customers, ``ref`` = account number) so
every channel finds them by phone; the heating facts hang off them here. Each
table has a business key so that every import is idempotent.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.api.tables import CASE_ID, CUSTOMER_ID, Base


class Household(Base):
    """A household (住户): account number, address, building, station, branch, heated area."""

    __tablename__ = "heating_households"
    __table_args__ = (Index(None, "station", "building"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey(CUSTOMER_ID, ondelete="CASCADE"), unique=True)
    account: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(String(500), default="")
    building: Mapped[str] = mapped_column(String(128), default="")
    station: Mapped[str] = mapped_column(String(64))
    branch: Mapped[str] = mapped_column(String(64), default="")
    heated_area: Mapped[float] = mapped_column(default=0.0)
    payment_status: Mapped[str] = mapped_column(String(16), default="unknown", doc="paid, unpaid, partial, unknown")
    updated_at: Mapped[datetime]


class FeeEntry(Base):
    """One household's heating fee (采暖费) for one season, from the ledger."""

    __tablename__ = "heating_fees"
    __table_args__ = (UniqueConstraint("account", "season_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    season_year: Mapped[int]
    amount_due: Mapped[float] = mapped_column(default=0.0)
    amount_paid: Mapped[float] = mapped_column(default=0.0)
    paid_on: Mapped[date | None]
    imported_at: Mapped[datetime]


class Measurement(Base):
    """One indoor temperature reading (测温) from a station's sheet or a customer report."""

    __tablename__ = "heating_measurements"
    __table_args__ = (UniqueConstraint("account", "measured_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    station: Mapped[str] = mapped_column(String(64), default="")
    measured_at: Mapped[datetime]
    temp_c: Mapped[float]
    source: Mapped[str] = mapped_column(String(32), default="sheet")
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID))


class Outage(Base):
    """An outage (停缓供) of stations or buildings: cause, span and how many households it hit."""

    __tablename__ = "heating_outages"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey(CASE_ID), unique=True)
    cause: Mapped[str] = mapped_column(String(64))
    cause_group: Mapped[str] = mapped_column(String(32), index=True)
    stations: Mapped[list[str]] = mapped_column(JSON, default=list)
    buildings: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    households: Mapped[int] = mapped_column(default=0)
    note: Mapped[str | None] = mapped_column(Text)


class Visit(Base):
    """One 包保走访 visit recorded by the responsible person."""

    __tablename__ = "heating_visits"
    __table_args__ = (
        UniqueConstraint("station", "visited_on", "staff", "account"),
        Index(None, "station", "visited_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station: Mapped[str] = mapped_column(String(64))
    visited_on: Mapped[date]
    staff: Mapped[str] = mapped_column(String(64), default="")
    account: Mapped[str] = mapped_column(String(64), default="")
    far_end: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)


class ShutoffCheck(Base):
    """A 关栓 spot check of one non-paying household, and what the station found."""

    __tablename__ = "heating_shutoff_checks"
    __table_args__ = (UniqueConstraint("season_year", "account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    season_year: Mapped[int]
    station: Mapped[str] = mapped_column(String(64), index=True)
    account: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID))
    finding: Mapped[str | None] = mapped_column(String(16), doc="shut, not_shut, paid")
    recorded_at: Mapped[datetime | None]
    escalated_case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID))


class Callback(Base):
    """A callback (回访) of one resolved case: asked by SMS, answered, or on the phone list."""

    __tablename__ = "heating_callbacks"
    __table_args__ = (UniqueConstraint("case_id", "round"), Index(None, "state", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey(CASE_ID, ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(default=1)
    asked_at: Mapped[datetime]
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="waiting", doc="waiting, satisfied, unsatisfied, phone")
    answered_at: Mapped[datetime | None]
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(64))


class CoalSample(Base):
    """One measure of one coal or ash sample, tested twice (seed); a retest replaces the pair."""

    __tablename__ = "heating_coal_samples"
    __table_args__ = (UniqueConstraint("sample", "measure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample: Mapped[str] = mapped_column(String(64))
    material: Mapped[str] = mapped_column(String(16), default="coal", doc="coal or ash")
    measure: Mapped[str] = mapped_column(String(32))
    first: Mapped[float]
    second: Mapped[float]
    difference: Mapped[float]
    mean: Mapped[float | None]
    state: Mapped[str] = mapped_column(String(16), doc="ok or retest")
    tests: Mapped[int] = mapped_column(default=1, doc="how many double tests were imported")
    tested_on: Mapped[date | None]
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID))
    updated_at: Mapped[datetime]


class AuditFinding(Base):
    """An auditor's (稽查) record: private area increase, basement extension, gifted area."""

    __tablename__ = "heating_audit_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    area_m2: Mapped[float] = mapped_column(default=0.0)
    height_m: Mapped[float | None]
    found_on: Mapped[date]
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
