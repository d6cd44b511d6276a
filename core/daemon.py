"""``kefu run``: the long-running daemon.

Signal handlers only enqueue; the main loop acts. APScheduler only wakes the
loop (sweep, dispatch, intake intervals and each cron job's trigger); the work
runs in the main thread, one step at a time, so SIGTERM always finds a step
either finished or not begun (every step commits in whole transactions).

The systemd watchdog is fed by the main loop only while every loop (intake,
sweep, dispatch) finished a step recently: a step that hangs, or a scheduler
that stopped waking the loop, stops the feeding and systemd restarts the daemon.
"""

from __future__ import annotations

import logging
import queue
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import OperationalError

from kefu.app import App, build_app
from kefu.channels.runner import ChannelWorker, start_channels
from kefu.clock import Clock
from kefu.config import ConfigError
from kefu.console.writer import LoopWriter
from kefu.cron import CronRunner
from kefu.db.engine import database_reason
from kefu.db.schema import check_schema
from kefu.http.server import HttpServer
from kefu.jobs import make_trigger
from kefu.passes import STEPS, record_heartbeat, run_pass, run_step
from kefu.plugin_host import PluginError, PluginInfo
from kefu.sdnotify import Notifier
from kefu.staff import sync_staff

log = logging.getLogger("kefu")

# Without a systemd watchdog the loop still wakes this often to notice a stop request.
IDLE_TICK_SECONDS = 5.0


