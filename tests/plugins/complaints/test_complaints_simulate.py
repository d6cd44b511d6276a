"""``kefu simulate --until +90d --json`` on the demo project foretells exactly the warranty notices and
risk-control tasks that the live run then produces, and writes nothing itself."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

import click
from click.testing import CliRunner
from sqlalchemy import func, select

from kefu.app import App
from kefu.cli.main import cli
from kefu.clock import FakeClock
from kefu.db.models import OutboxMessage
from kefu.passes import PassResult
from kefu.plugins.complaints.cli import complaints

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "complaints.toml"
DEMO_HOMES = ROOT / "plugins" / "complaints" / "demo" / "homes.csv"
# What the jobs produce (the sweep's warnings and escalations are timed to the minute and
# covered by the SLA engine's own simulate tests).
JOB_TEMPLATES = ("complaints/warranty_notice.txt", "complaints/defect_list.txt", "complaints/task.txt")


def _demo_app(make_app: Callable[..., App]) -> App:
    """The example config's staff and [complaints] (project 锦园 with its milestones) on a test database."""
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    # A bulk SMS account: at the default 1 SMS/s the dispatcher would hold the notices back over many
    # passes, which only slows the test (the rows, not their sending, are compared).
    return make_app(
        plugins=["complaints"],
        config={"staff": raw["staff"], "complaints": raw["complaints"], "outbound": {"rate": {"sms_per_second": 1000}}},
    )


def _invoke(app: App, *args: str, group: click.Group = cli) -> str:
    result = CliRunner().invoke(group, list(args), obj={"app": app}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout  # the journal's log lines go to stderr


def _job_rows(rows: list[dict[str, str]]) -> set[tuple[str, date, str]]:
    return {(r["key"], date.fromisoformat(r["at"][:10]), r["template"]) for r in rows}


def test_simulate_90_days_lists_the_notices_and_tasks_the_live_run_produces(
    make_app: Callable[..., App],
    clock: FakeClock,
    run_pass: Callable[[App], PassResult],
) -> None:
    app = _demo_app(make_app)
    assert "300 homes created" in _invoke(app, "import", "homes", str(DEMO_HOMES), group=complaints)
    start = clock.now()
    until = start + timedelta(days=90)

    timeline = json.loads(_invoke(app, "simulate", "--until", "+90d", "--json"))
    foretold = _job_rows([e for e in timeline if e["what"].startswith("notify:") and e["template"] in JOB_TEMPLATES])
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # nothing written, nothing sent
    templates = {t for _k, _d, t in foretold}
    assert templates == set(JOB_TEMPLATES) - {"complaints/defect_list.txt"}  # the demo has no open repairs
    # Both milestones of 锦园 (delivery 2026-12-20, sales_open 2027-01-15) open their task 14 days before.
    tasks = {d for _k, d, t in foretold if t == "complaints/task.txt"}
    assert {date(2026, 12, 6), date(2027, 1, 1)} <= tasks
    assert sum(1 for _k, _d, t in foretold if t == "complaints/warranty_notice.txt") > 300

    # The live run: the daemon's passes at each day's job times, the clock moved, up to the same end.
    run_pass(app)
    day = start.astimezone(app.settings.tz).date() + timedelta(days=1)
    while True:
        # the job times of [complaints]: reports 08:00 on the 1st, risk tasks 08:30, warranty 09:00
        times = ((8, 0), (8, 30), (9, 0)) if day.day == 1 else ((8, 30), (9, 0))
        moments = [datetime.combine(day, time(h, m), app.settings.tz) for h, m in times]
        moments = [m for m in moments if m <= until]
        if not moments:
            break
        for moment in moments:
            clock.set(moment)
            run_pass(app)
        day += timedelta(days=1)
    with app.sessions() as s:
        live = {
            (r.idem_key, r.created_at.astimezone(app.settings.tz).date(), r.template)
            for r in s.scalars(select(OutboxMessage).where(OutboxMessage.template.in_(JOB_TEMPLATES)))
        }
    assert live == foretold, (sorted(live - foretold)[:5], sorted(foretold - live)[:5])
