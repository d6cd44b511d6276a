"""SIGKILL during a pass loses nothing; two daemons on one PostgreSQL run each firing once."""

from __future__ import annotations

import itertools
import re
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from kefu.clock import as_utc
from kefu.db.engine import make_engine, session_factory
from kefu.db.models import JobRun
from kefu.testing.databases import postgres_available, postgres_schema
from kefu.testing.fixtures import skip_or_fail

from .support import daemon_config, migrate, probe_rows

pytestmark = pytest.mark.slow


def wait_until(predicate, timeout: float = 15.0, what: str = "condition") -> None:
    """Poll ``predicate`` (an observation of another process, not a deadline of ours)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not reached within {timeout}s")


def assert_nothing_half_written(url: str) -> tuple[set[str], list[JobRun]]:
    """Every recorded firing wrote both its rows; no row exists without its recorded firing."""
    names, runs = probe_rows(url)
    stamps = {as_utc(r.scheduled_at) for r in runs}
    written = {as_utc(datetime.fromisoformat(n.split(":", 1)[1].rsplit(":", 1)[0])) for n in names}
    assert written == stamps, f"rows without a firing or firings without rows: {written ^ stamps}"
    assert len(names) == 2 * len(runs)
    assert all(r.state == "done" for r in runs)
    return names, runs


def test_sigkill_during_a_job_loses_nothing_on_restart(start_daemon, db_url, tmp_path):
    control = tmp_path / "control"
    control.mkdir()
    migrate(db_url)
    cfg = daemon_config(
        tmp_path,
        db_url,
        plugins={"enabled": ["example", "probe"]},
        probe={"control_dir": str(control), "missed": "run_once"},
    )
    first = start_daemon(cfg, name="first", probe=True)
    first.wait_ready()
    wait_until(lambda: len(probe_rows(db_url)[1]) >= 2, what="two probe firings")
    # The next firing hangs after writing its first row, inside its transaction: kill -9 there.
    (control / "block").write_text("60")
    wait_until(lambda: (control / "in-job").exists(), what="the probe job in its pause")
    killed = as_utc(datetime.fromisoformat((control / "in-job").read_text()))
    first.kill()
    assert first.proc.returncode == -9
    (control / "block").unlink()

    _names, runs = assert_nothing_half_written(db_url)
    assert killed not in {as_utc(r.scheduled_at) for r in runs}, "the killed firing's claim survived"
    last_before = max(as_utc(r.scheduled_at) for r in runs)

    second = start_daemon(cfg, name="second", probe=True)
    second.wait_ready()
    ready_at = datetime.now().astimezone()
    # run_once: the missed firing (the killed one, or the latest that fell while down) is re-done
    # at start, before READY.
    assert re.search(r"ran missed firing of probe\.tick", second.log()), second.log()
    _names, runs = assert_nothing_half_written(db_url)
    redone = [as_utc(r.scheduled_at) for r in runs if last_before < as_utc(r.scheduled_at) <= ready_at]
    assert redone and min(redone) >= killed
    wait_until(lambda: len(probe_rows(db_url)[1]) >= len(runs) + 2, what="firings after restart")
    code, _took = second.stop()
    assert code == 0, second.log()
    assert_nothing_half_written(db_url)


def test_two_daemons_on_one_postgresql_run_each_firing_exactly_once(start_daemon, tmp_path):
    reason = postgres_available()
    if reason:
        skip_or_fail(reason)
    with postgres_schema() as url:
        migrate(url)
        daemons = []
        for node in ("node-a", "node-b"):
            cfg = daemon_config(tmp_path, url, kefu={"node_name": node}, example={"heartbeat_schedule": "* * * * * *"})
            daemons.append(start_daemon(cfg, name=node))
        for d in daemons:
            d.wait_ready()
        began = datetime.now().astimezone()
        time.sleep(5)  # let the per-second job fire about five times on both daemons
        for d in daemons:
            code, _took = d.stop()
            assert code == 0, d.log()
        engine = make_engine(url)
        with session_factory(engine)() as s:
            runs = list(s.scalars(select(JobRun).where(JobRun.job_id == "example.heartbeat")))
        engine.dispose()
        # What the job itself did: each firing's work appears once across both daemons' logs.
        worked = [m for d in daemons for m in re.findall(r"example heartbeat for (\S+)", d.log())]
        firings = sorted(as_utc(r.scheduled_at) for r in runs)
        assert len(worked) == len(set(worked)), "a firing ran on both daemons"
        assert sorted(as_utc(datetime.fromisoformat(w)) for w in worked) == firings
        assert all(r.state == "done" for r in runs)
        steady = [f for f in firings if f > began]
        assert len(steady) >= 4, firings
        # No second was missed while both ran: the firings are consecutive.
        assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(steady))
        print("firings by node:", {n: sum(r.node == n for r in runs) for n in ("node-a", "node-b")})
