"""``kefu run``: the long-running daemon.

Signal handlers only enqueue; the main loop acts. APScheduler only wakes the
loop (sweep, dispatch, intake intervals and each cron job's trigger); the work
runs in the main thread, one step at a time, so SIGTERM always finds a step
either finished or not begun (every step commits in whole transactions).
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from kefu.app import App, build_app
from kefu.channels.runner import ChannelWorker, start_channels
from kefu.clock import Clock
from kefu.config import ConfigError
from kefu.cron import CronRunner
from kefu.db.schema import check_schema
from kefu.http.server import HttpServer
from kefu.jobs import make_trigger
from kefu.passes import record_heartbeat, run_pass, run_step
from kefu.sdnotify import Notifier
from kefu.staff import sync_staff

log = logging.getLogger("kefu")


class Daemon:
    """The main loop and the parts it starts and stops: scheduler, channels, HTTP."""

    def __init__(self, config: str | Path | None, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock
        self.events: queue.Queue[str] = queue.Queue()
        self.notifier = Notifier()
        self.app: App | None = None
        self.cron: CronRunner | None = None
        self.scheduler: BackgroundScheduler | None = None
        self.channels: list[ChannelWorker] = []
        self.http: HttpServer | None = None
        self.progress_at: datetime | None = None

    # --- signals: enqueue only ---------------------------------------------------------

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT ask for a stop, SIGHUP for a reload; the loop does the work."""
        signal.signal(signal.SIGTERM, lambda *_: self.events.put("stop"))
        signal.signal(signal.SIGINT, lambda *_: self.events.put("stop"))
        signal.signal(signal.SIGHUP, lambda *_: self.events.put("reload"))

    def wake(self, what: str) -> None:
        """Ask the main loop to run ``what`` (a step name, ``cron``, ``reload`` or ``stop``)."""
        self.events.put(what)

    # --- start / stop ------------------------------------------------------------------

    def start(self) -> App:
        """Build the app, check the schema, start scheduler, channels and HTTP; then READY."""
        app = build_app(self.config, clock=self.clock)
        try:
            check_schema(app.engine)
        except Exception:
            app.dispose()
            raise
        self._start_parts(app)
        self.notifier.ready(f"running {len(app.host.enabled)} plugins")
        log.info("kefu ready: plugins %s", ", ".join(app.host.enabled) or "none")
        return app

    def _start_parts(self, app: App) -> None:
        self.app = app
        sync_staff(app)
        self.cron = CronRunner(app, started_at=app.clock.now())
        for job_id, when in self.cron.catch_up():
            log.info("ran missed firing of %s (%s) after downtime", job_id, when.isoformat())
        self.scheduler = self._make_scheduler(app)
        self.scheduler.start()
        self.channels = start_channels(app, self.wake)
        if app.settings.http.enabled:
            self.http = HttpServer(app)
            self.http.start()
        for step in ("intake", "sweep", "dispatch"):
            self.wake(step)

    def _stop_parts(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        for worker in self.channels:
            worker.stop()
        self.channels = []
        if self.http is not None:
            self.http.stop()
            self.http = None

    def _make_scheduler(self, app: App) -> BackgroundScheduler:
        sched = BackgroundScheduler(timezone=app.settings.tz)
        intervals = app.settings.scheduler
        for step, every in (
            ("sweep", intervals.sweep_interval),
            ("dispatch", intervals.dispatch_interval),
            ("intake", intervals.intake_interval),
        ):
            sched.add_job(self.wake, IntervalTrigger(seconds=every.total_seconds()), args=[step],
                          id=f"kefu.{step}", coalesce=True, max_instances=1)
        for job_id, (_plugin, job) in app.jobs.items():
            sched.add_job(self.wake, make_trigger(job.schedule, app.settings.tz), args=["cron"],
                          id=job_id, coalesce=True, max_instances=1, misfire_grace_time=None)
        return sched

    def reload(self) -> None:
        """Validate the new config; if it is good swap to it, else keep the old one running."""
        self.notifier.reloading()
        try:
            new = build_app(self.config, clock=self.clock)
            check_schema(new.engine)
        except (ConfigError, Exception) as exc:
            log.error("reload refused, the running config stays: %s", exc)
            self.notifier.ready("reload refused; old config running")
            return
        old = self.app
        self._stop_parts()
        if old is not None:
            old.dispose()
        self._start_parts(new)
        log.info("config reloaded from %s", new.config_path)
        self.notifier.ready("reloaded")

    # --- the loop ---------------------------------------------------------------------

    def run_forever(self) -> int:
        """Serve events until a stop is asked; return the exit status."""
        assert self.app is not None
        tick = self.notifier.watchdog_interval or 5.0
        while True:
            try:
                what = self.events.get(timeout=tick)
            except queue.Empty:
                what = "idle"
            if what == "stop":
                break
            if what == "reload":
                self.reload()
                continue
            self._handle(what)
        self.shutdown()
        return 0

    def _handle(self, what: str) -> None:
        app, cron = self.app, self.cron
        assert app is not None and cron is not None
        try:
            if what in ("intake", "sweep", "dispatch"):
                run_step(app, what)
            elif what == "cron":
                cron.run_due()
                record_heartbeat(app, "cron")
            # Fed only here, after a step made progress: a stuck step trips the watchdog.
            self.notifier.watchdog()
        except Exception:
            log.exception("the %s step failed; it runs again at its next interval", what)

    def shutdown(self) -> None:
        """Stop everything in order; nothing is half-written (every step is transactional)."""
        self.notifier.stopping()
        log.info("kefu stopping")
        self._stop_parts()
        if self.app is not None:
            self.app.dispose()


def run_once(config: str | Path | None, *, clock: Clock | None = None) -> dict[str, Any]:
    """``kefu run --once``: one full pass (intake, sweep, due jobs, dispatch), then exit."""
    app = build_app(config, clock=clock)
    try:
        check_schema(app.engine)
        sync_staff(app)
        cron = CronRunner(app, started_at=app.clock.now())
        cron.catch_up()
        result = run_pass(app, cron)
        return result.__dict__
    finally:
        app.dispose()


def serve(config: str | Path | None, *, on_ready: Callable[[Daemon], None] | None = None) -> int:
    """Run the daemon in the foreground until SIGTERM/SIGINT."""
    daemon = Daemon(config)
    daemon.install_signal_handlers()
    daemon.start()
    if on_ready:
        on_ready(daemon)
    return daemon.run_forever()


def running_in_main_thread() -> bool:
    """Signal handlers can only be installed from the main thread."""
    return threading.current_thread() is threading.main_thread()
