"""`kefu simulate` shows the timeline the live run then produces, and writes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select

from kefu.clock import FakeClock
from kefu.cron import CronRunner
from kefu.db.engine import transaction
from kefu.db.models import CaseEvent, Deadline, JobRun, OutboxMessage
from kefu.sla.cases import open_case
from kefu.sla.simulate import marks, simulate, timeline_since
from kefu.sla.sweep import run_sweep

CONFIG = {"sla": {"report_to": ["cs_head"], "report_schedule": "0 12 * * *"}}


def _counts(app: Any) -> tuple[int, ...]:
    with app.sessions() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(t)) or 0 for t in (CaseEvent, OutboxMessage, JobRun, Deadline)
        )


def _deadline_state(app: Any) -> list[tuple[Any, ...]]:
    with app.sessions() as s:
        return [(d.stage, d.level, d.next_at) for d in s.scalars(select(Deadline).order_by(Deadline.id))]


def test_simulate_shows_the_timeline_the_live_run_then_produces(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app(CONFIG)
    with transaction(app.sessions) as s:
        ctx = app.context("slatest", s)
        open_case(ctx, kind="slatest.leak", title="漏水", unit="S01")
        open_case(ctx, kind="slatest.repair", title="报修", unit="S01")
    until = clock.now() + timedelta(hours=8)
    before_counts, before_state = _counts(app), _deadline_state(app)

    predicted = simulate(app, until)

    assert _counts(app) == before_counts and _deadline_state(app) == before_state  # nothing written
    assert clock.now() == datetime.fromisoformat("2026-11-02T09:00:00+08:00")  # the real clock never moved
    whats = [e["what"] for e in predicted]
    assert {"deadline_warning", "deadline_breached", "escalated", "cron:done", "notify:staff"} <= set(whats)
    assert any(e["template"] == "core/escalation.txt" and e["recipient"] == "王经理" for e in predicted)

    with app.sessions() as s:
        start = marks(s)
    cron = CronRunner(app, started_at=clock.now())
    for at in sorted({datetime.fromisoformat(e["at"]) for e in predicted}):
        clock.set(at)
        run_sweep(app)
        cron.run_due()
    clock.set(until)
    run_sweep(app)
    cron.run_due()
    with app.sessions() as s:
        live = timeline_since(s, start, app.settings.tz)
    assert live == predicted


def test_simulate_command_prints_json(sla_app: Any, clock: FakeClock, tmp_path: Any) -> None:
    from kefu.cli.main import cli

    app = sla_app()
    with transaction(app.sessions) as s:
        open_case(app.context("slatest", s), kind="slatest.leak", unit="S01")
    result = CliRunner().invoke(cli, ["simulate", "--until", "+5h", "--json"], obj={"app": app})
    assert result.exit_code == 0, result.output
    assert '"deadline_breached"' in result.output
    result = CliRunner().invoke(cli, ["cases", "list"], obj={"app": app})
    assert "HT-2026-000001" in result.output


def test_calendar_show_names_days_and_source(sla_app: Any, clock: FakeClock) -> None:
    from kefu.cli.main import cli

    app = sla_app(
        {
            "calendar": {
                "years": {
                    "2027": {"holidays": ["2027-01-01"], "workdays": ["2027-01-02"], "source": "国办发明电〔2026〕1号"}
                }
            }
        }
    )
    out = CliRunner().invoke(cli, ["calendar", "show", "2027"], obj={"app": app}).output
    assert "config [calendar.years.2027] (国办发明电〔2026〕1号)" in out
    assert "2027-01-01" in out and "2027-01-02" in out and "上班 (调休)" in out
    out = CliRunner().invoke(cli, ["calendar", "show", "2025"], obj={"app": app}).output
    assert "chinese_calendar" in out and "2025-09-28" in out and "National Day" in out
