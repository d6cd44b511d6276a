"""The market plugin's hooks: thin glue around its config, fee ladder and patrol rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from kefu.api import CaseKind, CronJob, hookimpl
from kefu.plugins.market import kinds
from kefu.plugins.market.config import Ctx, MarketConfig
from kefu.plugins.market.jobs import cron_jobs
from kefu.plugins.market.samples import template_samples

if TYPE_CHECKING:
    import click


@hookimpl
def kefu_config_section() -> type[BaseModel]:
    """The ``[market]`` section."""
    return MarketConfig


@hookimpl
def kefu_case_kinds(ctx: Ctx) -> list[CaseKind]:
    """欠费逾期 and 漏巡; also checks that every role named in ``[market]`` exists in ``[staff]``."""
    cfg = ctx.config
    problems = []
    for field in ("market_manager", "general_manager", "security_manager", "duty_deputy"):
        problem = ctx.check_staff_target(getattr(cfg, field))
        if problem:
            problems.append(f"{ctx.name}.{field}: {problem}")
    for key in cfg.floors:
        problem = ctx.check_staff_target(cfg.floor_manager(key))
        if problem:
            problems.append(f"{ctx.name}.floors.{key}.manager: {problem}")
    if problems:
        raise ValueError("; ".join(problems))
    return kinds.case_kinds(ctx.name, cfg)


@hookimpl
def kefu_schedule(ctx: Ctx) -> list[CronJob]:
    """The fee ladder and the floor managers' overdue lists."""
    return cron_jobs(ctx.config)


@hookimpl
def kefu_cli(group: click.Group, ctx: Ctx) -> None:
    """``kefu market …``: imports, payments, the ladder."""
    from kefu.plugins.market.cli import market

    group.add_command(market, name=ctx.name)


@hookimpl
def kefu_template_samples(ctx: Ctx) -> dict[str, dict[str, Any]]:
    """A sample context for every market template."""
    return template_samples()
