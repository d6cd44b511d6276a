"""Opening and changing cases; every change is an event, in the caller's transaction.

Every state change goes through :func:`record_event` (which checks it against the
lifecycle, keeps the case's deadlines in step and tells the owner plugin); the
other functions are the named moves staff and plugins make: assign, set a step,
resolve, record the callback answer, close, reopen, acknowledge an escalation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select, update

from kefu.context import app_of
from kefu.db.base import table_of
from kefu.db.models import Case, CaseEvent, CaseSequence, Customer, Deadline
from kefu.kinds import DONE_STATES, OPEN_STATES
from kefu.outbound.moot import cancel_moot, triggers_of
from kefu.sla.deadlines import first_deadlines, fix_due, history_of, schedule, sync_deadlines
from kefu.sla.lifecycle import check_transition, reopen_state

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kefu.context import PluginContext
    from kefu.kinds import CaseKind

log = logging.getLogger("kefu.cases")


class CaseError(ValueError):
    """A move on a case that cannot be made (unknown step, bad score); the message says why."""


class TransitionRefused(CaseError):
    """The case kind's ``guard`` refused a state change; the message carries its reason."""


# Built once: building the statement cost six times what running it does.
_BUMP = (
    update(CaseSequence)
    .where(CaseSequence.prefix == bindparam("seq_prefix"), CaseSequence.year == bindparam("seq_year"))
    .values(last=CaseSequence.last + bindparam("seq_count"))
    .returning(CaseSequence.last)
)


def next_case_numbers(session: Session, prefix: str, year: int, count: int) -> list[str]:
    """Issue the next ``count`` numbers for ``prefix`` and ``year`` (``HT-2026-000123`` …) in one
    step, unique across daemons."""
    # A Core UPDATE on the session's connection: the ORM form would autoflush and scan the
    # whole identity map to synchronise it, which made opening N cases in one transaction O(N²).
    last = (
        session.connection()
        .execute(_BUMP, {"seq_prefix": prefix, "seq_year": year, "seq_count": count})
        .scalar_one_or_none()
    )
    if last is None:
        with session.begin_nested():
            session.add(CaseSequence(prefix=prefix, year=year, last=count))
        last = count
    return [f"{prefix}-{year}-{n:06d}" for n in range(last - count + 1, last + 1)]


@dataclass
class NewCase:
    """One case for :func:`open_cases`, described by the arguments :func:`open_case` takes."""

    kind: str
    title: str = ""
    customer: Customer | None = None
    unit: str | None = None
    urgent: bool | None = None
    owner: str | None = None
    data: dict[str, Any] | None = None
    actor: str = "system"
    reason: str | None = None
    step: str | None = None
    due: Mapping[str, datetime] | None = None
    opened_at: datetime | None = None


def open_case(
    ctx: PluginContext,
    *,
    kind: str,
    title: str = "",
    customer: Customer | None = None,
    unit: str | None = None,
    urgent: bool | None = None,
    owner: str | None = None,
    data: dict[str, Any] | None = None,
    actor: str = "system",
    reason: str | None = None,
    step: str | None = None,
    due: Mapping[str, datetime] | None = None,
    opened_at: datetime | None = None,
) -> Case:
    """Open a case of ``kind``, set its declared deadlines, and tell its plugin (``kefu_case_opened``).

    ``step`` starts the case at one of the kind's process steps. ``due`` gives deadlines
    opened now an explicit due time by policy name (``{"resolution": milestone_day}``),
    which the engine keeps (a pause of the policy moves it on by the time paused).
    ``opened_at`` is when the customer asked, if earlier than now (a hotline call
    imported the next morning): the case and every first deadline count from it, so a
    deadline already past is due at the next sweep. A time in the future counts as now.
    """
    return open_cases(
        ctx,
        [
            NewCase(
                kind=kind,
                title=title,
                customer=customer,
                unit=unit,
                urgent=urgent,
                owner=owner,
                data=data,
                actor=actor,
                reason=reason,
                step=step,
                due=due,
                opened_at=opened_at,
            )
        ],
    )[0]


