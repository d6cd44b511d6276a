"""The market plugin's hooks: thin glue around its config, fee ladder and patrol rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from kefu.api import (
    Case,
    CaseEvent,
    CaseKind,
    Classification,
    CronJob,
    InboundMessage,
    Route,
    hookimpl,
)
from kefu.plugins.market import api, complaints, kinds, patrols
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
    """The fee ladder, the floor managers' overdue lists, patrol rounds and unsigned-record reminders."""
    return cron_jobs(ctx.config)


@hookimpl
def kefu_classify(item: InboundMessage, ctx: Ctx) -> Classification | None:
    """Claim patrol reports by SMS or mail: ``巡查 3F``, ``巡查 3F 正常``, ``巡查 3F 隐患 消防通道堆货``."""
    for text in (item.text, item.subject):
        report = patrols.parse_report(text)
        if report is not None and report.point in ctx.config.patrols.points:
            return Classification(
                kind=f"{ctx.name}.{kinds.PATROL_REPORT}",
                unit=report.point,
                title=text.strip().splitlines()[0][:200],
                score=2.0,
            )
    text = "\n".join(p for p in (item.subject, item.text) if p)
    if complaints.is_complaint(ctx, text):
        return Classification(kind=f"{ctx.name}.{kinds.COMPLAINT}", title=" ".join(text.split())[:200])
    return None


@hookimpl
def kefu_case_opened(case: Case, ctx: Ctx) -> None:
    """A patrol report: its check-in is recorded; a report without a hazard is closed at once."""
    if case.kind == f"{ctx.name}.{kinds.PATROL_REPORT}":
        patrols.on_report(ctx, case)
    elif case.kind == f"{ctx.name}.{kinds.COMPLAINT}":
        complaints.on_opened(ctx, case)


@hookimpl
def kefu_case_changed(case: Case, event: CaseEvent, ctx: Ctx) -> None:
    """Complaints: resolution → callback SMS; the answer closes or reopens."""
    if case.kind == f"{ctx.name}.{kinds.COMPLAINT}":
        complaints.on_changed(ctx, case, event)


@hookimpl
def kefu_http(ctx: Ctx) -> list[Route]:
    """The patrol app's check-in API (when a token secret is configured)."""
    return api.routes(ctx)


@hookimpl
def kefu_cli(group: click.Group, ctx: Ctx) -> None:
    """``kefu market …``: imports, payments, the ladder."""
    from kefu.plugins.market.cli import market

    group.add_command(market, name=ctx.name)


@hookimpl
def kefu_template_samples(ctx: Ctx) -> dict[str, dict[str, Any]]:
    """A sample context for every market template."""
    return template_samples()
