"""What happens when a complaints deadline comes due: the warning, then each breach.

Before breach the first role of the chain (the engineer, the project CS, risk
control) is warned — a contractor is reminded of its own due date. At breach and
every ``escalation_repeat`` after, the next role up is told: engineer → repair
manager → head for repairs (the README's rule table). Each message is keyed by case, deadline,
round and level, so none is sent twice; each escalation is an event on the case.
"""

from __future__ import annotations

from datetime import datetime

from kefu.api import Case, Deadline
from kefu.plugins.complaints import kinds, notify
from kefu.plugins.complaints.config import ROLE_NAMES, Ctx


def deadline_label(deadline: Deadline) -> str:
    """A person's name for a deadline (``step:现场查看`` → 现场查看)."""
    labels = {"first_response": "答复", "resolution": "解决/维修关闭", "callback": "回访"}
    return labels.get(deadline.name, deadline.name.split(":", 1)[-1])


def handle_due(ctx: Ctx, deadline: Deadline, case: Case) -> bool:
    """Warn or escalate one due deadline of a complaints case; always handled here (True)."""
    cfg = ctx.config
    now = ctx.now()
    if deadline.state != "open":
        deadline.next_at = None
        return True
    chain = kinds.chain_for(ctx, case)
    context = {
        **notify.case_context(case),
        "deadline": deadline_label(deadline),
        "due": deadline.due_at.astimezone(ctx.tz).strftime("%m月%d日 %H:%M"),
        "owner": case.owner or "未指派",
        "site_name": ctx.site_name,
    }
    base = f"{case.number}/{deadline.name}/r{deadline.round}"
    # An ordinary repair's escalation waits for working time; an urgent one (a leak) goes at once.
    not_before = now if case.urgent else ctx.calendar.next_working_time(now)
    if now < deadline.due_at:
        if deadline.stage == "pending":
            _warn(ctx, deadline, case, chain[0], context, base, not_before)
            deadline.stage = "warned"
        deadline.next_at = deadline.due_at
        return True
    level = min(deadline.level + 1, len(chain) - 1)
    repeat = deadline.repeat + 1 if deadline.level + 1 > len(chain) - 1 else 0
    role = chain[level]
    notify.tell_role(
        ctx,
        case.unit,
        role,
        "escalation",
        {**context, "role_title": ROLE_NAMES[role]},
        key=f"{base}/L{level}/{repeat}",
        case=case,
        urgent=case.urgent,
        not_before=not_before,
    )
    if ctx.kind_of(case) == kinds.THIRD_PARTY:
        _remind_contractor(ctx, case, context, f"{base}/breach{deadline.level + 1}")
    if deadline.stage != "breached":
        deadline.breached_at = now
    deadline.stage = "breached"
    deadline.level, deadline.repeat = level, repeat
    # The top of the chain is reminded a bounded number of times, then the case waits for staff.
    deadline.next_at = None if repeat >= cfg.escalation_max_repeats else now + cfg.escalation_repeat
    ctx.record_event(
        case,
        "escalated",
        reason=f"{context['deadline']} 超时，升级至 {ROLE_NAMES[role]}",
        data={"deadline": deadline.name, "level": level, "role": role, "repeat": repeat},
    )
    return True


def _warn(
    ctx: Ctx, deadline: Deadline, case: Case, role: str, context: dict[str, object], base: str, not_before: datetime
) -> None:
    if ctx.kind_of(case) == kinds.THIRD_PARTY and deadline.name == "step:维修施工":
        _remind_contractor(ctx, case, context, f"{base}/reminder")
        return
    notify.tell_role(
        ctx,
        case.unit,
        role,
        "escalation",
        {**context, "role_title": ROLE_NAMES[role]},
        key=f"{base}/warn",
        case=case,
        urgent=case.urgent,
        not_before=not_before,
    )


def _remind_contractor(ctx: Ctx, job: Case, context: dict[str, object], key: str) -> None:
    cfg = ctx.config
    contractor = cfg.contractors.get(str(job.data.get("contractor", "")))
    if contractor is None or not contractor.email:
        return
    ctx.queue(
        key=f"{key}/contractor/email",
        channel="email",
        recipient=contractor.email,
        recipient_name=contractor.name,
        audience="staff",
        template="contractor_reminder.txt",
        case=job,
        context={**context, "contractor_name": contractor.name},
    )
