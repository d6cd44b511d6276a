"""Staff actions on complaints cases, as the CLI (and tests) call them inside a transaction.

Each action checks the rule first and raises :class:`RuleRefused` with what to
do instead; then it records one event, and the plugin's ``kefu_case_changed``
does the rest in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kefu.api import OPEN_STATES, Case
from kefu.plugins.complaints import compensation, kinds, repair, tasks
from kefu.plugins.complaints.config import Ctx
from kefu.plugins.complaints.repair import RuleRefused

__all__ = ["RuleRefused"]


def get_case(ctx: Ctx, number: str, *allowed: str) -> Case:
    """The case ``number`` of one of the ``allowed`` kinds (any complaints kind if none)."""
    case = ctx.find_case(number)
    if case is None or case.plugin != ctx.name:
        raise RuleRefused(f"no complaints case {number!r} (see `kefu cases list`)")
    if allowed and ctx.kind_of(case) not in allowed:
        raise RuleRefused(f"{number} is a {case.kind} case; this action needs {' or '.join(allowed)}")
    return case


def advance_step(
    ctx: Ctx, number: str, *, visit_at: datetime | None = None, step: str | None = None, actor: str = "staff"
) -> str:
    """Move a repair (or task) to its next step (or ``step``); a visit time is told to the customer."""
    case = get_case(ctx, number)
    if case.state not in OPEN_STATES:
        raise RuleRefused(f"{number} is {case.state}; it has no step to move")
    if kinds.is_repair(ctx.kind_of(case)):
        target = step or repair.next_step(case)
    elif ctx.kind_of(case) == kinds.COMPENSATION:
        raise RuleRefused(
            f"{number}: a compensation moves with `kefu complaints compensation agree`, "
            f"`pay` and `archive` (each step has its letter or record)"
        )
    else:
        steps = tasks.case_steps(ctx, case)
        if not steps:
            raise RuleRefused(f"{number} has no steps; resolve it with `kefu complaints resolve`")
        index = steps.index(case.step) if case.step in steps else -1
        if step is None and index + 1 >= len(steps):
            raise RuleRefused(f"{number} is at its last step {case.step}: resolve it with `kefu complaints resolve`")
        target = step or steps[index + 1]
    previous, case.step = case.step, target
    ctx.record_event(
        case,
        "step",
        actor=actor,
        reason=target,
        to_state="in_progress" if case.state != "in_progress" else None,
        data={"step": target, "previous": previous, **repair.step_event_data(target, visit_at)},
    )
    return target


def assign_contractor(
    ctx: Ctx,
    number: str,
    contractor: str,
    *,
    due: timedelta | None = None,
    instructions: str = "",
    actor: str = "staff",
) -> Case:
    """Give a repair to a third-party contractor: opens its job with the 工程维修通知单."""
    cfg = ctx.config
    case = get_case(ctx, number)
    if not kinds.is_repair(ctx.kind_of(case)):
        raise RuleRefused(f"{number} is a {case.kind} case; only repairs go to contractors")
    if contractor not in cfg.contractors:
        raise RuleRefused(
            f"unknown contractor {contractor!r}; configured in [complaints.contractors]: "
            f"{', '.join(cfg.contractors) or 'none'}"
        )
    data: dict[str, Any] = {"contractor": contractor, "instructions": instructions}
    if due is not None:
        data["due"] = due.total_seconds()
    before = set(case.data.get("acceptance_pending", []))
    ctx.record_event(case, "contractor_assigned", actor=actor, reason=cfg.contractors[contractor].name, data=data)
    new = [n for n in case.data.get("acceptance_pending", []) if n not in before]
    job = ctx.find_case(new[-1]) if new else None
    if job is None:
        raise RuleRefused(f"{number}: the contractor job could not be opened; see the case's history")
    return job


def contractor_done(ctx: Ctx, job_number: str, *, actor: str = "staff") -> None:
    """The contractor reports the work done: the acceptance (收方/验收) is now due."""
    job = get_case(ctx, job_number, kinds.THIRD_PARTY)
    job.step = "收方验收"
    ctx.record_event(
        job,
        "step",
        actor=actor,
        reason="维修完工，待收方验收",
        to_state="in_progress" if job.state != "in_progress" else None,
        data={"step": "收方验收", "previous": "维修施工"},
    )


def accept(ctx: Ctx, job_number: str, *, result: str = "合格", note: str = "", actor: str = "staff") -> None:
    """Record the engineer's 收方/验收 of a contractor's job; its repair may then close."""
    job = get_case(ctx, job_number, kinds.THIRD_PARTY)
    if job.data.get("accepted"):
        raise RuleRefused(f"{job_number} was already accepted")
    ctx.record_event(job, "accepted", actor=actor, reason=note or result, data={"result": result, "note": note})
    ctx.close(job, actor=actor, reason=f"收方验收{result}")


def resolve(
    ctx: Ctx,
    number: str,
    *,
    defect: bool = False,
    trade: str | None = None,
    cause: str | None = None,
    note: str = "",
    actor: str = "staff",
) -> None:
    """Resolve a case (维修关闭 for a repair): closure told, callback asked; defects flagged."""
    cfg = ctx.config
    case = get_case(ctx, number)
    if kinds.is_repair(ctx.kind_of(case)):
        repair.check_can_resolve(case)
    if case.state not in OPEN_STATES:
        raise RuleRefused(f"{number} is already {case.state}")
    if defect:
        from kefu.plugins.complaints.rules import trade_for

        case.data = {
            **case.data,
            "defect": {
                "trade": trade or trade_for(f"{case.title}\n{case.data.get('text', '')}", cfg.reports.trades),
                "cause": cause or "未填写",
            },
        }
    if "first_resolved_at" not in case.data:
        case.data = {**case.data, "first_resolved_at": ctx.now().isoformat()}
    ctx.resolve(case, actor=actor, reason=note or None)


def reply(ctx: Ctx, number: str, text: str, *, actor: str = "staff") -> None:
    """Answer a complaint, inquiry or suggestion: the reply goes to the customer, the reply deadline is met."""
    case = get_case(ctx, number, *kinds.FEEDBACK.values())
    # Answering ends the first-response deadline (it runs while the case is new).
    ctx.record_event(
        case,
        "staff_reply",
        actor=actor,
        reason=text,
        to_state="in_progress" if case.state in ("new", "acknowledged", "assigned") else None,
    )


def callback_score(ctx: Ctx, number: str, score: int, *, actor: str = "staff") -> None:
    """Record a callback answered on the phone (1–5)."""
    if not 1 <= score <= 5:
        raise RuleRefused(f"score {score} is not between 1 and 5")
    case = get_case(ctx, number)
    if case.state not in ("resolved", "callback"):
        raise RuleRefused(f"{number} is {case.state}, not waiting for its callback")
    ctx.record_callback(case, score, actor=actor, reason="电话回访")


def open_compensation(
    ctx: Ctx,
    number: str,
    *,
    party: str,
    amount: float | None = None,
    address: str | None = None,
    email: str | None = None,
    note: str = "",
    actor: str = "staff",
) -> Case:
    """Open a 客户赔付 case from a case; the parent's attachments become its evidence."""
    return compensation.open_compensation(
        ctx, get_case(ctx, number), party=party, amount=amount, address=address, email=email, note=note, actor=actor
    )


def add_evidence(
    ctx: Ctx, number: str, description: str, *, path: str | None = None, actor: str = "staff"
) -> dict[str, Any]:
    """Keep one more piece of evidence on a compensation case (listed, never deleted)."""
    return compensation.add_evidence(ctx, compensation.get(ctx, number), description, path=path, actor=actor)


def agree_compensation(ctx: Ctx, number: str, amount: float, *, terms: str = "", actor: str = "staff") -> None:
    """End the negotiation with the agreed amount; the 责任方函件 is queued."""
    compensation.agree(ctx, compensation.get(ctx, number), amount=amount, terms=terms, actor=actor)


def request_payment(ctx: Ctx, number: str, payee: str, *, note: str = "", actor: str = "staff") -> None:
    """File the compensation's payment request (after its letter went out)."""
    compensation.request_payment(ctx, compensation.get(ctx, number), payee=payee, note=note, actor=actor)


def archive_compensation(ctx: Ctx, number: str, *, note: str = "", actor: str = "staff") -> dict[str, Any]:
    """Archive a paid compensation's dossier and close it."""
    return compensation.archive(ctx, compensation.get(ctx, number), note=note, actor=actor)