def open_cases(ctx: PluginContext, new: Sequence[NewCase]) -> list[Case]:
    """Open many cases at once, exactly as :func:`open_case` opens each, in order.

    Numbers are issued in order, and the cases, their ``opened`` events and their
    first deadlines are written with one statement each, so a batch of mail costs a
    few round trips instead of several per case. Then each owner's ``kefu_case_opened``
    is called, in order; a failing hook is recorded on its case, as with one case.
    Everything is checked before anything is written: an unknown kind or step (or a
    ``due`` naming no deadline) raises and opens none of them.
    """
    if not new:
        return []
    session = ctx.db()
    app = app_of(ctx)
    new = [_own_kind(app.kinds, ctx.name, spec) for spec in new]
    for spec in new:
        case_kind = app.kinds.get(spec.kind)
        if case_kind is None:
            raise ValueError(f"unknown case kind {spec.kind!r}; registered: {', '.join(sorted(app.kinds))}")
        if spec.step is not None and spec.step not in case_kind.steps:
            raise CaseError(
                f"case kind {spec.kind}: unknown step {spec.step!r}; steps: {', '.join(case_kind.steps) or 'none'}"
            )
    now = ctx.now()
    year = now.astimezone(ctx.tz).year
    numbers = _numbers_for(session, [app.kinds[spec.kind].prefix for spec in new], year)
    rows = []
    starts = [_start_of(spec, now) for spec in new]
    for spec, number, start in zip(new, numbers, starts, strict=True):
        case_kind = app.kinds[spec.kind]
        rows.append(
            {
                "number": number,
                "plugin": spec.kind.split(".", 1)[0],
                "kind": spec.kind,
                "state": "new",
                "step": spec.step,
                "title": spec.title or case_kind.title,
                "urgent": case_kind.urgent if spec.urgent is None else spec.urgent,
                "customer_id": spec.customer.id if spec.customer is not None else None,
                "owner": spec.owner,
                "unit": spec.unit,
                "opened_at": start,
                "updated_at": now,
                "resolved_at": None,
                "closed_at": None,
                "satisfaction": None,
                "data": dict(spec.data or {}),
            }
        )
    # One INSERT … RETURNING for all (SQLAlchemy's "insertmanyvalues"), in the order given.
    cases = list(session.scalars(insert(Case).returning(Case, sort_by_parameter_order=True), rows))
    events: list[dict[str, Any]] = []
    deadlines: list[dict[str, Any]] = []
    for spec, case, start in zip(new, cases, starts, strict=True):
        data: dict[str, Any] = {"owner": spec.owner} if spec.owner else {}
        if start != now:
            data["recorded_at"] = now.isoformat()  # opened when the customer asked, recorded later
        event = {
            "case_id": case.id,
            "at": start,
            "actor": spec.actor,
            "type": "opened",
            "from_state": None,
            "to_state": "new",
            "reason": spec.reason,
            "data": data,
        }
        events.append(event)
        if app.kinds[spec.kind].policies or spec.due:
            opened = CaseEvent(**event)  # the whole history the first deadlines are scheduled from
            for row in first_deadlines(app, case, opened, start, spec.due):
                if row.next_at is not None and row.next_at < now:
                    # Counted from the call, walked from now: a breach already past escalates at
                    # once, to whoever is on duty now, instead of replaying every missed repeat.
                    row.next_at = now
                deadlines.append(_row_of(row, _DEADLINE_COLUMNS))
    # Core executemany: these rows need no ORM object, nor the ORM's bulk bookkeeping.
    connection = session.connection()
    if events:
        connection.execute(insert(table_of(CaseEvent)), events)
    if deadlines:
        connection.execute(insert(table_of(Deadline)), deadlines)
    _tell_owners_opened(ctx, cases)
    return cases


_DEADLINE_COLUMNS = (
    "case_id",
    "plugin",
    "name",
    "round",
    "state",
    "started_at",
    "due_at",
    "next_at",
    "stage",
    "level",
    "repeat",
    "failures",
    "met_at",
    "breached_at",
    "data",
)


def _start_of(spec: NewCase, now: datetime) -> datetime:
    """When ``spec``'s case counts from: its ``opened_at`` when earlier than now, else now."""
    if spec.opened_at is None:
        return now
    if spec.opened_at.tzinfo is None:
        raise ValueError(f"case of kind {spec.kind}: opened_at {spec.opened_at} has no time zone")
    return min(spec.opened_at, now)


