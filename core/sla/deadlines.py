"""Deadlines of a case: opened, paused, resumed and met as the case moves, due times computed.

A deadline's due time is always recomputed from its start, its policy, the
calendar and the pauses found in the case's history (time spent in the policy's
pause states), never counted up, so it stays auditable. A plugin may give a
deadline an explicit due time instead (a contractor's agreed date, a milestone's
day): it is kept in ``data["fixed_due"]`` and only shifted by the time the case
spent in the policy's pause states.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.context import app_of
from kefu.db.models import Case, CaseEvent, Deadline
from kefu.kinds import DeadlinePolicy, WholeDays
from kefu.sla.calendar import Interval, WorkCalendar, advance, always

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.context import PluginContext

log = logging.getLogger("kefu.sla")
FOREVER = datetime.max.replace(tzinfo=UTC)
_CALENDARS: dict[int, tuple[object, WorkCalendar]] = {}


def calendar_of(app: App) -> WorkCalendar:
    """The app's working calendar (built once per config)."""
    section = app.settings.calendar
    cached = _CALENDARS.get(id(section))
    if cached is None or cached[0] is not section:
        cal = WorkCalendar(section, app.settings.tz)
        _CALENDARS[id(section)] = (section, cal)
        return cal
    return cached[1]


def is_active(policy: DeadlinePolicy, case: Case) -> bool:
    """True while ``case`` is in the window in which ``policy``'s deadline runs."""
    if case.state not in policy.active_states:
        return False
    return policy.step is None or case.step == policy.step


def pauses(events: Sequence[CaseEvent], since: datetime, pause_states: frozenset[str]) -> list[Interval]:
    """The intervals after ``since`` the case spent in ``pause_states``, read from its history.

    An interval still running ends at :data:`FOREVER`.
    """
    out: list[Interval] = []
    paused_at: datetime | None = None
    for event in sorted(events, key=lambda e: e.id):
        if event.to_state is None:
            continue
        entering = event.to_state in pause_states
        if entering and paused_at is None:
            paused_at = event.at
        elif not entering and paused_at is not None:
            if event.at > since:
                out.append((max(paused_at, since), event.at))
            paused_at = None
    if paused_at is not None:
        out.append((max(paused_at, since), FOREVER))
    return out


def compute_due(
    cal: WorkCalendar, policy: DeadlinePolicy, start: datetime, holes: list[Interval], share: float = 1.0
) -> datetime:
    """When ``share`` of the policy's time has run from ``start``, skipping the ``holes`` (closed pauses)."""
    closed = [(a, b) for a, b in holes if b != FOREVER]
    if isinstance(policy.within, WholeDays):
        # Whole-day periods are counted on the calendar; a pause moves their start along.
        shifted = start + sum((b - a for a, b in closed), timedelta(0))
        if policy.within.working:
            end = cal.add_working_days(shifted, policy.within.days)
        else:
            end = cal.add_calendar_days(shifted, policy.within.days)
        return end if share >= 1 else (start + (end - start) * share)
    intervals = always(start) if policy.clock == "24x7" else cal.working_intervals(start)
    return advance(intervals, policy.within * share, closed)


def warn_share(app: App, policy: DeadlinePolicy) -> float:
    """The policy's warning share, or ``[sla] warn_at``."""
    return policy.warn_at if policy.warn_at is not None else app.settings.sla.warn_at


