"""A real ``kefu run`` under a real notify socket: READY, RELOADING, WATCHDOG, STOPPING, SIGTERM."""

from __future__ import annotations

import itertools
import signal
import time
from datetime import datetime
from pathlib import Path

import pytest

from kefu.clock import as_utc
from kefu.testing.daemons import write_config

from .support import daemon_config, migrate, probe_rows

pytestmark = pytest.mark.slow


def wait_for_file(path: Path, timeout: float = 10.0) -> str:
    """Wait until the probe job reports it is inside its pause; return the firing time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.02)
    raise TimeoutError(f"{path} did not appear within {timeout}s")


def test_ready_then_sigterm_exits_0_with_stopping(start_daemon, sqlite_url, tmp_path):
    migrate(sqlite_url)
    d = start_daemon(daemon_config(tmp_path, sqlite_url))
    ready_after = d.wait_ready()
    assert ready_after < 5, f"READY took {ready_after:.2f}s"
    status = d.notify.received("READY")[0][1]["STATUS"]
    assert "1 plugins" in status
    code, took = d.stop()
    assert code == 0, d.log()
    assert took < 3, f"stopping took {took:.2f}s"
    d.notify.wait_for("STOPPING", timeout=1)
    assert "kefu stopped" in d.log()


def test_sigterm_finishes_the_job_in_hand_and_exits_0(start_daemon, sqlite_url, tmp_path):
    control = tmp_path / "control"
    control.mkdir()
    (control / "block").write_text("2")
    migrate(sqlite_url)
    cfg = daemon_config(
        tmp_path, sqlite_url, plugins={"enabled": ["example", "probe"]}, probe={"control_dir": str(control)}
    )
    d = start_daemon(cfg, probe=True)
    d.wait_ready()
    stamp = wait_for_file(control / "in-job")
    code, took = d.stop()
    assert code == 0, d.log()
    # The firing in hand ran to its end (two-second pause) and nothing after it began.
    assert 1 < took < 6, f"stopping took {took:.2f}s"
    names, runs = probe_rows(sqlite_url)
    assert {f"probe:{stamp}:a", f"probe:{stamp}:b"} <= names
    assert [(r.scheduled_at.isoformat(), r.state) for r in runs if r.state != "done"] == []
    in_hand = [r for r in runs if as_utc(r.scheduled_at) == datetime.fromisoformat(stamp)]
    assert len(in_hand) == 1 and in_hand[0].finished_at is not None
    assert len(names) == 2 * len(runs), "every firing wrote both of its rows, none only one"


def test_sighup_refuses_an_invalid_config_and_keeps_running(start_daemon, sqlite_url, tmp_path):
    migrate(sqlite_url)
    good = daemon_config(tmp_path, sqlite_url)
    d = start_daemon(good)
    d.wait_ready()
    # A typo in the new config: the reload is refused, the old config keeps running.
    write_config(d.config, daemon_config(tmp_path, sqlite_url, example={"keywordz": ["x"]}))
    d.signal(signal.SIGHUP)
    d.notify.wait_for("RELOADING")
    d.notify.wait_for("READY", count=2)
    reloading = d.notify.received("RELOADING")[0][1]
    assert int(reloading["MONOTONIC_USEC"]) > 0
    assert d.proc.poll() is None
    log = d.log()
    assert "reload refused" in log and "example.keywordz: unknown key" in log
    assert d.notify.received("READY")[1][1]["STATUS"].startswith("reload refused")
    # A good new config is taken.
    write_config(d.config, daemon_config(tmp_path, sqlite_url, example={"heartbeat_schedule": "0 * * * *"}))
    d.signal(signal.SIGHUP)
    d.notify.wait_for("READY", count=3)
    assert "config reloaded" in d.log()
    assert d.notify.received("READY")[2][1]["STATUS"] == "reloaded"
    code, _took = d.stop()
    assert code == 0, d.log()


def test_watchdog_is_fed_only_while_the_loops_progress(start_daemon, sqlite_url, tmp_path):
    control = tmp_path / "control"
    control.mkdir()
    migrate(sqlite_url)
    cfg = daemon_config(
        tmp_path, sqlite_url, plugins={"enabled": ["example", "probe"]}, probe={"control_dir": str(control)}
    )
    d = start_daemon(cfg, probe=True, env={"WATCHDOG_USEC": "1000000"})
    d.wait_ready()
    d.notify.wait_for("WATCHDOG", count=4, timeout=10)
    # Hang the main loop for 4 s inside a cron job: the watchdog must go hungry.
    (control / "block").write_text("4")
    wait_for_file(control / "in-job")
    hung_at = time.monotonic()
    (control / "block").unlink()
    fed_before = len(d.notify.received("WATCHDOG"))
    d.notify.wait_for("WATCHDOG", count=fed_before + 3, timeout=15)
    during = [at for at, _m in d.notify.received("WATCHDOG") if hung_at + 0.6 < at < hung_at + 3.4]
    assert during == [], "the watchdog was fed while the loop hung"
    times = [at for at, _m in d.notify.received("WATCHDOG")]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) > 3, gaps
    code, _took = d.stop()
    assert code == 0, d.log()


def test_kefu_run_refuses_an_old_schema_naming_the_command(start_daemon, sqlite_url, tmp_path):
    d = start_daemon(daemon_config(tmp_path, sqlite_url))  # never migrated
    assert d.proc.wait(timeout=20) == 1
    assert "run `kefu db upgrade`" in d.log()
    assert d.notify.received("READY") == []