def _own_kind(kinds: Mapping[str, CaseKind], plugin: str, spec: NewCase) -> NewCase:
    """``spec`` with a kind its plugin named without its own name (``"leak"``) made whole."""
    if spec.kind in kinds or f"{plugin}.{spec.kind}" not in kinds:
        return spec
    return replace(spec, kind=f"{plugin}.{spec.kind}")


def _row_of(obj: Any, columns: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in columns}


def _numbers_for(session: Session, prefixes: list[str], year: int) -> list[str]:
    """A number for each prefix in order; one sequence step per distinct prefix."""
    wanted: dict[str, int] = {}
    for prefix in prefixes:
        wanted[prefix] = wanted.get(prefix, 0) + 1
    issued = {prefix: iter(next_case_numbers(session, prefix, year, count)) for prefix, count in wanted.items()}
    return [next(issued[prefix]) for prefix in prefixes]


def _tell_owners_opened(ctx: PluginContext[Any], cases: list[Case]) -> None:
    """``kefu_case_opened`` for each case, each owner in its own context (see ``PluginCalls.cases_opened``)."""
    app = app_of(ctx)
    session = ctx.db()
    app.calls.cases_opened(cases, lambda plugin: app.context(plugin, session))


def record_event(
    ctx: PluginContext,
    case: Case,
    type: str,
    *,
    actor: str = "system",
    reason: str | None = None,
    to_state: str | None = None,
    data: dict[str, Any] | None = None,
    reopen: bool = False,
    due: Mapping[str, datetime] | None = None,
    flush: bool = True,
) -> CaseEvent:
    """Record an event on ``case`` (changing its state if ``to_state``) and tell its plugin.

    A state change is checked against the lifecycle (``reopen=True`` for a move out
    of resolved/callback/closed) and raises :class:`~kefu.sla.lifecycle.IllegalTransition`
    when not allowed. Some events act by themselves: a ``customer_reply`` ends a wait
    on the customer, and reopens a done case when its kind says ``reopen_on_reply``;
    ``escalation_acknowledged`` stops the repeats of breached deadlines. The kind's
    ``guard`` may refuse a state change (:class:`TransitionRefused`, nothing written).
    ``due`` gives deadlines this event opens an explicit due time (see :func:`open_case`).
    ``flush=False`` leaves an event that changes no state pending until the next flush
    (a query, a savepoint, the commit), so a batch writes its events together; the
    returned event has no ``id`` until then.
    """
    session = ctx.db()
    now = ctx.now()
    if to_state is not None and to_state != case.state:
        check_transition(case.number, case.state, to_state, reopen=reopen)
        check_guard(ctx, case, to_state)
    elif to_state == case.state:
        to_state = None
    event = CaseEvent(
        case_id=case.id,
        at=now,
        actor=actor,
        type=type,
        from_state=case.state,
        to_state=to_state,
        reason=reason,
        data=dict(data or {}),
    )
    if to_state is not None:
        case.state = to_state
        if to_state == "resolved":
            case.resolved_at = now
        elif to_state == "closed":
            case.closed_at = now
        elif to_state in OPEN_STATES and reopen:
            case.resolved_at = case.closed_at = None
    case.updated_at = now
    session.add(event)
    if flush or to_state is not None or type == "step" or due:
        session.flush()
    if to_state is not None or type == "step" or due:
        sync_deadlines(ctx, case, due=due)
    if type == "escalation_acknowledged":
        _stop_repeats(session, case)
    if triggers_of(event):
        _cancel_moot(ctx, case, event)
    app = app_of(ctx)
    app.calls.case_changed(case, event, app.context(case.plugin, session))
    if type == "customer_reply":
        _react_to_reply(ctx, case, actor)
    return event


def _cancel_moot(ctx: PluginContext, case: Case, event: CaseEvent) -> None:
    """Cancel the case's queued messages ``event`` made pointless, and say so in its history."""
    cancelled = cancel_moot(ctx, case, event)
    if cancelled:
        # A note in the history, not a move of the case: no hook, no deadlines to keep in step.
        reason = cancelled[0].data["cancelled"]
        ctx.db().add(
            CaseEvent(
                case_id=case.id,
                at=ctx.now(),
                actor="system",
                type="notification_cancelled",
                reason=f"{len(cancelled)} queued message(s) cancelled: {reason}"[:1000],
                data={
                    "outbox_ids": [row.id for row in cancelled],
                    "messages": [f"{row.channel} {row.template}" for row in cancelled],
                },
            )
        )