class Daemon:
    """The main loop and the parts it starts and stops: scheduler, channels, HTTP."""

    def __init__(
        self,
        config: str | Path | None,
        *,
        clock: Clock | None = None,
        available: dict[str, PluginInfo] | None = None,
        notifier: Notifier | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.clock = clock
        self.available = available
        # SimpleQueue.put is reentrant: safe to call from a signal handler (queue.Queue is not).
        self.events: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.stop_requested = False
        self.notifier = notifier or Notifier()
        self.monotonic = monotonic
        self.app: App | None = None
        self.cron: CronRunner | None = None
        self.scheduler: BackgroundScheduler | None = None
        self.channels: list[ChannelWorker] = []
        self.http: HttpServer | None = None
        self.console: Any = None  # kefu.console.server.ConsoleServer, imported only when [console] is on
        self.console_writer = LoopWriter(self.wake)
        self.progress: dict[str, float] = {}
        self.last_fed: float | None = None

    # --- signals: enqueue only ---------------------------------------------------------

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT ask for a stop, SIGHUP for a reload; the loop does the work."""
        signal.signal(signal.SIGTERM, lambda *_: self.request_stop())
        signal.signal(signal.SIGINT, lambda *_: self.request_stop())
        signal.signal(signal.SIGHUP, lambda *_: self.events.put("reload"))

    def request_stop(self) -> None:
        """Ask the loop to stop after the item in hand (safe from a signal handler)."""
        self.stop_requested = True
        self.events.put("stop")

    def wake(self, what: str) -> None:
        """Ask the main loop to run ``what`` (a step name, ``cron``, ``reload`` or ``stop``)."""
        self.events.put(what)

    # --- start / stop ------------------------------------------------------------------

    def _build(self) -> App:
        app = build_app(self.config, clock=self.clock, available=self.available)
        try:
            check_schema(app.engine, app.host.enabled)
        except Exception:
            app.dispose()
            raise
        return app

    def start(self) -> App:
        """Build the app, check the schema, start scheduler, channels and HTTP; then READY."""
        app = self._build()
        try:
            self._start_parts(app)
        except Exception as exc:
            self._stop_parts()
            app.dispose()
            if isinstance(exc, PluginError):  # kefu_http raised: the plugin is named, nothing runs
                raise ConfigError(app.config_path, [str(exc)]) from exc
            raise
        self.notifier.ready(f"running {len(app.host.enabled)} plugins")
        log.info("kefu ready: plugins %s", ", ".join(app.host.enabled) or "none")
        log_start_warnings(app)
        return app

    def _start_parts(self, app: App) -> None:
        self.app = app
        sync_staff(app)
        started = self.monotonic()
        # A fresh start counts as progress so the watchdog is fed until the first steps ran.
        self.progress = dict.fromkeys(STEPS, started)
        self.cron = CronRunner(app, started_at=app.clock.now(), interrupted=lambda: self.stop_requested)
        for job_id, when in self.cron.catch_up():
            log.info("ran missed firing of %s (%s) after downtime", job_id, when.isoformat())
        if app.settings.http.enabled:
            self.http = HttpServer(app)
            self.http.start()
        if app.settings.console.enabled:
            from kefu.console.server import ConsoleServer

            self.console = ConsoleServer(app, self.console_writer)
            self.console.start()
        self.scheduler = self._make_scheduler(app)
        self.scheduler.start()
        self.channels = start_channels(app, self.wake)
        for step in STEPS:
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
        if self.console is not None:
            app = self.app
            # Requests in hand wait for their changes, which only this (the main) thread runs.
            self.console.stop(lambda: app is not None and self.console_writer.drain(app))
            self.console = None

    def _intervals(self, app: App) -> dict[str, float]:
        s = app.settings.scheduler
        return {
            "intake": s.intake_interval.total_seconds(),
            "sweep": s.sweep_interval.total_seconds(),
            "dispatch": s.dispatch_interval.total_seconds(),
        }

    def _make_scheduler(self, app: App) -> BackgroundScheduler:
        sched = BackgroundScheduler(timezone=app.settings.tz)
        for step, every in self._intervals(app).items():
            sched.add_job(
                self.wake,
                IntervalTrigger(seconds=every),
                args=[step],
                id=f"kefu.{step}",
                coalesce=True,
                max_instances=1,
            )
        for job_id, (_plugin, job) in app.jobs.items():
            sched.add_job(
                self.wake,
                make_trigger(job.schedule, app.settings.tz),
                args=["cron"],
                id=job_id,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
            )
        return sched

    def reload(self) -> bool:
        """Validate the new config; if it is good swap to it, else keep the old one running.

        Returns True when the new config runs. The old parts are stopped only after
        the new config validated, and restarted if the new ones fail to start (a
        port already taken), so a bad reload never leaves the daemon without work.
        """
        self.notifier.reloading()
        try:
            new = self._build()
        except Exception as exc:
            log.error("reload refused, the running config stays: %s", exc)
            self.notifier.ready("reload refused; old config running")
            return False
        old = self.app
        self._stop_parts()
        try:
            self._start_parts(new)
        except Exception as exc:
            log.error("the new config failed to start (%s); going back to the old one", exc)
            self._stop_parts()
            new.dispose()
            if old is not None:
                self._start_parts(old)
            self.notifier.ready("reload failed; old config running")
            return False
        if old is not None:
            old.dispose()
        log.info("config reloaded from %s", new.config_path)
        self.notifier.ready("reloaded")
        return True

    # --- the loop ---------------------------------------------------------------------

    def run_forever(self) -> int:
        """Serve events until a stop is asked; return the exit status."""
        tick = self.notifier.watchdog_interval or IDLE_TICK_SECONDS
        while not self.stop_requested:
            try:
                what: str | None = self.events.get(timeout=tick)
            except queue.Empty:
                what = None
            if self.stop_requested:
                break
            if what == "reload":
                self.reload()
            elif what is not None and what != "stop":
                self.handle(what)
            self.feed_watchdog()
        self.shutdown()
        return 0

    def handle(self, what: str) -> None:
        """Run one step (``intake``, ``sweep``, ``dispatch``) or the due cron jobs."""
        app, cron = self.app, self.cron
        assert app is not None and cron is not None
        try:
            if what in STEPS:
                done = run_step(app, what)
                self.progress[what] = self.monotonic()
                if what == "intake" and done:
                    self.wake("dispatch")  # the acknowledgements it queued go now, not at the next tick
            elif what == "cron":
                ran = cron.run_due()
                record_heartbeat(app, "cron", f"{len(ran)} firings")
            elif what == "console":
                # Staff's changes from the console, here in the one writer thread (kefu.console.writer).
                self.console_writer.drain(app)
        except OperationalError as exc:
            # The database is down or busy, not a bug: one line a step, not a traceback a second.
            log.error(
                "the %s step failed, the database did not answer (%s); it runs again at its next interval",
                what,
                database_reason(exc),
            )
        except Exception:
            # Not progress: /healthz shows the stale loop, and the watchdog stops being fed.
            log.exception("the %s step failed; it runs again at its next interval", what)

    def loops_progressing(self) -> bool:
        """True while every loop finished a step within twice its interval plus a watchdog period."""
        if self.app is None:
            return False
        now = self.monotonic()
        slack = self.notifier.watchdog_interval or IDLE_TICK_SECONDS
        return all(
            now - self.progress.get(step, 0.0) <= 2 * every + slack for step, every in self._intervals(self.app).items()
        )

    def feed_watchdog(self) -> bool:
        """Send WATCHDOG=1 if the loops progress (at most twice per watchdog period)."""
        interval = self.notifier.watchdog_interval
        if interval is None or not self.loops_progressing():
            return False
        now = self.monotonic()
        if self.last_fed is not None and now - self.last_fed < interval / 2:
            return False
        self.notifier.watchdog()
        self.last_fed = now
        return True

    def shutdown(self) -> None:
        """Stop everything in order; nothing is half-written (every step is transactional)."""
        self.notifier.stopping()
        log.info("kefu stopping")
        self._stop_parts()
        if self.app is not None:
            self.app.dispose()
        log.info("kefu stopped")


def log_start_warnings(app: App) -> None:
    """What check-config warns about (a calendar year without holidays …) and letter fonts
    that would make letters wait, in the start log where the operator looks."""
    from kefu.senders.letter_fonts import check_app_fonts

    for warning in app.warnings:
        log.warning("%s", warning)
    try:
        fonts = check_app_fonts(app)
    except Exception as exc:  # a start must not fail on the check itself
        log.warning("could not check the letter fonts: %s: %s", type(exc).__name__, exc)
        return
    if not fonts.ok:
        log.error("letters will wait: %s", fonts.summary())


def run_once(
    config: str | Path | None,
    *,
    clock: Clock | None = None,
    available: dict[str, PluginInfo] | None = None,
) -> dict[str, Any]:
    """``kefu run --once``: one full pass (intake, sweep, due jobs, dispatch), then exit."""
    app = build_app(config, clock=clock, available=available)
    try:
        check_schema(app.engine, app.host.enabled)
        sync_staff(app)
        cron = CronRunner(app, started_at=app.clock.now())
        cron.catch_up()
        result = run_pass(app, cron)
        return result.__dict__
    finally:
        app.dispose()


def serve(
    config: str | Path | None,
    *,
    available: dict[str, PluginInfo] | None = None,
    on_ready: Callable[[Daemon], None] | None = None,
) -> int:
    """Run the daemon in the foreground until SIGTERM/SIGINT; return the exit status."""
    daemon = Daemon(config, available=available)
    daemon.install_signal_handlers()
    daemon.start()
    if on_ready:
        on_ready(daemon)
    return daemon.run_forever()
