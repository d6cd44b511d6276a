"""Complaints, inquiries, suggestions, and the callback (回访) every resolved case gets.

A callback asks the customer by SMS for a score of 1–5; the reply (threaded onto
the case by intake, or typed in by staff after a phone call) is recorded through
the SLA engine's ``record_callback`` as the case's 维修满意度. A score under
``callback.reopen_below`` reopens the case and alerts the project CS; a good
score closes it.
"""

from __future__ import annotations

from kefu.api import Case, CaseEvent, InboundItem
from kefu.plugins.complaints import kinds, notify, rules
from kefu.plugins.complaints.config import Ctx
from kefu.plugins.complaints.repair import attach_home


def on_opened(ctx: Ctx, case: Case) -> None:
    """A complaint, inquiry or suggestion: ack with the case number, assign the project CS."""
    attach_home(ctx, case)
    case.data = {**case.data, "round": 1}
    if case.owner is None:
        cs = notify.role_holders(ctx, case.unit, "project_cs")
        case.owner = cs[0].key if cs else None
    notify.tell_customer(ctx, case, "feedback_ack", notify.case_context(case), cancel_on=notify.ACK_MOOT)
    notify.tell_role(
        ctx,
        case.unit,
        "project_cs",
        "feedback_assigned",
        notify.case_context(case),
        key=f"{case.number}/assigned",
        case=case,
    )


def on_event(ctx: Ctx, case: Case, event: CaseEvent) -> None:
    """The staff reply goes to the customer; resolution asks for the callback; reopen counts a round."""
    if event.type == "staff_reply":
        notify.tell_customer(
            ctx,
            case,
            "feedback_reply",
            {**notify.case_context(case), "reply": event.reason or ""},
            key_suffix=f"/{event.id}",
        )
    elif event.to_state == "resolved":
        ask_callback(ctx, case)
    elif event.type == "reopened":
        case.data = {**case.data, "round": kinds.current_round(case) + 1}


def ask_callback(ctx: Ctx, case: Case) -> None:
    """Ask the customer for a 1–5 score (by SMS by default); the callback deadline is the engine's."""
    cfg = ctx.config
    rnd = kinds.current_round(case)
    notify.tell_customer(
        ctx,
        case,
        "callback_survey",
        notify.case_context(case),
        channels=(cfg.callback.channel,),
        urgent=False,
        key_suffix=f"/r{rnd}",
        cancel_on=notify.CALLBACK_MOOT,
    )
    ctx.record_event(case, "callback_asked", to_state="callback", data={"round": rnd})


def on_customer_text(ctx: Ctx, case: Case, event: CaseEvent) -> bool:
    """A customer's message on a case waiting for its callback: record the score it holds."""
    if case.state not in ("resolved", "callback"):
        return False
    text = str(event.data.get("text") or "")
    item_id = event.data.get("item_id")
    if not text and item_id is not None:
        item = ctx.db().get(InboundItem, int(item_id))
        text = (item.text or item.subject or "") if item is not None else ""
    score = rules.parse_score(text)
    if score is None:
        return False
    ctx.record_callback(case, score, actor="customer", reason=text[:200])
    return True


def on_callback_answered(ctx: Ctx, case: Case, event: CaseEvent) -> None:
    """Keep the score per round; a low one alerts the project CS (the engine reopens the case)."""
    cfg = ctx.config
    score = int(event.data["score"])
    scores = {**case.data.get("scores", {}), str(kinds.current_round(case)): score}
    case.data = {**case.data, "scores": scores}
    if rules.is_low_score(score, cfg.callback.reopen_below):
        notify.tell_role(
            ctx,
            case.unit,
            "project_cs",
            "low_score_alert",
            {**notify.case_context(case), "score": score},
            key=f"{case.number}/low_score/r{kinds.current_round(case)}",
            case=case,
        )
