"""Prometheus metrics in the text exposition format, computed from the database on scrape."""

from __future__ import annotations

import resource
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from kefu.clock import as_utc
from kefu.db.models import Case, Deadline, Heartbeat, InboundItem, JobRun, OutboxMessage

if TYPE_CHECKING:
    from kefu.app import App

_STARTED = time.time()


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# Each gauge of row counts: its name, its help, and its labels with the column each is read from.
_COUNTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("kefu_cases", "Cases by plugin and state.", {"plugin": Case.plugin, "state": Case.state}),
    ("kefu_deadlines", "Deadlines by state and stage.", {"state": Deadline.state, "stage": Deadline.stage}),
    (
        "kefu_inbound_items",
        "Inbound items by channel and status.",
        {"channel": InboundItem.channel, "status": InboundItem.status},
    ),
    (
        "kefu_outbox",
        "Outbox rows by channel and state.",
        {"channel": OutboxMessage.channel, "state": OutboxMessage.state},
    ),
    ("kefu_job_runs", "Cron job firings by job and state.", {"job": JobRun.job_id, "state": JobRun.state}),
)


def render_metrics(app: App) -> str:
    """Counts of cases, deadlines, inbound items, outbox rows and job runs by state."""
    lines: list[str] = []

    def gauge(name: str, help_text: str, rows: list[tuple[dict[str, str], float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} gauge")
        for labels, value in rows:
            label = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            lines.append(f"{name}{{{label}}} {value}" if label else f"{name} {value}")

    with app.sessions() as s:
        for name, help_text, columns in _COUNTS:
            labels = list(columns)
            query = select(*columns.values(), func.count()).group_by(*columns.values())
            gauge(name, help_text, [(dict(zip(labels, row[:-1], strict=True)), row[-1]) for row in s.execute(query)])
        gauge(
            "kefu_loop_last_progress_timestamp_seconds",
            "When each loop (intake, sweep, cron, dispatch) last made progress, Unix time.",
            [
                ({"loop": b.name}, as_utc(b.at).timestamp())
                for b in s.scalars(select(Heartbeat).where(Heartbeat.name.in_(["intake", "sweep", "cron", "dispatch"])))
            ],
        )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    gauge("kefu_process_cpu_seconds", "CPU time used by the daemon.", [({}, usage.ru_utime + usage.ru_stime)])
    gauge("kefu_process_max_rss_bytes", "Peak resident memory.", [({}, usage.ru_maxrss * 1024)])
    gauge("kefu_process_uptime_seconds", "Seconds since start.", [({}, round(time.time() - _STARTED, 1))])
    return "\n".join(lines) + "\n"
