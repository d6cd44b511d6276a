"""The example plugin's hooks: thin glue around its config and rules."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from kefu.api import CaseKind, Classification, CronJob, InboundMessage, hookimpl
from kefu.plugins.example.config import Ctx, ExampleConfig


@hookimpl
def kefu_config_section() -> type[BaseModel]:
    """The plugin's section, named after it (``[example]``)."""
    return ExampleConfig


@hookimpl
def kefu_case_kinds(ctx: Ctx) -> list[CaseKind]:
    """One kind of case: an example request."""
    return [CaseKind(name="request", title="示例请求", prefix="EX")]


def heartbeat(ctx: Ctx, fired_at: datetime) -> None:
    """Log that the job ran (tests count its firings in ``job_runs``)."""
    ctx.log.info("%s heartbeat for %s", ctx.name, fired_at.isoformat())


@hookimpl
def kefu_schedule(ctx: Ctx) -> list[CronJob]:
    """A heartbeat job on the configured schedule."""
    cfg = ctx.config
    return [CronJob(id="heartbeat", schedule=cfg.heartbeat_schedule, func=heartbeat, missed="run_once")]


@hookimpl
def kefu_classify(item: InboundMessage, ctx: Ctx) -> Classification | None:
    """Claim items whose subject or text holds one of the configured keywords."""
    cfg = ctx.config
    haystack = f"{item.subject}\n{item.text}".lower()
    if any(word.lower() in haystack for word in cfg.keywords):
        return Classification(kind=ctx.kind("request"))
    return None
