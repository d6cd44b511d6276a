"""The example plugin's hooks: thin glue around its config and rules."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from kefu.context import PluginContext
from kefu.hookspecs import hookimpl
from kefu.intake.message import Classification, InboundMessage
from kefu.jobs import CronJob
from kefu.kinds import CaseKind
from kefu.plugins.example.config import ExampleConfig


@hookimpl
def kefu_config_section() -> type[BaseModel]:
    """The ``[example]`` section."""
    return ExampleConfig


@hookimpl
def kefu_case_kinds(ctx: PluginContext) -> list[CaseKind]:
    """One kind of case: an example request."""
    return [CaseKind(name="example.request", title="示例请求", prefix="EX")]


def heartbeat(ctx: PluginContext, fired_at: datetime) -> None:
    """Log that the job ran (tests count its firings in ``job_runs``)."""
    ctx.log.info("example heartbeat for %s", fired_at.isoformat())


@hookimpl
def kefu_schedule(ctx: PluginContext) -> list[CronJob]:
    """A heartbeat job on the configured schedule."""
    cfg: ExampleConfig = ctx.config
    return [CronJob(id="heartbeat", schedule=cfg.heartbeat_schedule, func=heartbeat, missed="run_once")]


@hookimpl
def kefu_classify(item: InboundMessage, ctx: PluginContext) -> Classification | None:
    """Claim items whose subject or text holds one of the configured keywords."""
    cfg: ExampleConfig = ctx.config
    haystack = f"{item.subject}\n{item.text}".lower()
    if any(word.lower() in haystack for word in cfg.keywords):
        return Classification(kind="example.request")
    return None
