"""The heating plugin's hooks: thin glue around its config, rules and case flows."""

from __future__ import annotations

import re
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
    hookimpl,
)
from kefu.plugins.heating import customer_cases, kinds, rules
from kefu.plugins.heating.config import Ctx, HeatingConfig
from kefu.plugins.heating.jobs import cron_jobs
from kefu.plugins.heating.samples import template_samples

if TYPE_CHECKING:
    import click


_ACCOUNT = re.compile(r"(?:户号|用户编号|账号)\s*[:：]?\s*([A-Za-z0-9\-]{4,})")


@hookimpl
def kefu_config_section() -> type[BaseModel]:
    """The ``[heating]`` section."""
    return HeatingConfig


@hookimpl
def kefu_case_kinds(ctx: Ctx) -> list[CaseKind]:
    """Leak, general complaint, low temperature, outage, shut-off, visits, audit, coal retest.

    Also checks that every station's duty target and every head named in
    ``[heating]`` exists in ``[staff]``, so a typo refuses the start.
    """
    cfg, section = ctx.config, ctx.name
    problems = []
    for key in cfg.stations:
        problem = ctx.check_staff_target(cfg.duty_of(key))
        if problem:
            problems.append(f"{section}.stations.{key}.duty: {problem}")
    for key, branch in cfg.branches.items():
        if ctx.person(branch.head) is None:
            problems.append(f"{section}.branches.{key}.head: {branch.head!r} is not in [staff.people]")
    for field in ("cs_centre_head", "fuel_department"):
        value = getattr(cfg, field)
        problem = ctx.check_staff_target(value) if value else None
        if problem:
            problems.append(f"{section}.{field}: {problem}")
    if problems:
        raise ValueError("; ".join(problems))
    return kinds.case_kinds(cfg)


@hookimpl
def kefu_schedule(ctx: Ctx) -> list[CronJob]:
    """Fee reminders, 关栓 spot checks and the 包保走访 checks."""
    return cron_jobs(ctx.config)


@hookimpl
def kefu_classify(item: InboundMessage, ctx: Ctx) -> Classification | None:
    """Claim leaks (urgent), heating complaints, outage and fee questions, scored for the inbox's
    other plugins: heating's words and the sender being one of our households."""
    cfg = ctx.config
    text = "\n".join(p for p in (item.subject, item.text, getattr(item, "category", None) or "") if p)
    found = rules.match_text(text, cfg.keywords, cfg.score.weights)
    category: str | None = found.category if found is not None else None
    words = found.score if found is not None else 0.0
    reported = rules.reported_temperature(text)
    low = reported is not None and rules.is_low_temperature(reported, cfg.temperature.threshold_c)
    if low:
        words += cfg.score.low_temperature
    if category is None and not low:
        fallback = cfg.inbox_kinds.get(item.channel)
        if fallback not in ("leak", "general", "outage_inquiry", "fee_inquiry"):
            return None
        category = fallback.removesuffix("_inquiry")
        words = cfg.score.inbox_fallback
    match = _ACCOUNT.search(text)
    ref = match.group(1) if match else getattr(item, "account", None)
    score = rules.claim_score(words, customer=ctx.name in item.customer_of, score=cfg.score)
    if category == "leak":
        return Classification(kind=ctx.kind(kinds.LEAK), urgent=True, customer_ref=ref, score=score)
    # A household stating a room temperature under the threshold is a 测温 case (24 h).
    kind = kinds.LOW_TEMP if low else kinds.CATEGORY_KINDS[category or "general"]
    return Classification(kind=ctx.kind(kind), customer_ref=ref, score=score)


@hookimpl
def kefu_case_opened(case: Case, ctx: Ctx) -> None:
    """Customer cases: station, person on duty, SMS acknowledgement with the case number."""
    if ctx.kind_of(case) in kinds.CUSTOMER_KINDS:
        customer_cases.on_opened(ctx, case)


@hookimpl
def kefu_case_changed(case: Case, event: CaseEvent, ctx: Ctx) -> None:
    """Customer cases: resolution → callback SMS; the answer closes or reopens."""
    if ctx.kind_of(case) in kinds.CUSTOMER_KINDS:
        customer_cases.on_changed(ctx, case, event)


@hookimpl
def kefu_deadline_due(deadline: Deadline, case: Case, ctx: Ctx) -> bool | None:
    """Callback unanswered after ``callback_wait``: onto the phone-callback list."""
    if deadline.name == "callback" and ctx.kind_of(case) in kinds.CUSTOMER_KINDS:
        if ctx.now() < deadline.due_at:
            return None  # the core's warning to the owner that a callback is pending
        return customer_cases.callback_overdue(ctx, case)
    return None  # resolution: the core walks the chain kinds.chain_resolver fills per case


@hookimpl
def kefu_cli(group: click.Group, ctx: Ctx) -> None:
    """``kefu heating …``: imports, outages, callbacks, fees, visits, reports."""
    from kefu.plugins.heating.cli import heating

    group.add_command(heating, name=ctx.name)


@hookimpl
def kefu_template_samples(ctx: Ctx) -> dict[str, dict[str, Any]]:
    """A sample context for every heating template."""
    return template_samples(ctx.name)


@hookimpl
def kefu_console_actions(ctx: Ctx) -> list[ConsoleAction | ConsolePage]:
    """Outage start (the plugin's page) and end (its case), and the phone-callback list, in the staff console."""
    from kefu.plugins.heating.console import console_actions

    return console_actions(ctx)