def _react_to_reply(ctx: PluginContext, case: Case, actor: str) -> None:
    # A kind's guard may refuse these automatic moves: the reply stays recorded, the case stays put.
    try:
        if case.state == "waiting_customer":
            back = _state_before_wait(history_of(ctx.db(), case))
            record_event(ctx, case, "resumed", actor="system", to_state=back, reason="客户已回复")
            return
        kind = app_of(ctx).kinds.get(case.kind)
        if case.state in DONE_STATES and kind is not None and kind.reopen_on_reply:
            reopen(ctx, case, actor="system", reason="客户回复，重新打开")
    except TransitionRefused as exc:
        log.info("%s", exc)


def check_guard(ctx: PluginContext, case: Case, to_state: str) -> None:
    """Raise :class:`TransitionRefused` when the kind's ``guard`` gives a reason against ``to_state``.

    A guard that fails refuses the move too (naming the failure): a rule the plugin
    could not check is not taken as satisfied.
    """
    kind = app_of(ctx).kinds.get(case.kind)
    if kind is None or kind.guard is None:
        return
    try:
        reason = kind.guard(case, to_state)
    except Exception as exc:
        log.exception("guard of case kind %s failed for case %s", case.kind, case.number)
        reason = f"the {case.plugin} plugin's check failed ({type(exc).__name__}: {exc}); see the log"
    if reason:
        raise TransitionRefused(f"case {case.number}: cannot go from {case.state!r} to {to_state!r}: {reason}")


def _state_before_wait(history: list[CaseEvent]) -> str:
    for event in reversed(history):
        if event.to_state == "waiting_customer" and event.from_state in OPEN_STATES - {"waiting_customer"}:
            return "in_progress" if event.from_state == "new" else str(event.from_state)
    return "in_progress"


def _stop_repeats(session: Session, case: Case) -> None:
    for row in session.scalars(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.state == "open", Deadline.stage == "breached")
    ):
        row.stage, row.next_at = "acknowledged", None
    session.flush()


def transition(
    ctx: PluginContext,
    case: Case,
    to_state: str,
    *,
    actor: str = "system",
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    due: Mapping[str, datetime] | None = None,
) -> CaseEvent:
    """Move ``case`` to ``to_state`` (an IllegalTransition error if the lifecycle forbids it,
    TransitionRefused if the kind's guard does); ``due``: explicit due times of deadlines it opens."""
    return record_event(ctx, case, "state", actor=actor, reason=reason, to_state=to_state, data=data, due=due)


def assign(
    ctx: PluginContext, case: Case, owner: str, *, actor: str = "system", reason: str | None = None
) -> CaseEvent:
    """Give ``case`` to staff member ``owner``; a case still in triage becomes ``assigned``."""
    if owner not in app_of(ctx).settings.staff.people:
        raise CaseError(f"case {case.number}: {owner!r} is not in [staff.people]")
    if case.state not in OPEN_STATES:
        raise CaseError(f"case {case.number} is {case.state}; reopen it before assigning it")
    previous, case.owner = case.owner, owner
    to_state = "assigned" if case.state in ("new", "acknowledged") else None
    return record_event(
        ctx,
        case,
        "assigned",
        actor=actor,
        reason=reason,
        to_state=to_state,
        data={"owner": owner, "previous": previous},
    )


def set_step(
    ctx: PluginContext,
    case: Case,
    step: str,
    *,
    actor: str = "system",
    reason: str | None = None,
    due_at: datetime | None = None,
) -> CaseEvent:
    """Move ``case`` to process step ``step`` of its kind (the case is then in progress).

    ``due_at`` is an explicit due time for the step's deadline (``step:<step>``), e.g.
    the date agreed with a contractor.
    """
    kind = app_of(ctx).kinds.get(case.kind)
    steps = kind.steps if kind else ()
    if step not in steps:
        raise CaseError(
            f"case {case.number}: unknown step {step!r}; steps of {case.kind}: {', '.join(steps) or 'none'}"
        )
    if case.state not in OPEN_STATES:
        raise CaseError(f"case {case.number} is {case.state}; reopen it before changing its step")
    previous, case.step = case.step, step
    to_state = "in_progress" if case.state != "in_progress" else None
    return record_event(
        ctx,
        case,
        "step",
        actor=actor,
        reason=reason,
        to_state=to_state,
        data={"step": step, "previous": previous},
        due={f"step:{step}": due_at} if due_at is not None else None,
    )


