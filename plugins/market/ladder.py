"""The reminder ladder of one unpaid ledger line, as pure date arithmetic.

Steps (defaults, ``[market.fees]``): ``before`` 7 d before the due date, ``due`` on
the day, then ``overdue-1``, ``overdue-2`` … every 3 d after it. On a given day a
line stands on the latest step it has reached; the outbox key of that step (line id
+ step name) makes the step's reminder go out once, whatever re-runs or restarts
happen. A step missed while the daemon was down is not sent late: the line's
current step is.
"""

from __future__ import annotations

from datetime import date, timedelta

from kefu.plugins.market.config import FeesConfig


def _days(span: timedelta) -> int:
    return max(1, round(span.total_seconds() / 86400))


def step_on(due_on: date, today: date, fees: FeesConfig) -> str | None:
    """The ladder step a line due ``due_on`` stands on ``today``, or None before the first."""
    if today > due_on:
        every = _days(fees.overdue_every)
        n = (today - due_on).days // every
        if n >= 1:
            return f"overdue-{n}"
        return "due" if fees.remind_on_due_day else None
    if today == due_on and fees.remind_on_due_day:
        return "due"
    if today >= due_on - timedelta(days=_days(fees.remind_before)):
        return "before"
    return None


def first_day(fees: FeesConfig, today: date) -> date:
    """The latest due date a line may have to stand on a step ``today`` (today + the lead time)."""
    return today + timedelta(days=_days(fees.remind_before))


def days_overdue(due_on: date, today: date) -> int:
    """Whole days past the due date (0 when not overdue)."""
    return max(0, (today - due_on).days)


def escalates(due_on: date, today: date, fees: FeesConfig) -> bool:
    """The line is ``escalate_after`` (30 d) overdue or more: the market manager takes it."""
    return days_overdue(due_on, today) >= _days(fees.escalate_after)
