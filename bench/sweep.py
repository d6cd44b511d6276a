"""Benchmark the deadline sweep against the same work in raw SQL, on SQLite and PostgreSQL.

A database with N cases (default 1,000,000), a tenth of them open with a deadline,
and 1,000 of those due. The sweep (claim by index, one no-op plugin hook per
deadline, mark handled, commit) is timed next to one indexed SELECT of the due
rows plus one UPDATE marking them handled, in one transaction, in the same run.
``baseline`` selects only the ids (an index-only scan, the strictest yardstick);
``params.baseline_rows_ms`` selects the whole due rows with their cases, which is
what the sweep must read to hand each deadline and its case to the plugin.

    python bench/sweep.py [--quick] [--engine sqlite|postgresql|both] [--cases N] [--due N] [--path hook|default]

``--path default`` times the core's own escalation instead of the no-op hook: each due
deadline breaches, queues one staff email and records its event (the raw baseline is
the same SELECT + UPDATE, so its ratio is not comparable with the hook path's).
``params.cpu_ms`` is the process CPU time of the sweep (median), which the machine's
load inflates less than the wall time.

Ends with one JSON line per engine: {"bench", "value", "unit", "baseline", "ratio", "params"}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text, update

from kefu.app import App, build_app
from kefu.clock import FakeClock
from kefu.context import PluginContext
from kefu.db.engine import is_postgres, transaction
from kefu.db.models import Case, Deadline
from kefu.db.schema import upgrade
from kefu.hookspecs import hookimpl
from kefu.kinds import CaseKind, DeadlinePolicy
from kefu.plugin_host import PluginInfo
from kefu.sla.sweep import sweep_batch

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
CHUNK = 20_000


class NoopPlugin:
    """A plugin whose deadline hook handles everything and does nothing."""

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> list[CaseKind]:
        return [CaseKind(name="bench.task", title="bench", prefix="BN", policies=(DeadlinePolicy.resolution("4h"),))]

    @hookimpl
    def kefu_deadline_due(self, deadline: Any, case: Any, ctx: PluginContext) -> bool:
        return True


class ChainPlugin:
    """A plugin without a deadline hook: the core's default chain handles its deadlines."""

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> list[CaseKind]:
        return [
            CaseKind(
                name="bench.task",
                title="bench",
                prefix="BN",
                urgent=True,
                policies=(DeadlinePolicy.resolution("4h", chain=("ops",)),),
            )
        ]


def make(url: str, state: Path, path: str = "hook") -> App:
    raw: dict[str, Any] = {
        "kefu": {"state_dir": str(state)},
        "database": {"url": url},
        "plugins": {"enabled": ["bench"]},
        "sla": {"sweep_batch": 1000},
    }
    module: object = NoopPlugin()
    if path == "default":
        module = ChainPlugin()
        raw["staff"] = {"people": {"ops": {"name": "值班", "email": "ops@example.cn"}}}
    available = {"bench": PluginInfo(name="bench", module=module, version="0", distribution="bench")}
    app = build_app(state / "kefu.toml", raw=raw, clock=FakeClock(NOW), available=available)
    upgrade(app.engine)
    return app


def populate(app: App, cases: int, open_: int, due: int) -> None:
    """Insert the cases and the open deadlines (the first ``due`` of them due now)."""
    t0 = time.perf_counter()
    with app.engine.begin() as conn:
        for start in range(0, cases, CHUNK):
            rows = []
            for i in range(start, min(start + CHUNK, cases)):
                is_open = i < open_
                rows.append(
                    {
                        "id": i + 1,
                        "number": f"BN-2026-{i + 1:07d}",
                        "plugin": "bench",
                        "kind": "bench.task",
                        "state": "in_progress" if is_open else "closed",
                        "title": "",
                        "urgent": False,
                        "opened_at": NOW - timedelta(days=30),
                        "updated_at": NOW,
                        "data": {},
                    }
                )
            conn.execute(insert(Case), rows)
        for start in range(0, open_, CHUNK):
            rows = []
            for i in range(start, min(start + CHUNK, open_)):
                when = NOW - timedelta(minutes=1) if i < due else NOW + timedelta(hours=1 + i % 1000)
                rows.append(
                    {
                        "case_id": i + 1,
                        "plugin": "bench",
                        "name": "resolution",
                        "round": 1,
                        "state": "open",
                        "started_at": NOW - timedelta(hours=4),
                        "due_at": when,
                        "next_at": when,
                        "stage": "warned",
                        "level": 0,
                        "repeat": 0,
                        "failures": 0,
                        "data": {},
                    }
                )
            conn.execute(insert(Deadline), rows)
    with app.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    print(f"  populated {cases} cases, {open_} open, {due} due in {time.perf_counter() - t0:.1f}s", file=sys.stderr)


