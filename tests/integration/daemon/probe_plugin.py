"""A test plugin for real daemon processes: a cron job whose work can be made to hang.

Each firing writes two heartbeat rows, ``probe:<time>:a`` before and ``probe:<time>:b``
after an optional pause, in the firing's one transaction. While the file
``<control_dir>/block`` exists, the job writes ``<control_dir>/in-job`` (the firing
time) after the first row and pauses for as many seconds as ``block`` holds — long
enough for a test to SIGKILL or SIGTERM the daemon with a transaction open.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kefu.context import PluginContext
from kefu.db.models import Heartbeat
from kefu.hookspecs import hookimpl
from kefu.jobs import CronJob, MissedPolicy


class ProbeConfig(BaseModel):
    """``[probe]``: where the test steers the job, and its schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    control_dir: Path
    schedule: str = "* * * * * *"
    missed: MissedPolicy = "run_once"


@hookimpl
def kefu_config_section() -> type[BaseModel]:
    """The ``[probe]`` section."""
    return ProbeConfig


def tick(ctx: PluginContext, fired_at: datetime) -> None:
    """Write row a, maybe pause (the test kills us here), write row b."""
    cfg: ProbeConfig = ctx.config
    session = ctx.db()
    stamp = fired_at.isoformat()
    session.add(Heartbeat(name=f"probe:{stamp}:a", at=ctx.now(), detail="before the pause"))
    session.flush()
    block = cfg.control_dir / "block"
    if block.exists():
        (cfg.control_dir / "in-job").write_text(stamp)
        time.sleep(float(block.read_text() or "60"))
    session.add(Heartbeat(name=f"probe:{stamp}:b", at=ctx.now(), detail="after the pause"))
    ctx.log.info("probe tick %s done", stamp)


@hookimpl
def kefu_schedule(ctx: PluginContext) -> list[CronJob]:
    """The probe job, on the configured schedule and missed-run policy."""
    cfg: ProbeConfig = ctx.config
    return [CronJob(id="tick", schedule=cfg.schedule, func=tick, missed=cfg.missed)]