def set_due(
    ctx: PluginContext,
    case: Case,
    name: str,
    due_at: datetime,
    *,
    remind_before: timedelta | None = None,
    actor: str = "system",
    reason: str | None = None,
) -> Deadline:
    """Give the running deadline ``name`` of ``case`` an explicit due time that the engine keeps.

    For a date known after the deadline opened (a contractor's ``--due 5d``, a milestone's
    day). The warning comes ``remind_before`` the due time, else at the policy's share; a
    pause of the policy moves both on by the time paused. A warned deadline is warned again
    before the new time; a breached one stays breached. Recorded as a ``deadline_due_set`` event.
    """
    kind = app_of(ctx).kinds.get(case.kind)
    policy = kind.policy(name) if kind else None
    session = ctx.db()
    row = session.scalars(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.name == name, Deadline.state == "open")
    ).first()
    if policy is None or row is None:
        running = session.scalars(
            select(Deadline.name).where(Deadline.case_id == case.id, Deadline.state == "open")
        ).all()
        raise CaseError(f"case {case.number}: no running deadline {name!r} (running: {', '.join(running) or 'none'})")
    previous = row.due_at
    fix_due(row, due_at, remind_before)
    if row.stage == "warned":
        row.stage = "pending"
    schedule(app_of(ctx), row, policy, history_of(session, case))
    record_event(
        ctx,
        case,
        "deadline_due_set",
        actor=actor,
        reason=reason,
        data={
            "deadline": name,
            "round": row.round,
            "due": row.due_at.isoformat(),
            "previous": previous.isoformat(),
        },
    )
    return row


def resolve(ctx: PluginContext, case: Case, *, actor: str = "system", reason: str | None = None) -> CaseEvent:
    """Mark ``case`` resolved; its callback deadline (回访) starts now."""
    return record_event(ctx, case, "resolved", actor=actor, reason=reason, to_state="resolved")


def close(ctx: PluginContext, case: Case, *, actor: str = "system", reason: str | None = None) -> CaseEvent:
    """Close ``case``; every deadline still running is met now."""
    return record_event(ctx, case, "closed", actor=actor, reason=reason, to_state="closed")


def reopen(ctx: PluginContext, case: Case, *, actor: str = "system", reason: str | None = None) -> CaseEvent:
    """Reopen a resolved, callback or closed case: back to its owner (or triage), deadlines anew."""
    if case.state not in DONE_STATES:
        # Without this a reopen of an open case would be a silent no-op event (same state).
        raise CaseError(
            f"case {case.number} is {case.state}, still open; only a resolved, callback or closed case can be reopened"
        )
    return record_event(
        ctx, case, "reopened", actor=actor, reason=reason, to_state=reopen_state(case.owner), reopen=True
    )


def record_callback(
    ctx: PluginContext, case: Case, score: int, *, actor: str = "system", reason: str | None = None
) -> CaseEvent:
    """Record the callback answer (回访, score 1–5): satisfied closes the case, otherwise it reopens."""
    if not 1 <= score <= 5:
        raise CaseError(f"case {case.number}: callback score {score} is not between 1 and 5")
    if case.state not in ("resolved", "callback"):
        raise CaseError(f"case {case.number} is {case.state}; a callback answer needs a resolved case")
    kind = app_of(ctx).kinds.get(case.kind)
    satisfied = score >= (kind.satisfied_from if kind else 4)
    case.satisfaction = score
    event = record_event(
        ctx, case, "callback_answered", actor=actor, reason=reason, data={"score": score, "satisfied": satisfied}
    )
    if satisfied:
        close(ctx, case, actor=actor, reason=f"回访满意 ({score})")
    else:
        reopen(ctx, case, actor=actor, reason=f"回访不满意 ({score})")
    return event


def acknowledge_escalation(ctx: PluginContext, case: Case, *, actor: str, reason: str | None = None) -> CaseEvent:
    """Staff have seen the escalation: stop repeating it (the deadline stays breached)."""
    return record_event(ctx, case, "escalation_acknowledged", actor=actor, reason=reason)


def find_case(session: Session, number: str) -> Case | None:
    """The case with this number, or None."""
    return session.scalars(select(Case).where(Case.number == number)).one_or_none()
