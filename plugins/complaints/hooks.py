"""The complaints plugin's hooks: thin glue around its config, rules, kinds and jobs."""

from __future__ import annotations

from typing import Any

import click
from pydantic import BaseModel

from kefu.api import (
    Case,
    CaseEvent,
    CaseKind,
    Classification,
    ConsoleAction,
    CronJob,
    Deadline,
    InboundMessage,
    hookimpl,
)
from kefu.plugins.complaints import escalation, feedback, jobs, kinds, repair, rules, tasks
from kefu.plugins.complaints.config import ComplaintsConfig, Ctx

TASK_KINDS = {kinds.COMPENSATION, kinds.ASSESSMENT, kinds.MILESTONE, kinds.DEFECT_REPORT}
FEEDBACK_KINDS = set(kinds.FEEDBACK.values())


@hookimpl
def kefu_config_section() -> type[BaseModel]:
    """The ``[complaints]`` section."""
    return ComplaintsConfig


@hookimpl
def kefu_case_kinds(ctx: Ctx) -> list[CaseKind]:
    """Repairs, complaints, inquiries, suggestions, contractor jobs and the staff tasks."""
    return kinds.case_kinds(ctx.config)


@hookimpl
def kefu_schedule(ctx: Ctx) -> list[CronJob]:
    """Warranty notices daily, risk-control tasks daily, reports monthly."""
    return jobs.schedule(ctx.config)


@hookimpl
def kefu_classify(item: InboundMessage, ctx: Ctx) -> Classification | None:
    """Claim repair reports, complaints, inquiries and suggestions by their keywords, scored for
    the inbox's other plugins: our words and the sender owning one of our homes."""
    cfg = ctx.config
    if cfg.inboxes and item.channel not in cfg.inboxes:
        return None
    text = f"{item.subject}\n{item.text}"
    found = rules.match_text(text, cfg)
    if found is None:
        return None
    score = rules.claim_score(found.score, customer=ctx.name in item.customer_of, cfg=cfg)
    if found.kind == "repair":
        cls_name = rules.repair_class(text, cfg.repair)
        return Classification(
            kind=ctx.kind(kinds.repair_kind(cls_name, cfg)),
            urgent=cfg.repair.classes[cls_name].urgent,
            title=item.subject or None,
            score=score,
        )
    return Classification(kind=ctx.kind(kinds.FEEDBACK[found.kind]), title=item.subject or None, score=score)


@hookimpl
def kefu_case_opened(case: Case, ctx: Ctx) -> None:
    """Ack the customer with the case number, assign, and open the kind's deadlines."""
    kind = ctx.kind_of(case)
    if kinds.is_repair(kind):
        repair.on_opened(ctx, case)
    elif kind in FEEDBACK_KINDS:
        feedback.on_opened(ctx, case)
    elif kind == kinds.THIRD_PARTY:
        repair.on_third_party_opened(ctx, case)
    elif kind in TASK_KINDS:
        tasks.on_opened(ctx, case)


@hookimpl
def kefu_case_changed(case: Case, event: CaseEvent, ctx: Ctx) -> None:
    """Steps, contractor work, closure, callback answers and reopening."""
    if event.type == "customer_reply" and feedback.on_customer_text(ctx, case, event):
        return
    kind = ctx.kind_of(case)
    if event.type == "callback_answered":
        feedback.on_callback_answered(ctx, case, event)
    elif kinds.is_repair(kind):
        repair.on_event(ctx, case, event)
    elif kind in FEEDBACK_KINDS:
        feedback.on_event(ctx, case, event)
    elif kind == kinds.THIRD_PARTY:
        repair.on_third_party_event(ctx, case, event)
    elif kind in TASK_KINDS:
        tasks.on_event(ctx, case, event)


@hookimpl
def kefu_deadline_due(deadline: Deadline, case: Case, ctx: Ctx) -> bool | None:
    """Warn the role in charge, remind contractors, and escalate up the project's chain."""
    return escalation.handle_due(ctx, deadline, case)


@hookimpl
def kefu_cli(group: click.Group, ctx: Ctx) -> None:
    """``kefu complaints …``: imports, contractor, acceptance, compensation, KPIs."""
    from kefu.plugins.complaints.cli import complaints

    group.add_command(complaints, name=ctx.name)


@hookimpl
def kefu_template_samples(ctx: Ctx) -> dict[str, dict[str, Any]]:
    """Sample contexts for every template, so ``check-config`` renders each one."""
    from kefu.plugins.complaints.samples import template_samples

    return template_samples()


@hookimpl
def kefu_console_actions(ctx: Ctx) -> list[ConsoleAction]:
    """The contractor notice of a repair, in the staff console."""
    from kefu.plugins.complaints.console import console_actions

    return console_actions(ctx)
