"""Staff task cases that go through fixed steps: compensation, assessment, milestones.

客户赔付 (seed 项目客服 j): negotiation (15 d), the letter to the responsible
party, the payment request, the archive; the evidence (the parent case's
attachments and any added) is listed on the case and never deleted.
交付后客户体验评估 (seed 风控管理岗 b) and the risk milestones (风控管理岗 a) are
tasks for risk control with a due date and a reminder.
"""

from __future__ import annotations

from datetime import datetime

from kefu.api import Case, CaseEvent
from kefu.plugins.complaints import kinds, notify
from kefu.plugins.complaints.config import Ctx


def task_role(kind: str | None) -> str:
    """Who carries a task kind out."""
    return "project_cs" if kind == kinds.COMPENSATION else "risk_control"


def case_steps(ctx: Ctx, case: Case) -> tuple[str, ...]:
    """The steps of a task case's kind."""
    return {kinds.COMPENSATION: kinds.COMPENSATION_STEPS, kinds.ASSESSMENT: kinds.ASSESSMENT_STEPS}.get(
        ctx.kind_of(case) or "", ()
    )


def on_opened(ctx: Ctx, case: Case) -> None:
    """A task case: first step, its due date (``due_at`` in data wins), and the task mail."""
    case.data = {**case.data, "round": 1}
    if case.owner is None:
        holders = notify.role_holders(ctx, case.unit, task_role(ctx.kind_of(case)))
        case.owner = holders[0].key if holders else None
    steps = case_steps(ctx, case)
    fixed = datetime.fromisoformat(str(case.data["due_at"])) if case.data.get("due_at") else None
    if steps:
        # The first step's deadline gets the job's date through the engine, so pauses never undo it.
        ctx.set_step(case, steps[0], reason="任务开始", due_at=fixed)
    name = f"step:{case.step}" if case.step else "resolution"
    if fixed is not None and not steps and not _has_fixed_due(ctx, case, name):
        ctx.set_due(case, name, fixed, reason="任务期限")
    due = next((d.due_at for d in kinds.open_deadline_rows(ctx, case) if d.name == name), None)
    notify.tell_role(
        ctx,
        case.unit,
        task_role(ctx.kind_of(case)),
        "task",
        {**notify.case_context(case), "due": due.astimezone(ctx.tz).strftime("%Y年%m月%d日") if due else "-"},
        key=f"{case.number}/task",
        case=case,
    )


def _has_fixed_due(ctx: Ctx, case: Case, name: str) -> bool:
    """True when the opener already gave deadline ``name`` its date (``open_case(due=...)``)."""
    return any(d.name == name and "fixed_due" in (d.data or {}) for d in kinds.open_deadline_rows(ctx, case))


def on_event(ctx: Ctx, case: Case, event: CaseEvent) -> None:
    """Evidence added to a compensation is listed on it (never deleted)."""
    if event.type == "evidence":
        case.data = {**case.data, "evidence": [*case.data.get("evidence", []), dict(event.data)]}
