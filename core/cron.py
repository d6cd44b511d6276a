"""Running the cron jobs that are due, each firing at most once across every daemon."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kefu.app import App
from kefu.db.engine import transaction
from kefu.db.models import JobRun
from kefu.jobs import CronJob, firings, latest_firing, make_trigger
from kefu.plugin_host import PluginError

log = logging.getLogger("kefu.jobs")


@dataclass
class CronRunner:
    """Remembers, per job, up to which time this daemon has considered firings.

    At start the baseline is the process start; firings missed while no daemon
    ran are handled once, by the job's policy. While running, every pending
    firing runs in order (the loop was busy for a few seconds), unless more than
    ``max_pending`` piled up (the machine was suspended): then they coalesce
    into the latest, as after downtime. ``interrupted`` is asked between firings
    so a stop request is honoured after the firing in hand.
    """

    app: App
    started_at: datetime
    covered: dict[str, datetime] = field(default_factory=dict)
    interrupted: Callable[[], bool] = lambda: False
    max_pending: int = 60
    triggers: dict[str, BaseTrigger] = field(default_factory=dict, repr=False)

    def trigger(self, job_id: str, job: CronJob) -> BaseTrigger:
        """The job's trigger, parsed once per runner (a reload builds a new runner)."""
        found = self.triggers.get(job_id)
        if found is None:
            found = self.triggers[job_id] = make_trigger(job.schedule, self.app.settings.tz)
        return found

    def catch_up(self) -> list[tuple[str, datetime]]:
        """Apply each job's missed-run policy for the time no daemon was running."""
        ran = []
        for job_id, (plugin, job) in self.app.jobs.items():
            self.covered[job_id] = self.started_at
            if job.missed != "run_once":
                continue
            with self.app.sessions() as session:
                last = session.scalar(select(func.max(JobRun.scheduled_at)).where(JobRun.job_id == job_id))
            if last is None:
                continue
            trigger = self.trigger(job_id, job)
            missed = latest_firing(trigger, last, self.started_at)
            if missed is not None and self.run_firing(job_id, plugin, job, missed):
                ran.append((job_id, missed))
        return ran

    def run_due(self, now: datetime | None = None) -> list[tuple[str, datetime]]:
        """Run every firing of every job that fell due since this runner last looked."""
        now = now or self.app.clock.now()
        ran: list[tuple[str, datetime]] = []
        for job_id, (plugin, job) in self.app.jobs.items():
            after = self.covered.setdefault(job_id, self.started_at)
            trigger = self.trigger(job_id, job)
            pending = list(islice(firings(trigger, after, now), self.max_pending + 1))
            if len(pending) > self.max_pending:
                latest = latest_firing(trigger, after, now)
                log.warning(
                    "cron job %s: more than %d firings pending; running only the latest", job_id, self.max_pending
                )
                pending = [latest] if latest is not None else []
            for due in pending:
                if self.interrupted():
                    return ran
                if self.run_firing(job_id, plugin, job, due):
                    ran.append((job_id, due))
                self.covered[job_id] = due
            self.covered[job_id] = now
        return ran

    def next_firing(self, now: datetime) -> datetime | None:
        """The earliest future firing of any job (for the scheduler's wake-ups and simulate)."""
        times = []
        for job_id, (_plugin, job) in self.app.jobs.items():
            trigger = self.trigger(job_id, job)
            nxt = next(firings(trigger, now, datetime.max.replace(tzinfo=now.tzinfo)), None)
            if nxt is not None:
                times.append(nxt)
        return min(times, default=None)

    def run_firing(self, job_id: str, plugin: str, job: CronJob, scheduled: datetime) -> bool:
        """Claim and run one firing in one transaction; False if another daemon had it."""
        node = self.app.settings.kefu.node_name
        try:
            with transaction(self.app.sessions) as session:
                run = JobRun(
                    job_id=job_id,
                    scheduled_at=scheduled,
                    state="done",
                    node=node,
                    started_at=self.app.clock.now(),
                )
                session.add(run)
                session.flush()  # the unique key is taken here, before the work
                self.app.calls.run_job(plugin, job, self.app.context(plugin, session), scheduled)
                run.finished_at = self.app.clock.now()
        except IntegrityError:
            return False
        except Exception as exc:
            log.exception("cron job %s (plugin %r) failed for %s", job_id, plugin, scheduled)
            # The firing records what the job raised; the log above names plugin and job.
            cause = exc.original if isinstance(exc, PluginError) else exc
            self._record_failure(job_id, scheduled, node, cause)
            return True
        log.info("cron job %s ran for %s", job_id, scheduled.isoformat())
        return True

    def _record_failure(self, job_id: str, scheduled: datetime, node: str, exc: BaseException) -> None:
        now = self.app.clock.now()
        try:
            with transaction(self.app.sessions) as session:
                session.add(
                    JobRun(
                        job_id=job_id,
                        scheduled_at=scheduled,
                        state="failed",
                        node=node,
                        started_at=now,
                        finished_at=now,
                        error=f"{type(exc).__name__}: {exc}",
                    )
                )
        except IntegrityError:
            pass
