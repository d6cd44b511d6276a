"""``kefu simulate``: run the sweep and the cron jobs with a moved clock, then roll everything back.

The simulation opens one connection and one outer transaction; the app's
sessions are rebound to it in savepoint mode, so every commit the sweep and the
jobs make only releases a savepoint, and the final rollback leaves the database
as it was. Nothing is dispatched, so nothing is sent. The timeline is read from
what the run wrote (events, outbox rows, job firings), the same way
:func:`timeline_since` reads it after a live run.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kefu.app import App
from kefu.clock import FakeClock
from kefu.cron import CronRunner
from kefu.db.models import Case, CaseEvent, Deadline, JobRun, OutboxMessage
from kefu.sla.sweep import run_sweep

Marks = dict[str, int]
_EVENT_TYPES = ("deadline_warning", "deadline_breached", "escalated", "deadline_flagged")
_MAX_STEPS = 100_000


def marks(session: Session) -> Marks:
    """The highest ids of the tables a timeline is read from (what existed before)."""
    return {
        "event": session.scalar(select(func.max(CaseEvent.id))) or 0,
        "outbox": session.scalar(select(func.max(OutboxMessage.id))) or 0,
        "job": session.scalar(select(func.max(JobRun.id))) or 0,
    }


def timeline_since(session: Session, since: Marks, tz: Any) -> list[dict[str, Any]]:
    """Every deadline step, notification and cron firing recorded after ``since``, in time order."""
    numbers: dict[int, str] = {i: n for i, n in session.execute(select(Case.id, Case.number))}
    out: list[dict[str, Any]] = []
    for ev in session.scalars(select(CaseEvent).where(CaseEvent.id > since["event"], CaseEvent.type.in_(_EVENT_TYPES))):
        data = ev.data or {}
        at = datetime.fromisoformat(data["scheduled"]) if data.get("scheduled") else ev.at
        out.append(
            {
                "at": at.astimezone(tz).isoformat(),
                "what": ev.type,
                "case": numbers.get(ev.case_id),
                "deadline": data.get("deadline"),
                "level": data.get("level"),
                "repeat": data.get("repeat"),
                "recipient": None,
                "channel": None,
                "template": None,
            }
        )
    for row in session.scalars(select(OutboxMessage).where(OutboxMessage.id > since["outbox"])):
        out.append(
            {
                "at": row.created_at.astimezone(tz).isoformat(),
                "what": f"notify:{row.audience}",
                "case": numbers.get(row.case_id) if row.case_id else None,
                "deadline": None,
                "level": None,
                "repeat": None,
                "recipient": row.recipient_name or row.recipient,
                "channel": row.channel,
                "template": row.template,
                "send_after": row.not_before.astimezone(tz).isoformat(),
                "key": row.idem_key,
            }
        )
    for run in session.scalars(select(JobRun).where(JobRun.id > since["job"])):
        out.append(
            {
                "at": run.scheduled_at.astimezone(tz).isoformat(),
                "what": f"cron:{run.state}",
                "case": None,
                "deadline": None,
                "level": None,
                "repeat": None,
                "recipient": None,
                "channel": None,
                "template": run.job_id,
            }
        )
    out.sort(key=lambda e: (e["at"], e["what"], e.get("key") or "", e["case"] or ""))
    return out


def next_deadline(session: Session) -> datetime | None:
    """The earliest time the sweep will next act on anything."""
    return session.scalar(select(func.min(Deadline.next_at)).where(Deadline.state == "open"))


def simulate(app: App, until: datetime) -> list[dict[str, Any]]:
    """The timeline from now until ``until``; the database is left exactly as it was."""
    start = app.clock.now()
    clock = FakeClock(start)
    with app.engine.connect() as conn:
        outer = conn.begin()
        try:
            sessions = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
            sim = dataclasses.replace(app, clock=clock, sessions=sessions)
            with sessions() as s:
                before = marks(s)
            cron = CronRunner(sim, started_at=start)
            for _ in range(_MAX_STEPS):
                run_sweep(sim)
                cron.run_due()
                with sessions() as s:
                    candidates = [t for t in (next_deadline(s), cron.next_firing(clock.now())) if t is not None]
                nxt = min(candidates, default=None)
                if nxt is None or nxt > until:
                    break
                clock.set(max(nxt, clock.now()))
            if clock.now() < until:
                clock.set(until)
            with sessions() as s:
                return timeline_since(s, before, app.settings.tz)
        finally:
            outer.rollback()
