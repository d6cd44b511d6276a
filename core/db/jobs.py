"""Firings of cron jobs, recorded before they run so no firing ever runs twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base


class JobRun(Base):
    """One firing of one cron job; (job_id, scheduled_at) is unique across all daemons."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_id", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(200))
    scheduled_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="running", doc="running, done, failed, skipped")
    node: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class Heartbeat(Base):
    """The last time each of a daemon's loops made progress (for ``kefu status`` and /healthz)."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime]
    detail: Mapped[str | None] = mapped_column(Text)
