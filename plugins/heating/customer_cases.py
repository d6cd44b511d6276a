"""Leaks, complaints and low-temperature cases: acknowledge, dispatch, escalate, call back.

每件必回访，直至用户满意为止 (seed): every resolved case gets a callback SMS asking
满意/不满意 (1/2) and moves to ``callback``; the answer, parsed from the reply SMS,
closes it (满意) or reopens it (不满意) through the core's ``record_callback``; no
answer within ``callback_wait`` (the kind's callback deadline) puts it on the
phone-callback list staff work through.
"""

from __future__ import annotations

from sqlalchemy import func, select

from kefu.api import Case, CaseEvent, Customer, InboundItem
from kefu.plugins.heating import kinds, rules
from kefu.plugins.heating.config import Ctx, HeatingConfig
from kefu.plugins.heating.models import Callback
from kefu.plugins.heating.notify import (
    case_context,
    household_of,
    mail_customer,
    people_for,
    sms_customer,
    tell_staff,
)

SATISFIED_SCORE, UNSATISFIED_SCORE = 5, 1
# What makes a queued message moot before it goes: an ack once the case is done, a callback
# question once the household has answered it (by the other channel) or the case is closed.
ACK_MOOT = ("resolved", "closed")
CALLBACK_MOOT = ("callback_answered", "closed")


def cfg_of(ctx: Ctx) -> HeatingConfig:
    """The plugin's section, typed."""
    return ctx.config


def on_opened(ctx: Ctx, case: Case) -> None:
    """Fill in the household's station, assign the person on duty, acknowledge and dispatch."""
    cfg = cfg_of(ctx)
    spec = kinds.spec_of(ctx, case)
    hh = household_of(ctx, case)
    data = dict(case.data or {})
    if hh is not None:
        station = cfg.stations.get(hh.station)
        data.update(
            account=hh.account,
            station=hh.station,
            branch=hh.branch,
            building=hh.building,
            address=hh.address,
            station_name=station.name if station else hh.station,
        )
        case.unit = hh.station
    chain = rules.escalation_chain(data.get("station"), cfg)
    case.data = data
    on_duty = people_for(ctx, chain[0], case.unit) if chain else []
    due = ""
    if spec.resolve_within is not None:
        due = (case.opened_at + spec.resolve_within).astimezone(ctx.tz).strftime("%m-%d %H:%M")
    context = case_context(ctx, case, due=due, hours=_hours(spec))
    customer = ctx.db().get(Customer, case.customer_id) if case.customer_id else None
    if customer is not None and not data.get("no_ack"):
        # Leaks are emergencies: the ack ignores quiet hours; no reply can wait for the morning.
        sms_customer(ctx, case, customer, "ack", "ack.txt", context, urgent=spec.urgent, cancel_on=ACK_MOOT)
        mail_customer(ctx, case, customer, "ack", "ack.txt", context, cancel_on=ACK_MOOT)
    for person in on_duty:
        tell_staff(ctx, person, "dispatch", "dispatch", context, case=case, urgent=spec.urgent)
    if on_duty and case.owner is None and on_duty[0] in ctx.people:
        ctx.assign(case, on_duty[0], reason=f"派单至值班人员（{data.get('station_name') or '客服中心'}）")


