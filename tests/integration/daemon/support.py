"""Helpers for the real-daemon tests: configs, migrating, reading what the probe job wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from kefu.db.engine import make_engine, session_factory
from kefu.db.models import Heartbeat, JobRun
from kefu.db.schema import upgrade
from kefu.testing.fixtures import merge

PROBE = Path(__file__).with_name("probe_plugin.py")


def daemon_config(tmp_path: Path, url: str, **extra: Any) -> dict[str, Any]:
    """A config for a real daemon: loops every second, HTTP off unless asked, state in tmp."""
    base: dict[str, Any] = {
        "kefu": {"state_dir": str(tmp_path / "state"), "node_name": "d1"},
        "database": {"url": url},
        "plugins": {"enabled": ["example"]},
        "http": {"enabled": False, "port": 0},
        "scheduler": {"sweep_interval": "1s", "dispatch_interval": "1s", "intake_interval": "1s"},
        "outbound": {"spool": {"path": str(tmp_path / "spool")}},
    }
    return merge(base, extra)


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the code's schema, as ``kefu db upgrade`` does."""
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def probe_rows(url: str) -> tuple[set[str], list[JobRun]]:
    """The probe's heartbeat rows by name, and every job run of the probe job."""
    engine = make_engine(url)
    with session_factory(engine)() as s:
        names = set(s.scalars(select(Heartbeat.name).where(Heartbeat.name.like("probe:%"))))
        runs = list(s.scalars(select(JobRun).where(JobRun.job_id == "probe.tick").order_by(JobRun.scheduled_at)))
    engine.dispose()
    return names, runs
