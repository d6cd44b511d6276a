"""The complaints plugin's own tables (``complaints_*``): projects, homes, notices, marks.

Owners are core customers (the plugin's own customers, ``ref`` = the home's code) so
every channel finds them by phone or mail; the home, its project, building and
delivery date (交付日期) hang off them here. Every table has a business key so
imports and jobs are idempotent.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.api.tables import CASE_ID, CUSTOMER_ID, Base


class Project(Base):
    """A project (项目) as imported: code, name, city and (earliest) delivery date."""

    __tablename__ = "complaints_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    delivered_on: Mapped[date | None] = mapped_column(doc="first delivery; drives the assessment")
    updated_at: Mapped[datetime]


class Building(Base):
    """A building (楼栋) of a project."""

    __tablename__ = "complaints_buildings"
    __table_args__ = (UniqueConstraint("project_code", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_code: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")


class Home(Base):
    """A home (房屋) with its delivery date and its owner (a core customer)."""

    __tablename__ = "complaints_homes"
    __table_args__ = (Index(None, "delivered_on"), Index(None, "project_code", "building"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(128), unique=True, doc="project-building-room, e.g. JY-3-1201")
    project_code: Mapped[str] = mapped_column(String(64))
    building: Mapped[str] = mapped_column(String(64), default="")
    room: Mapped[str] = mapped_column(String(64), default="")
    delivered_on: Mapped[date | None]
    customer_id: Mapped[int | None] = mapped_column(ForeignKey(CUSTOMER_ID), index=True)
    updated_at: Mapped[datetime]


class WarrantyNotice(Base):
    """One warranty expiry notice (保修期到期温馨提示) for one home, item and lead: never twice."""

    __tablename__ = "complaints_warranty_notices"
    __table_args__ = (UniqueConstraint("home_id", "item", "lead_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("complaints_homes.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(64))
    lead_days: Mapped[int]
    expires_on: Mapped[date]
    noticed_on: Mapped[date]
    created_at: Mapped[datetime]


class JobMark(Base):
    """A task a cron job created once (milestone, assessment, report) under a business key."""

    __tablename__ = "complaints_job_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(256), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID))
    created_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
