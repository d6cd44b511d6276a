"""The core's default handling of a due deadline: warn the owner, then escalate along the chain.

Stages: ``pending`` → (warning to the owner at ``warn_at``) ``warned`` → (at the
due time) ``breached``: level 1 of the chain is told; every repeat interval the
next level, then the top level again, up to ``max_repeats``. Each notification's
outbox key is (case, deadline, round, level, repeat, person, channel), so none
is ever queued twice; each step is an event on the case.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kefu.context import app_of
from kefu.db.models import Case, Deadline
from kefu.kinds import CaseKind, DeadlinePolicy, Level
from kefu.outbound.outbox import queue_message
from kefu.sla.deadlines import calendar_of
from kefu.sla.recipients import UnknownRecipient, resolve

if TYPE_CHECKING:
    from kefu.context import PluginContext

log = logging.getLogger("kefu.sla")


def holds_for_working_time(case: Case, policy: DeadlinePolicy) -> bool:
    """True when the policy's staff notifications wait for working time (not urgent by default)."""
    return policy.working_hours_only if policy.working_hours_only is not None else not case.urgent


def resolve_level(ctx: PluginContext, kind: CaseKind | None, case: Case, who: str, at: datetime) -> list[str]:
    """The staff keys chain target ``who`` means for ``case`` at ``at``.

    The kind's ``resolve_role`` answers first (a plugin's per-project roles); None from
    it, or no such function, resolves ``who`` through ``[staff]`` with ``{unit}`` filled.
    """
    app = app_of(ctx)
    staff, tz, session = app.settings.staff, app.settings.tz, ctx.db()
    targets: list[str] | None = None
    if kind is not None and kind.resolve_role is not None:
        try:
            targets = kind.resolve_role(who, case, ctx)
        except Exception as exc:
            raise UnknownRecipient(f"the {case.plugin} plugin could not resolve {who!r}: {exc}") from exc
    # Dated rota shifts are imported in their own transactions: reading them need not flush the
    # sweep's pending events and outbox rows one deadline at a time.
    with session.no_autoflush:
        if targets is None:
            return resolve(staff, who, at, tz, unit=case.unit, session=session)
        keys: list[str] = []
        for target in targets:
            for key in resolve(staff, target, at, tz, unit=case.unit, session=session):
                if key not in keys:
                    keys.append(key)
        return keys


def notify_level(
    ctx: PluginContext,
    case: Case,
    deadline: Deadline,
    policy: DeadlinePolicy,
    level: Level,
    *,
    level_no: int,
    template: str,
    at: datetime,
    purpose: str,
    key_part: str | None = None,
) -> list[dict[str, str]]:
    """Queue the staff notifications of one chain level; returns who was reached how."""
    app = app_of(ctx)
    staff = app.settings.staff
    kind = app.kinds.get(case.kind)
    try:
        keys = resolve_level(ctx, kind, case, level.who, at)
    except UnknownRecipient as exc:
        log.error("case %s deadline %s: %s; nobody notified at level %d", case.number, deadline.name, exc, level_no)
        return [{"who": level.who, "error": str(exc)}]
    now = ctx.now()
    not_before = calendar_of(app).next_working_time(now) if holds_for_working_time(case, policy) else now
    local_due = deadline.due_at.astimezone(app.settings.tz)
    reached: list[dict[str, str]] = []
    step = key_part or f"L{level_no}/R{deadline.repeat}"
    for key in keys:
        person = staff.people.get(key)
        if person is None:
            reached.append({"who": key, "error": "not in [staff.people]"})
            continue
        for channel in level.channels or policy.channels:
            address = person.email if channel == "email" else person.phone
            if not address:
                reached.append({"who": key, "channel": channel, "error": f"no {channel} address"})
                continue
            context: dict[str, Any] = {
                "case_number": case.number,
                "case_title": case.title,
                "kind_title": kind.title if kind else case.kind,
                "unit": case.unit or "",
                "state": case.state,
                "owner": case.owner or "",
                "deadline": deadline.name,
                "due": local_due.strftime("%Y-%m-%d %H:%M"),
                "level": level_no,
                "repeat": deadline.repeat,
                "purpose": purpose,
                "recipient_name": person.name,
                "site_name": app.settings.kefu.site_name,
            }
            queue_message(
                ctx,
                key=f"{case.number}/{deadline.name}/{deadline.round}/{step}/{key}/{channel}",
                channel=channel,
                audience="staff",
                recipient=address,
                recipient_name=person.name,
                template=template,
                context=context,
                case=case,
                urgent=case.urgent,
                not_before=not_before,
            )
            reached.append({"who": key, "channel": channel, "template": template})
    return reached


def apply_default(ctx: PluginContext, deadline: Deadline, case: Case, kind: CaseKind, policy: DeadlinePolicy) -> str:
    """Advance ``deadline`` one stage along its policy at its scheduled time; returns what was done."""
    from kefu.sla.cases import record_event  # cases → deadlines; the sweep → here → cases

    app = app_of(ctx)
    at = deadline.next_at or ctx.now()
    chain = policy.chain
    if deadline.stage == "pending" and at < deadline.due_at:
        first = Level(case.owner) if case.owner else (chain[0] if chain else None)
        reached = (
            notify_level(
                ctx,
                case,
                deadline,
                policy,
                first,
                level_no=0,
                template=policy.warning_template,
                at=at,
                purpose="warning",
            )
            if first
            else []
        )
        deadline.stage, deadline.next_at = "warned", deadline.due_at
        record_event(
            ctx,
            case,
            "deadline_warning",
            data={
                "deadline": deadline.name,
                "round": deadline.round,
                "due": deadline.due_at.isoformat(),
                "scheduled": at.isoformat(),
                "reached": reached,
            },
            flush=False,
        )
        return "warning"
    if deadline.stage in ("pending", "warned"):
        deadline.stage, deadline.breached_at = "breached", deadline.due_at
        deadline.level, deadline.repeat = (1 if chain else 0), 0
        action = "breach"
    elif deadline.level < len(chain):
        deadline.level, deadline.repeat = deadline.level + 1, 0
        action = "escalation"
    else:
        deadline.repeat += 1
        action = "repeat"
    reached = []
    if chain:
        reached = notify_level(
            ctx,
            case,
            deadline,
            policy,
            chain[deadline.level - 1],
            level_no=deadline.level,
            template=policy.template,
            at=at,
            purpose=action,
        )
    record_event(
        ctx,
        case,
        "deadline_breached" if action == "breach" else "escalated",
        data={
            "deadline": deadline.name,
            "round": deadline.round,
            "level": deadline.level,
            "repeat": deadline.repeat,
            "due": deadline.due_at.isoformat(),
            "scheduled": at.isoformat(),
            "reached": reached,
        },
        flush=False,
    )
    repeat_every = policy.repeat_every or app.settings.sla.repeat_every
    max_repeats = policy.max_repeats if policy.max_repeats is not None else app.settings.sla.max_repeats
    more = bool(chain) and (deadline.level < len(chain) or deadline.repeat < max_repeats)
    deadline.next_at = at + repeat_every if more else None
    return action