def _hours(spec: kinds.KindSpec) -> int:
    return int(spec.resolve_within.total_seconds() // 3600) if spec.resolve_within else 0


def on_changed(ctx: Ctx, case: Case, event: CaseEvent) -> None:
    """Resolution starts the callback; a reply to it is parsed; a reopening goes back on duty."""
    if event.to_state == "resolved":
        start_callback(ctx, case)
        if (case.data or {}).get("source") == "hotline":
            reply_to_hotline(ctx, case)
    elif event.type == "customer_reply" and case.state in ("resolved", "callback"):
        item = (
            ctx.db().get(InboundItem, (event.data or {}).get("item_id")) if (event.data or {}).get("item_id") else None
        )
        if item is not None and item.text:
            answer_callback(ctx, case, item.text, actor="customer")
    elif event.type == "callback_answered":
        # Answered elsewhere (`kefu cases callback`, the staff console): the household's callback
        # is answered too, so it neither waits for an SMS answer nor lands on the phone list.
        cb = waiting_callback(ctx, case)
        if cb is not None:
            satisfied = bool((event.data or {}).get("satisfied"))
            cb.state = "satisfied" if satisfied else "unsatisfied"
            cb.answered_at, cb.answer_text, cb.answered_by = ctx.now(), (event.reason or "")[:500], event.actor
    elif event.type == "reopened":
        rnd = (
            ctx.db().scalar(
                select(func.count())
                .select_from(CaseEvent)
                .where(CaseEvent.case_id == case.id, CaseEvent.type == "reopened")
            )
            or 1
        )
        if case.owner:
            tell_staff(
                ctx, case.owner, f"reopen{rnd}", "reopened", case_context(ctx, case), case=case, urgent=case.urgent
            )


def start_callback(ctx: Ctx, case: Case) -> Callback | None:
    """On resolution: ask the household 满意/不满意 by SMS; the case waits in ``callback``."""
    session = ctx.db()
    if session.scalar(select(Callback.id).where(Callback.case_id == case.id, Callback.state == "waiting")):
        return None
    rnd = (session.scalar(select(func.max(Callback.round)).where(Callback.case_id == case.id)) or 0) + 1
    now = ctx.now()
    cb = Callback(case_id=case.id, round=rnd, asked_at=now, due_at=now + cfg_of(ctx).deadlines.callback_wait)
    session.add(cb)
    session.flush()
    customer = session.get(Customer, case.customer_id) if case.customer_id else None
    asked = []
    if customer is not None:
        if sms_customer(
            ctx, case, customer, f"callback{rnd}", "callback.txt", case_context(ctx, case), cancel_on=CALLBACK_MOOT
        ):
            asked.append("短信")
        if mail_customer(
            ctx, case, customer, f"callback{rnd}", "callback.txt", case_context(ctx, case), cancel_on=CALLBACK_MOOT
        ):
            asked.append("邮件")
    if case.state == "resolved":
        # Queued, not sent: a night's SMS waits for the end of quiet hours (the outbox says when).
        ctx.transition(
            case,
            "callback",
            reason=f"回访已排队（{'、'.join(asked)}）" if asked else "待回访：没有可发短信或邮件的联系方式",
        )
    return cb


def waiting_callback(ctx: Ctx, case: Case) -> Callback | None:
    """The callback of this case still waiting for an answer (by SMS or on the phone list)."""
    return (
        ctx.db()
        .scalars(
            select(Callback)
            .where(Callback.case_id == case.id, Callback.state.in_(("waiting", "phone")))
            .order_by(Callback.round.desc())
        )
        .first()
    )


def answer_callback(ctx: Ctx, case: Case, text: str, *, actor: str = "customer") -> bool | None:
    """Record the household's answer: 满意 closes, 不满意 reopens. None if the text is no answer."""
    cb = waiting_callback(ctx, case)
    if cb is None:
        return None
    verdict = rules.parse_callback_answer(text, cfg_of(ctx).keywords)
    if verdict is None:
        return None
    cb.state = "satisfied" if verdict else "unsatisfied"
    cb.answered_at, cb.answer_text, cb.answered_by = ctx.now(), text[:500], actor
    ctx.db().flush()
    ctx.record_callback(
        case,
        SATISFIED_SCORE if verdict else UNSATISFIED_SCORE,
        actor=actor,
        reason=f"回访{'满意' if verdict else '不满意'}：{text[:50]}",
    )
    return verdict


def callback_overdue(ctx: Ctx, case: Case) -> bool:
    """No answer within ``callback_wait``: the case goes on the phone-callback list."""
    cb = ctx.db().scalars(select(Callback).where(Callback.case_id == case.id, Callback.state == "waiting")).first()
    if cb is None:
        return True
    cb.state = "phone"
    ctx.db().flush()
    ctx.record_event(case, "callback_unanswered", reason="短信回访未回复，转电话回访")
    return True


def phone_list(ctx: Ctx) -> list[tuple[Case, Callback]]:
    """The phone-callback list: cases whose callback SMS went unanswered, oldest first."""
    rows = (
        ctx.db()
        .execute(
            select(Case, Callback)
            .join(Callback, Callback.case_id == Case.id)
            .where(Callback.state == "phone")
            .order_by(Callback.due_at)
        )
        .all()
    )
    return [(c, cb) for c, cb in rows]


def reply_to_hotline(ctx: Ctx, case: Case) -> None:
    """A case from the city hotline (96123) is answered to the hotline office in its 办复 format."""
    office = cfg_of(ctx).hotline_office
    if not office:
        return
    data = case.data or {}
    item = ctx.db().get(InboundItem, data["item_id"]) if data.get("item_id") else None
    hotline_ref = item.source_key if item is not None and not item.source_key.startswith("sha256:") else ""
    ctx.queue(
        key=f"{case.number}/hotline_reply/office/email",
        channel="email",
        recipient=office,
        recipient_name="热线办",
        audience="staff",
        template="hotline_reply.txt",
        context=case_context(
            ctx,
            case,
            hotline_ref=hotline_ref,
            resolved_at=(case.resolved_at or ctx.now()).astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M"),
            result=data.get("resolution", "已处理"),
        ),
        case=case,
    )
