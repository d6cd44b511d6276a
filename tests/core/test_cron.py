"""Cron firings with the FakeClock: missed-run policies after downtime, claims, pending firings."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from kefu.clock import as_utc
from kefu.context import PluginContext
from kefu.cron import CronRunner
from kefu.db.models import JobRun
from kefu.hookspecs import hookimpl
from kefu.jobs import CronJob


class Hourly:
    """A test plugin with two hourly jobs that differ only in their missed-run policy."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, datetime]] = []

    def _job(self, name: str):
        def run(ctx: PluginContext, fired_at: datetime) -> None:
            assert ctx.session is not None  # runs inside the claim's transaction
            self.calls.append((name, as_utc(fired_at)))

        return run

    @hookimpl
    def kefu_schedule(self, ctx: PluginContext) -> list[CronJob]:
        return [
            CronJob(id="once", schedule="0 * * * *", func=self._job("once"), missed="run_once"),
            CronJob(id="skip", schedule="0 * * * *", func=self._job("skip"), missed="skip"),
        ]


def at(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text))


def runs(app) -> list[tuple[str, datetime, str]]:
    with app.sessions() as s:
        rows = s.scalars(select(JobRun).order_by(JobRun.scheduled_at, JobRun.job_id))
        return [(r.job_id, as_utc(r.scheduled_at), r.state) for r in rows]


def test_missed_run_once_runs_the_latest_missed_firing_once_after_downtime(make_app, clock):
    plugin = Hourly()
    app = make_app(plugins=["hourly"], extra_plugins={"hourly": plugin})
    first = CronRunner(app, started_at=clock.now())  # 09:00, the daemon starts
    clock.advance(minutes=61)
    assert first.run_due() == [
        ("hourly.once", at("2026-11-02T10:00+08:00")),
        ("hourly.skip", at("2026-11-02T10:00+08:00")),
    ]
    # The daemon is down from 10:01 to 14:30: the 11, 12, 13, 14 o'clock firings fell meanwhile.
    clock.set("2026-11-02T14:30+08:00")
    second = CronRunner(app, started_at=clock.now())
    assert second.catch_up() == [("hourly.once", at("2026-11-02T14:00+08:00"))]
    assert second.catch_up() == []  # claimed: a second look (or a second daemon) runs nothing
    clock.set("2026-11-02T15:00:01+08:00")
    second.run_due()
    assert plugin.calls == [
        ("once", at("2026-11-02T10:00+08:00")),
        ("skip", at("2026-11-02T10:00+08:00")),
        ("once", at("2026-11-02T14:00+08:00")),
        ("once", at("2026-11-02T15:00+08:00")),
        ("skip", at("2026-11-02T15:00+08:00")),
    ]
    assert all(state == "done" for _j, _t, state in runs(app))


def test_a_job_that_never_ran_is_not_caught_up_on_first_start(make_app, clock):
    plugin = Hourly()
    app = make_app(plugins=["hourly"], extra_plugins={"hourly": plugin})
    assert CronRunner(app, started_at=clock.now()).catch_up() == []
    assert plugin.calls == []


def test_two_runners_on_one_database_run_each_firing_once(make_app, clock):
    plugin = Hourly()
    app_a = make_app(plugins=["hourly"], extra_plugins={"hourly": plugin})
    app_b = make_app(plugins=["hourly"], extra_plugins={"hourly": plugin})
    a = CronRunner(app_a, started_at=clock.now())
    b = CronRunner(app_b, started_at=clock.now())
    for _hour in range(3):
        clock.advance(hours=1)
        ran_a, ran_b = a.run_due(), b.run_due()
        assert len(ran_a) + len(ran_b) == 2  # both jobs, each on exactly one runner
    assert len(plugin.calls) == 6 == len(set(plugin.calls))


def test_firings_pending_while_the_loop_was_busy_all_run_in_order(make_app, clock):
    plugin = Hourly()
    app = make_app(plugins=["hourly"], extra_plugins={"hourly": plugin})
    runner = CronRunner(app, started_at=clock.now())
    clock.advance(hours=3)  # a long step kept the loop busy across three firings
    runner.run_due()
    assert [t for name, t in plugin.calls if name == "once"] == [
        at("2026-11-02T10:00+08:00"),
        at("2026-11-02T11:00+08:00"),
        at("2026-11-02T12:00+08:00"),
    ]


def test_too_many_pending_firings_coalesce_into_the_latest(make_app, clock):
    plugin = Hourly()
    app = make_app(plugins=["hourly"], extra_plugins={"hourly": plugin})
    runner = CronRunner(app, started_at=clock.now(), max_pending=2)
    clock.advance(hours=5)  # the machine was suspended
    runner.run_due()
    assert [t for name, t in plugin.calls if name == "once"] == [at("2026-11-02T14:00+08:00")]


def test_a_stop_request_is_honoured_between_firings(make_app, clock):
    plugin = Hourly()
    app = make_app(plugins=["hourly"], extra_plugins={"hourly": plugin})
    stop = []
    runner = CronRunner(app, started_at=clock.now(), interrupted=lambda: bool(stop))

    def job_then_stop(ctx, fired_at):
        stop.append(fired_at)

    runner.app.jobs["hourly.once"] = ("hourly", CronJob(id="once", schedule="0 * * * *", func=job_then_stop))
    clock.advance(hours=2)
    ran = runner.run_due()
    assert ran == [("hourly.once", at("2026-11-02T10:00+08:00"))]  # the firing in hand, then stop


def test_restart_within_the_same_minute_does_not_run_a_firing_again(make_app, clock):
    plugin = Hourly()
    app = make_app(plugins=["hourly"], extra_plugins={"hourly": plugin})
    first = CronRunner(app, started_at=clock.now())
    clock.advance(minutes=60, seconds=10)
    first.run_due()
    clock.advance(seconds=20)  # killed and restarted at 10:00:30
    again = CronRunner(app, started_at=clock.now() - timedelta(seconds=25))
    again.catch_up()
    again.run_due()
    assert len(plugin.calls) == 2