def _fixed(data: dict[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def fix_due(deadline: Deadline, due_at: datetime, remind_before: timedelta | None = None) -> None:
    """Give ``deadline`` an explicit due time that :func:`schedule` keeps (call :func:`schedule` after).

    The warning comes ``remind_before`` the due time, else at the policy's share of the time.
    """
    if due_at.tzinfo is None:
        raise ValueError(f"deadline {deadline.name}: explicit due time {due_at} has no time zone")
    data = dict(deadline.data or {})
    data["fixed_due"] = due_at.astimezone(UTC).isoformat()
    if remind_before is not None:
        data["fixed_warn"] = (due_at - remind_before).astimezone(UTC).isoformat()
    else:
        data.pop("fixed_warn", None)
    deadline.data = data


def schedule(app: App, deadline: Deadline, policy: DeadlinePolicy, events: Sequence[CaseEvent]) -> None:
    """(Re)compute ``due_at``, the warning time and ``next_at`` of an open deadline from history.

    An explicit due time (``data["fixed_due"]``, see :func:`fix_due`) is kept, moved on
    only by the closed pauses (none unless the policy has pause states).
    """
    cal = calendar_of(app)
    holes = pauses(events, deadline.started_at, policy.pause_states)
    data = dict(deadline.data or {})
    fixed = _fixed(data, "fixed_due")
    if fixed is not None:
        paused_for = sum((b - a for a, b in holes if b != FOREVER), timedelta(0))
        deadline.due_at = fixed + paused_for
        fixed_warn = _fixed(data, "fixed_warn")
        if fixed_warn is not None:
            warn = fixed_warn + paused_for
        else:
            begun = deadline.started_at
            warn = begun + (deadline.due_at - begun) * warn_share(app, policy)
    else:
        deadline.due_at = compute_due(cal, policy, deadline.started_at, holes)
        warn = compute_due(cal, policy, deadline.started_at, holes, warn_share(app, policy))
    data["warn_at"] = warn.isoformat()
    paused = bool(holes) and holes[-1][1] == FOREVER
    if paused:
        if deadline.next_at is not None and deadline.stage == "breached":
            data["resume_after"] = (deadline.next_at - holes[-1][0]).total_seconds()
        data["paused"] = True
        deadline.next_at = None
    else:
        was_paused = data.pop("paused", False)
        if deadline.stage == "pending":
            deadline.next_at = warn if warn < deadline.due_at else deadline.due_at
        elif deadline.stage == "warned":
            deadline.next_at = deadline.due_at
        elif deadline.stage == "breached" and was_paused:
            left = data.pop("resume_after", None)
            deadline.next_at = app.clock.now() + timedelta(seconds=max(left or 0, 0))
    deadline.data = data


def history_of(session: Session, case: Case) -> list[CaseEvent]:
    """The case's events in order, read from the database (the relationship may be stale)."""
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def first_deadlines(
    app: App, case: Case, opened: CaseEvent, now: datetime, due: Mapping[str, datetime] | None = None
) -> list[Deadline]:
    """The deadlines a case just opened starts with, scheduled but not added to any session.

    ``opened`` is the case's ``opened`` event, its whole history so far; ``due`` gives
    explicit due times by policy name (a name that opens no deadline raises ValueError).
    Nothing is read from the database, so many cases can be opened with one write.
    """
    kind = app.kinds.get(case.kind)
    rows = []
    for policy in kind.policies if kind else ():
        if not is_active(policy, case):
            continue
        row = _new_round(case, policy, 1, now, due)
        schedule(app, row, policy, [opened])
        rows.append(row)
    _check_due_used(case, rows, due)
    return rows


def _new_round(
    case: Case, policy: DeadlinePolicy, round_: int, now: datetime, due: Mapping[str, datetime] | None
) -> Deadline:
    row = Deadline(
        case_id=case.id,
        plugin=case.plugin,
        name=policy.name,
        round=round_,
        state="open",
        started_at=now,
        due_at=now,
        next_at=None,
        stage="pending",
        level=0,
        repeat=0,
        failures=0,
        data={},
    )
    if due and policy.name in due:
        fix_due(row, due[policy.name])
    return row


def _check_due_used(case: Case, opened: list[Deadline], due: Mapping[str, datetime] | None) -> None:
    unused = set(due or ()) - {row.name for row in opened}
    if unused:
        raise ValueError(
            f"case {case.number}: no deadline {', '.join(sorted(unused))} opens now (state {case.state}, "
            f"step {case.step or '-'}); use set_due for a running deadline"
        )


def sync_deadlines(
    ctx: PluginContext,
    case: Case,
    events: Sequence[CaseEvent] | None = None,
    *,
    due: Mapping[str, datetime] | None = None,
) -> list[Deadline]:
    """Bring the case's deadlines in line with its state: meet, pause, resume, open new rounds.

    ``due`` gives explicit due times (by policy name) to the deadlines opened now;
    a name that opens no deadline now raises ValueError. Returns the deadlines opened now.
    (A case just opened gets its deadlines from :func:`first_deadlines` instead.)
    """
    app = app_of(ctx)
    kind = app.kinds.get(case.kind)
    session = ctx.db()
    now = ctx.now()
    history = events if events is not None else history_of(session, case)
    open_rows: list[Deadline] = list(
        session.scalars(select(Deadline).where(Deadline.case_id == case.id, Deadline.state == "open"))
    )
    running = set()
    for row in open_rows:
        policy = kind.policy(row.name) if kind else None
        if policy is None or not is_active(policy, case):
            row.state, row.met_at, row.next_at = "met", now, None
            continue
        running.add(row.name)
        paused_now = case.state in policy.pause_states
        if paused_now != bool((row.data or {}).get("paused")):
            schedule(app, row, policy, history)
    opened = []
    for policy in kind.policies if kind else ():
        if policy.name in running or not is_active(policy, case):
            continue
        last_round = session.scalar(
            select(func.max(Deadline.round)).where(Deadline.case_id == case.id, Deadline.name == policy.name)
        )
        row = _new_round(case, policy, (last_round or 0) + 1, now, due)
        schedule(app, row, policy, history)
        session.add(row)
        opened.append(row)
    _check_due_used(case, opened, due)
    session.flush()
    return opened
