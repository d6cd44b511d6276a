"""The hr plugin's hooks: thin glue around its config, day rules, leave, rosters and the sheet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from kefu.api import (
    Case,
    CaseKind,
    Classification,
    ConsoleAction,
    ConsolePage,
    CronJob,
    InboundMessage,
    Route,
    hookimpl,
)
from kefu.plugins.hr import api, kinds, leave
from kefu.plugins.hr.config import Ctx, HrConfig
from kefu.plugins.hr.jobs import cron_jobs
from kefu.plugins.hr.samples import template_samples

if TYPE_CHECKING:
    import click


@hookimpl
def kefu_config_section() -> type[BaseModel]:
    """The ``[hr]`` section."""
    return HrConfig


@hookimpl
def kefu_case_kinds(ctx: Ctx) -> list[CaseKind]:
    """请假, 旷工人事复核, 奖罚评分表; checks the approver, reviewer and rotas against ``[staff]``."""
    cfg = ctx.config
    problems = []
    for field, target in (("sheet.approver", cfg.sheet.approver), ("hr_reviewer", cfg.hr_reviewer)):
        if target and (problem := ctx.check_staff_target(target)):
            problems.append(f"{ctx.name}.{field}: {problem}")
    for rota in cfg.rosters.rotas:
        if problem := ctx.check_staff_target(f"rota:{rota}"):
            problems.append(f"{ctx.name}.rosters.rotas: {problem}")
    if problems:
        raise ValueError("; ".join(problems))
    return kinds.case_kinds(ctx.name, cfg)


@hookimpl
def kefu_schedule(ctx: Ctx) -> list[CronJob]:
    """Day results, certificate reminders, duty reminders, the monthly sheet."""
    return cron_jobs(ctx.config)


@hookimpl
def kefu_classify(item: InboundMessage, ctx: Ctx) -> Classification | None:
    """Claim a leave request by SMS or mail (``请假 病假 11月5日``): 2.0 with a leave type named, else 1.2."""
    text = "\n".join(p for p in (item.subject, item.text) if p)
    if not any(word in text for word in ctx.config.leave.keywords):
        return None
    named = leave.kind_of(ctx, text) is not None
    return Classification(
        kind=f"{ctx.name}.{kinds.LEAVE}", title=" ".join(text.split())[:200], score=2.0 if named else 1.2
    )


@hookimpl
def kefu_case_opened(case: Case, ctx: Ctx) -> None:
    """A leave case opened from a message: file the request and tell the manager."""
    if (
        case.kind == f"{ctx.name}.{kinds.LEAVE}"
        and (case.data or {}).get("item_id")
        and "leave_id" not in (case.data or {})
    ):
        try:
            leave.from_message(ctx, case)
        except leave.LeaveError as exc:
            ctx.record_event(case, "note", reason=f"请假申请未能登记：{exc}")


@hookimpl
def kefu_http(ctx: Ctx) -> list[Route]:
    """The clock-in device's punch API (when a token secret is configured)."""
    return api.routes(ctx)


@hookimpl
def kefu_console_actions(ctx: Ctx) -> list[ConsoleAction | ConsolePage]:
    """Leave, the certificate, the sheet, and one's own attendance, in the staff console."""
    from kefu.plugins.hr.console import console_actions

    return console_actions(ctx)


@hookimpl
def kefu_cli(group: click.Group, ctx: Ctx) -> None:
    """``kefu hr …``: imports, results, leave, rosters, the sheet."""
    from kefu.plugins.hr.cli import hr

    group.add_command(hr, name=ctx.name)


@hookimpl
def kefu_template_samples(ctx: Ctx) -> dict[str, dict[str, Any]]:
    """A sample context for every hr template."""
    return template_samples()