def reset_due(app: App, due: int) -> None:
    with app.engine.begin() as conn:
        conn.execute(
            update(Deadline)
            .where(Deadline.case_id <= due)
            .values(next_at=NOW - timedelta(minutes=1), stage="warned", level=0, repeat=0)
        )
        # The default path queues one email per deadline, keyed by round/level/repeat: clear them
        # (and the events) so every run does the same work.
        conn.execute(text("DELETE FROM outbox"))
        conn.execute(text("DELETE FROM case_events"))


def time_sweep(app: App, due: int, cpu: list[float] | None = None) -> float:
    reset_due(app, due)
    c0, t0 = time.process_time(), time.perf_counter()
    handled = sweep_batch(app)
    elapsed = time.perf_counter() - t0
    if cpu is not None:
        cpu.append(time.process_time() - c0)
    assert handled == due, (handled, due)
    return elapsed


RAW_IDS = "SELECT id FROM deadlines WHERE state = 'open' AND next_at <= :now ORDER BY next_at LIMIT :n"
# The rows the sweep hands to the plugin: each due deadline with its case, fetched whole.
RAW_ROWS = (
    "SELECT deadlines.*, cases.* FROM deadlines JOIN cases ON cases.id = deadlines.case_id"
    " WHERE deadlines.state = 'open' AND deadlines.next_at <= :now ORDER BY deadlines.next_at LIMIT :n"
)


def time_raw(app: App, due: int, rows: bool = False) -> float:
    """One indexed SELECT (of the ids, or with ``rows`` of the whole due rows and cases) and one UPDATE."""
    reset_due(app, due)
    pg = is_postgres(app.engine)
    lock = (" FOR UPDATE OF deadlines SKIP LOCKED" if rows else " FOR UPDATE SKIP LOCKED") if pg else ""
    t0 = time.perf_counter()
    with transaction(app.sessions) as s:
        ids = [
            r[0]
            for r in s.execute(
                text((RAW_ROWS if rows else RAW_IDS) + lock), {"now": NOW if pg else NOW.replace(tzinfo=None), "n": due}
            )
        ]
        s.execute(update(Deadline).where(Deadline.id.in_(ids)).values(next_at=None))
    elapsed = time.perf_counter() - t0
    assert len(ids) == due
    return elapsed


def run(engine: str, cases: int, due: int, repeats: int, path: str = "hook") -> dict[str, Any]:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if engine == "sqlite":
            url = f"sqlite:///{tmp / 'bench.db'}"
        else:
            from kefu.testing.databases import postgres_available, postgres_schema

            reason = postgres_available()
            if reason:
                raise SystemExit(reason)
            url = stack.enter_context(postgres_schema())
        app = make(url, tmp, path)
        stack.callback(app.dispose)
        populate(app, cases, cases // 10, due)
        time_sweep(app, due)  # warm caches and compiled statements on both sides
        time_raw(app, due)
        time_raw(app, due, rows=True)
        # Interleaved, so a burst of load on the machine hits each side alike.
        sweeps: list[float] = []
        raws: list[float] = []
        raw_rows: list[float] = []
        cpus: list[float] = []
        for _ in range(repeats):
            sweeps.append(time_sweep(app, due, cpus))
            raws.append(time_raw(app, due))
            raw_rows.append(time_raw(app, due, rows=True))
        sweep, raw, rows = (statistics.median(x) for x in (sweeps, raws, raw_rows))
    suffix = "" if path == "hook" else f"_{path}"
    return {
        "bench": f"sweep_{engine}{suffix}",
        "value": round(sweep * 1000, 2),
        "unit": "ms",
        "baseline": round(raw * 1000, 2),
        "ratio": round(sweep / raw, 2),
        "params": {
            "engine": engine,
            "path": path,
            "cpu_ms": round(statistics.median(cpus) * 1000, 2),
            "cases": cases,
            "open": cases // 10,
            "due": due,
            "repeats": repeats,
            "baseline_rows_ms": round(rows * 1000, 2),
            "ratio_rows": round(sweep / rows, 2),
        },
    }


def main() -> None:
    """Parse the options, run each engine, print one JSON line per engine."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 cases (finishes in under a minute)")
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--cases", type=int, default=None)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--path",
        choices=["hook", "default"],
        default="hook",
        help="no-op plugin hook (default) or the core's escalation chain",
    )
    args = parser.parse_args()
    cases = args.cases or (100_000 if args.quick else 1_000_000)
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    for engine in engines:
        print(json.dumps(run(engine, cases, args.due, args.repeats, args.path)))


if __name__ == "__main__":
    main()
