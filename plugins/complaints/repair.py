"""Repairs (报修/报事) through the engineer's steps, third-party contractors and acceptance.

The SLA engine keeps the step and closure deadlines in line with the case's state
and step; this module reacts to the events staff record: the customer is told the
visit time and the closure, a contractor gets its 《工程维修通知单》, and a repair
with a contractor cannot close before the 收方/验收 of its job.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kefu.api import Case, CaseEvent, Customer, InboundItem
from kefu.plugins.complaints import kinds, notify, rules
from kefu.plugins.complaints.config import REPAIR_STEPS, Ctx


class RuleRefused(ValueError):
    """A staff action the rules do not allow; the message says why and what to do."""


def case_text(ctx: Ctx, case: Case) -> str:
    """What the customer wrote: the title and the inbound item's text (or ``data.text``)."""
    text = str(case.data.get("text", ""))
    item_id = case.data.get("item_id")
    if not text and item_id is not None:
        item = ctx.db().get(InboundItem, int(item_id))
        text = (item.text or "") if item is not None else ""
    return f"{case.title}\n{text}"


def attach_home(ctx: Ctx, case: Case) -> None:
    """Fill the case's project (``unit``) and home from its customer, an imported owner."""
    if case.customer_id is None:
        return
    customer = ctx.db().get(Customer, case.customer_id)
    if customer is None:
        return
    if case.unit is None and customer.unit:
        case.unit = customer.unit
    if customer.plugin == ctx.name and customer.ref and "home" not in case.data:
        case.data = {**case.data, "home": customer.ref}


def on_opened(ctx: Ctx, case: Case) -> None:
    """A new repair: class it, assign the engineer, ack the customer with the case number."""
    cfg = ctx.config
    attach_home(ctx, case)
    text = case_text(ctx, case)
    cls_name = next(
        (n for n in cfg.repair.classes if kinds.repair_kind(n, cfg) == ctx.kind_of(case)), cfg.repair.default_class
    )
    cls = cfg.repair.classes[cls_name]
    case.data = {
        **case.data,
        "repair_class": cls_name,
        "round": 1,
        "warranty_item": rules.warranty_item_for(text, cfg.warranty_for(case.unit)),
    }
    if case.owner is None:
        engineers = notify.role_holders(ctx, case.unit, "repair_engineer")
        case.owner = engineers[0].key if engineers else None
    ctx.db().flush()
    notify.tell_customer(
        ctx, case, "repair_ack", {**notify.case_context(case), "class_title": cls.title}, cancel_on=notify.ACK_MOOT
    )
    notify.tell_role(
        ctx,
        case.unit,
        "repair_engineer",
        "repair_assigned",
        notify.case_context(case),
        key=f"{case.number}/assigned",
        case=case,
        urgent=case.urgent,
    )
    ctx.set_step(case, REPAIR_STEPS[0], reason="受理")


def on_event(ctx: Ctx, case: Case, event: CaseEvent) -> None:
    """React to a staff or customer event on a repair."""
    if event.type == "step" and event.data.get("visit_at"):
        when = datetime.fromisoformat(str(event.data["visit_at"])).astimezone(ctx.tz)
        notify.tell_customer(
            ctx,
            case,
            "repair_visit",
            {**notify.case_context(case), "visit_at": when.strftime("%m月%d日 %H:%M")},
            key_suffix=f"/{when.strftime('%Y%m%d%H%M')}",
        )
    elif event.type == "contractor_assigned":
        _on_contractor(ctx, case, event)
    elif event.to_state == "resolved":
        _on_resolved(ctx, case)
    elif event.type == "reopened":
        case.data = {**case.data, "round": kinds.current_round(case) + 1}
        ctx.set_step(case, REPAIR_STEPS[0], reason=f"第{kinds.current_round(case)}轮")


def _on_contractor(ctx: Ctx, case: Case, event: CaseEvent) -> None:
    cfg = ctx.config
    code = str(event.data["contractor"])
    contractor = cfg.contractors[code]
    job = ctx.open_case(
        kind=kinds.THIRD_PARTY,
        title=f"{contractor.name}：{case.title}",
        unit=case.unit,
        owner=case.owner,
        actor=event.actor,
        reason=f"assigned by {case.number}",
        step="维修施工",
        data={
            "parent": case.number,
            "contractor": code,
            "due_seconds": event.data.get("due"),
            "home": case.data.get("home", ""),
            "text": case_text(ctx, case).strip(),
            "instructions": event.data.get("instructions", ""),
        },
    )
    pending = [*case.data.get("acceptance_pending", []), job.number]
    case.data = {**case.data, "acceptance_pending": pending}
    ctx.db().flush()


def on_third_party_opened(ctx: Ctx, job: Case) -> None:
    """A contractor job: its due date and reminder, the letter mailed and listed for EMS."""
    from kefu.plugins.complaints.letters import issue_repair_notice

    cfg = ctx.config
    job.data = {**job.data, "round": 1}
    if job.data.get("due_seconds"):
        due = ctx.now() + timedelta(seconds=float(job.data["due_seconds"]))
    else:
        due = ctx.now() + cfg.third_party.default_due
    # The engine keeps this date through pauses and reschedules; the reminder comes remind_before it.
    ctx.set_due(job, "step:维修施工", due, remind_before=cfg.third_party.remind_before, reason="约定完工时间")
    issue_repair_notice(ctx, job, due)


def on_third_party_event(ctx: Ctx, job: Case, event: CaseEvent) -> None:
    """The acceptance (收方/验收) of a contractor's job frees its repair's closure.

    ``acceptance_pending`` is cleared here, before anyone resolves or closes the repair:
    the repair kinds' guard refuses both while it lists a job.
    """
    if event.type != "accepted":
        return
    job.data = {**job.data, "accepted": True, "acceptance": dict(event.data)}
    parent = ctx.find_case(str(job.data["parent"]))
    if parent is not None:
        pending = [n for n in parent.data.get("acceptance_pending", []) if n != job.number]
        parent.data = {**parent.data, "acceptance_pending": pending}
        ctx.record_event(
            parent,
            "contractor_accepted",
            actor=event.actor,
            reason=f"{job.number} 收方验收 {event.data.get('result', '')}".strip(),
            data={"job": job.number},
        )
    ctx.db().flush()


def _on_resolved(ctx: Ctx, case: Case) -> None:
    # The kind's guard (kinds.acceptance_refusal) refused this resolve while 收方验收 was outstanding.
    case.step = REPAIR_STEPS[-1]
    notify.tell_customer(
        ctx, case, "repair_closed", notify.case_context(case), key_suffix=f"/r{kinds.current_round(case)}"
    )
    from kefu.plugins.complaints.feedback import ask_callback

    ask_callback(ctx, case)


def check_can_resolve(case: Case) -> None:
    """Raise :class:`RuleRefused` when the repair may not close yet (acceptance outstanding)."""
    refusal = kinds.acceptance_refusal(case, "resolved")
    if refusal:
        raise RuleRefused(f"{case.number}: {refusal}")


def next_step(case: Case) -> str:
    """The step after the case's current one; RuleRefused at the last."""
    nxt = rules.next_repair_step(case.step)
    if nxt is None or nxt == REPAIR_STEPS[-1]:
        raise RuleRefused(f"{case.number} is at {case.step}: close it with `kefu complaints resolve`")
    return nxt


def step_event_data(step: str, visit_at: datetime | None) -> dict[str, Any]:
    """Extra data of a ``step`` event (the agreed visit time)."""
    return {"visit_at": visit_at.isoformat()} if visit_at is not None else {}
