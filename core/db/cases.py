"""Cases, their history, their deadlines and the case-number sequences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.db.base import Base


class Case(Base):
    """One matter for the department: a repair, a leak, a fee demand, a complaint.

    ``kind`` is the plugin-prefixed case kind (``heating.leak``); ``plugin`` is the
    owner. ``unit`` is the organisational unit KPIs are grouped by (project,
    station, floor). Plugin-specific fields go in ``data``.
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index(None, "plugin", "state"),
        Index(None, "customer_id", "state"),
        # The console's 我的 and 未分配 queues.
        Index(None, "owner", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A sentinel: the numbers are issued before the INSERT and unique, so SQLAlchemy can write a
    # batch of cases in one INSERT … RETURNING and still match each row to its parameters on
    # SQLite (without one it falls back to one statement per case).
    number: Mapped[str] = mapped_column(String(32), unique=True, insert_sentinel=True)
    plugin: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(32), default="new")
    step: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500), default="")
    urgent: Mapped[bool] = mapped_column(default=False)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    owner: Mapped[str | None] = mapped_column(String(64), doc="staff key")
    unit: Mapped[str | None] = mapped_column(String(128))
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    satisfaction: Mapped[int | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )
    deadlines: Mapped[list[Deadline]] = relationship(
        back_populates="case", order_by="Deadline.id", cascade="all, delete-orphan"
    )


class CaseEvent(Base):
    """One change of a case: its history, with actor, time and reason."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    case: Mapped[Case] = relationship(back_populates="events")


class Deadline(Base):
    """A deadline of a case under one policy; the sweep looks only at ``(state, next_at)``.

    ``due_at`` is the breach time; ``next_at`` is when the sweep must next act on it
    (the warning, the breach, each repeat); ``level`` and ``repeat`` say how far the
    escalation has gone.
    """

    __tablename__ = "deadlines"
    __table_args__ = (
        Index(None, "state", "next_at"),
        # The console's 即将超时 / 已超时 queues read open deadlines in due order.
        Index(None, "state", "due_at"),
        UniqueConstraint("case_id", "name", "round"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    plugin: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64), doc="policy name: first_response, resolution …")
    round: Mapped[int] = mapped_column(default=1, doc="1, then +1 each time the case reopens")
    state: Mapped[str] = mapped_column(String(16), default="open", doc="open, met, cancelled")
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    next_at: Mapped[datetime | None]
    stage: Mapped[str] = mapped_column(String(16), default="pending", doc="pending, warned, breached")
    level: Mapped[int] = mapped_column(default=0)
    repeat: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
    met_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    case: Mapped[Case] = relationship(back_populates="deadlines")


class CaseSequence(Base):
    """The last case number issued per prefix and year; incremented under a row lock."""

    __tablename__ = "case_sequences"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)
