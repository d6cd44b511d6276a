"""One full pass of the daemon's work: intake, sweep, due cron jobs, dispatch.

``kefu run --once`` runs exactly this; the daemon runs the same steps when the
scheduler wakes it, so what a test sees from one pass is what production does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kefu.app import App
from kefu.cron import CronRunner
from kefu.db.base import table_of
from kefu.db.engine import transaction
from kefu.db.models import Heartbeat
from kefu.db.upsert import upsert
from kefu.intake.runner import run_intake
from kefu.outbound.dispatch import run_dispatch
from kefu.sla.sweep import run_sweep

log = logging.getLogger("kefu")


@dataclass(frozen=True)
class PassResult:
    """How much each step of a pass did."""

    intake: int
    sweep: int
    cron: int
    dispatch: int


def record_heartbeat(app: App, name: str, detail: str | None = None) -> None:
    """Record that loop ``name`` made progress now (read by ``kefu status`` and /healthz)."""
    with transaction(app.sessions) as session:
        _beat(session, f"{name}", app.clock.now(), detail)


def _beat(session: Session, name: str, at: datetime, detail: str | None) -> None:
    # An upsert, not get-then-add: two daemons starting on an empty database would both insert.
    upsert(session, table_of(Heartbeat), {"name": name, "at": at, "detail": detail}, key=["name"])


STEPS: dict[str, Callable[[App], int]] = {
    "intake": run_intake,
    "sweep": run_sweep,
    "dispatch": run_dispatch,
}


def run_step(app: App, name: str) -> int:
    """Run one step and record its heartbeat; the step's own errors propagate."""
    done = STEPS[name](app)
    record_heartbeat(app, name, f"{done} handled")
    return done


def run_pass(app: App, cron: CronRunner) -> PassResult:
    """Run intake, sweep, due cron jobs and dispatch once, in that order."""
    intake = run_step(app, "intake")
    sweep = run_step(app, "sweep")
    cron_ran = len(cron.run_due())
    record_heartbeat(app, "cron", f"{cron_ran} firings")
    dispatch = run_step(app, "dispatch")
    return PassResult(intake=intake, sweep=sweep, cron=cron_ran, dispatch=dispatch)
