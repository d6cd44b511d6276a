"""Cron jobs that plugins declare through ``kefu_schedule``, and how their firings run.

APScheduler only wakes the daemon; which firings are due is computed here from
the job's trigger and the injected clock, and each firing is claimed by inserting
``(job id, scheduled time)`` into ``job_runs`` in the same transaction as the job's
work, so two daemons on one database never both run it and a crash mid-job rolls
back both the work and the claim (the firing then runs after restart).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Literal

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from kefu.durations import parse_duration

if TYPE_CHECKING:
    from kefu.context import PluginContext

log = logging.getLogger("kefu.jobs")

MissedPolicy = Literal["run_once", "skip"]
# Interval jobs are anchored here so that every daemon computes the same firing times.
_INTERVAL_ANCHOR = datetime(2000, 1, 3)


@dataclass(frozen=True)
class CronJob:
    """A job a plugin asks the core to run on a schedule.

    ``schedule`` is a crontab line (``"0 9 * * *"``; six fields put seconds first)
    or ``"every 2h"``. ``func(ctx, fired_at)`` runs inside one transaction
    (``ctx.session``) together with the claim of the firing. ``missed`` says what
    happens to firings that fell while no daemon ran: ``run_once`` runs the latest
    one at start, ``skip`` drops them.
    """

    id: str
    schedule: str
    func: Callable[[PluginContext, datetime], object]
    missed: MissedPolicy = "skip"
    description: str = ""


def make_trigger(schedule: str, tz: tzinfo) -> BaseTrigger:
    """Turn a job's schedule text into an APScheduler trigger (ValueError if malformed)."""
    text = schedule.strip()
    if text.startswith("every "):
        step = parse_duration(text[len("every ") :])
        if step <= timedelta(0):
            raise ValueError(f"schedule {schedule!r}: the interval must be positive")
        return IntervalTrigger(seconds=step.total_seconds(), start_date=_INTERVAL_ANCHOR, timezone=tz)
    fields = text.split()
    if len(fields) == 5:
        return CronTrigger.from_crontab(text, timezone=tz)
    if len(fields) == 6:
        second, minute, hour, day, month, dow = fields
        return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=dow, timezone=tz)
    raise ValueError(
        f"schedule {schedule!r} is neither a crontab line ('0 9 * * *', or six fields with "
        "seconds first) nor 'every <duration>'"
    )


def firings(trigger: BaseTrigger, after: datetime, until: datetime) -> Iterator[datetime]:
    """Every fire time of ``trigger`` in ``(after, until]``."""
    nxt = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    while nxt is not None and nxt <= until:
        yield nxt
        nxt = trigger.get_next_fire_time(nxt, nxt + timedelta(microseconds=1))


def latest_firing(trigger: BaseTrigger, after: datetime, until: datetime) -> datetime | None:
    """The last fire time in ``(after, until]``, without walking every one of a long gap."""
    latest = None
    # Walk back from `until` in growing windows so a year of per-second firings stays cheap.
    window = timedelta(minutes=2)
    while latest is None:
        start = max(after, until - window)
        for fired in firings(trigger, start, until):
            latest = fired
        if start == after:
            break
        window *= 8
    return latest
