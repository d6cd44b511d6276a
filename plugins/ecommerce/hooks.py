"""The ecommerce plugin's hooks: thin glue around its config, its order pipeline and the desk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from kefu.api import (
    Case,
    CaseEvent,
    CaseKind,
    Classification,
    ConsoleAction,
    ConsolePage,
    CronJob,
    Deadline,
    InboundMessage,
    Route,
    hookimpl,
)
from kefu.plugins.ecommerce import api, desk, imports, intake, kinds
from kefu.plugins.ecommerce.config import Ctx, EcommerceConfig
from kefu.plugins.ecommerce.jobs import cron_jobs
from kefu.plugins.ecommerce.samples import template_samples

if TYPE_CHECKING:
    import click


@hookimpl
def kefu_config_section() -> type[BaseModel]:
    """The ``[ecommerce]`` section."""
    return EcommerceConfig


@hookimpl
def kefu_case_kinds(ctx: Ctx) -> list[CaseKind]:
    """The desk's kinds; also checks that every role named in ``[ecommerce]`` exists in ``[staff]``."""
    cfg = ctx.config
    problems = []
    for role in type(cfg.roles).model_fields:
        for shop in (None, *cfg.shops):
            problem = ctx.check_staff_target(cfg.role(role, shop))
            if problem:
                where = f"shops.{shop}.roles.{role}" if shop and role in cfg.shops[shop].roles else f"roles.{role}"
                problems.append(f"{ctx.name}.{where}: {problem}")
    from kefu.api.imports import RowError

    try:
        imports.maps_of(ctx)
    except RowError as exc:
        problems.append(exc.reason)
    if cfg.default_shop and cfg.default_shop not in cfg.shops:
        problems.append(f"{ctx.name}.default_shop: {cfg.default_shop!r} is not in [{ctx.name}.shops]")
    if problems:
        raise ValueError("; ".join(sorted(set(problems))))
    return kinds.case_kinds(ctx.name, cfg)


@hookimpl
def kefu_schedule(ctx: Ctx) -> list[CronJob]:
    """The digest, dispute and late-order watches, bank-transfer follow-ups."""
    return cron_jobs(ctx.config)


@hookimpl
def kefu_classify(item: InboundMessage, ctx: Ctx) -> Classification | None:
    """Buyers' order changes, special requests, cancellations, returns and shipping questions."""
    return intake.classify(ctx, item)


@hookimpl
def kefu_case_opened(case: Case, ctx: Ctx) -> None:
    """A buyer's message: the order it names and the seed's branch for its print state."""
    if ctx.kind_of(case) in intake.KIND_OF.values():
        intake.on_opened(ctx, case)


@hookimpl
def kefu_case_changed(case: Case, event: CaseEvent, ctx: Ctx) -> None:
    """A buyer's reply on a return (photos, the return tracking number)."""
    intake.on_changed(ctx, case, event)


@hookimpl
def kefu_deadline_due(deadline: Deadline, case: Case, ctx: Ctx) -> bool | None:
    """No return tracking number in N days: the buyer is reminded (and after-sales told), then the core's chain."""
    breached = deadline.due_at <= ctx.now()  # not the earlier warning: the buyer had N days
    if ctx.kind_of(case) == kinds.RETURN and deadline.name == f"step:{kinds.TRACKING}" and breached:
        desk.remind_tracking(ctx, case)
    return None


@hookimpl
def kefu_http(ctx: Ctx) -> list[Route]:
    """``POST /ecommerce/orders`` (when a shop names a push secret)."""
    return api.routes(ctx)


@hookimpl
def kefu_cli(group: click.Group, ctx: Ctx) -> None:
    """``kefu ecommerce …``: imports, the desk's actions, the digest."""
    from kefu.plugins.ecommerce.cli import ecommerce

    group.add_command(ecommerce, name=ctx.name)


@hookimpl
def kefu_console_actions(ctx: Ctx) -> list[ConsoleAction | ConsolePage]:
    """The desk in the staff console: its case actions, order entries and pages (orders, digest …)."""
    from kefu.plugins.ecommerce.console import console_actions

    return console_actions(ctx)


@hookimpl
def kefu_template_samples(ctx: Ctx) -> dict[str, dict[str, Any]]:
    """A sample context for every ecommerce template."""
    return template_samples()
