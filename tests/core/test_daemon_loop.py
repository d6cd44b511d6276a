"""The main loop's rules, in-process: the watchdog is fed only while every loop progresses,
a failed step is not progress, and a stop request ends the loop after the item in hand."""

from __future__ import annotations

import pytest

from kefu.daemon import Daemon
from kefu.sdnotify import Notifier


class RecordingNotifier(Notifier):
    def __init__(self, watchdog_interval: float | None = 1.0) -> None:
        self.address = None
        self.watchdog_interval = watchdog_interval
        self.sent: list[tuple[str, ...]] = []

    def send(self, *fields: str) -> None:
        self.sent.append(fields)


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def loop(make_app):
    notifier, mono = RecordingNotifier(), Monotonic()
    daemon = Daemon(None, notifier=notifier, monotonic=mono)
    daemon.app = make_app(
        config={"scheduler": {"sweep_interval": "30s", "dispatch_interval": "10s", "intake_interval": "30s"}}
    )
    daemon.progress = dict.fromkeys(("intake", "sweep", "dispatch"), mono.now)
    return daemon, notifier, mono


def fed(notifier: RecordingNotifier) -> int:
    return sum(1 for fields in notifier.sent if fields == ("WATCHDOG=1",))


def test_fed_while_every_loop_progressed_within_twice_its_interval(loop):
    daemon, notifier, mono = loop
    assert daemon.feed_watchdog() and fed(notifier) == 1
    mono.now += 20.5  # dispatch (every 10 s) last finished 20.5 s ago: 2 × 10 s + 1 s slack covers it
    assert daemon.feed_watchdog()
    mono.now += 1  # now 21.5 s: dispatch is stuck
    assert not daemon.feed_watchdog()
    assert not daemon.loops_progressing()
    daemon.progress["dispatch"] = mono.now
    assert daemon.feed_watchdog() and fed(notifier) == 3


def test_feeding_is_throttled_to_twice_per_watchdog_period(loop):
    daemon, notifier, mono = loop
    daemon.feed_watchdog()
    mono.now += 0.2
    assert not daemon.feed_watchdog()
    mono.now += 0.4
    assert daemon.feed_watchdog() and fed(notifier) == 2


def test_a_step_that_raises_is_not_progress(loop, monkeypatch):
    daemon, _notifier, mono = loop
    daemon.cron = object()
    mono.now += 5
    daemon.handle("sweep")
    assert daemon.progress["sweep"] == mono.now

    def broken(app, name):
        raise RuntimeError("database went away")

    monkeypatch.setattr("kefu.daemon.run_step", broken)
    mono.now += 5
    daemon.handle("sweep")  # logged, not raised: the daemon never dies on one step
    assert daemon.progress["sweep"] == mono.now - 5


def test_no_watchdog_outside_systemd(make_app):
    daemon = Daemon(None, notifier=RecordingNotifier(watchdog_interval=None))
    daemon.app = make_app()
    assert daemon.feed_watchdog() is False


def test_a_stop_request_ends_the_loop_with_stopping_and_exit_0():
    notifier = RecordingNotifier()
    daemon = Daemon(None, notifier=notifier)
    daemon.wake("sweep")  # queued work is not started once a stop is asked
    daemon.request_stop()
    assert daemon.run_forever() == 0
    assert notifier.sent == [("STOPPING=1",)]


def test_a_database_that_does_not_answer_is_one_line_not_a_traceback(make_app, tmp_path, caplog):
    folder = tmp_path / "data"
    folder.mkdir()
    daemon = Daemon(None, notifier=RecordingNotifier(), monotonic=Monotonic())
    daemon.app = make_app(url=f"sqlite:///{folder / 'kefu.db'}")
    daemon.cron = object()
    daemon.app.engine.dispose()
    folder.rename(tmp_path / "moved")  # the database file cannot be opened any more
    with caplog.at_level("ERROR", logger="kefu"):
        daemon.handle("sweep")
    [record] = [r for r in caplog.records if r.name == "kefu"]
    assert record.exc_info is None
    assert "the sweep step failed, the database did not answer (unable to open database file)" in record.getMessage()
