"""Day results for a month: raw punches + shift + the China working calendar + approved leave.

``compute(ctx, period)`` (re)writes ``hr_days`` for every employee and day of the
month up to today, then opens the HR review cases that long absence calls for. An
approved month is frozen: its day results are not rewritten (corrections are
amendments of the sheet).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, delete, insert, select

from kefu.plugins.hr import reviews, rules
from kefu.plugins.hr.config import Ctx
from kefu.plugins.hr.models import DayResult, Leave, Proxy, Punch, Sheet
from kefu.plugins.hr.register import Person, by_number, register, shift_of

_DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class FrozenMonth(ValueError):
    """The month's sheet is approved: its results are frozen."""


def month_bounds(period: str) -> tuple[date, date]:
    """``2026-11`` → (first day, first day of the next month)."""
    try:
        year, month = (int(x) for x in period.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise ValueError(f"{period!r} is not a month (write 2026-11)") from None
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt


def days_of(first: date, end: date) -> Iterator[date]:
    """Each day from ``first`` up to (not including) ``end``."""
    d = first
    while d < end:
        yield d
        d += timedelta(days=1)


def pattern_days(text: str) -> frozenset[int]:
    """'mon-sat', 'sat,sun', 'daily' → weekday numbers."""
    text = text.strip().lower()
    if text in ("daily", "all", "*"):
        return frozenset(range(7))
    out: set[int] = set()
    for part in text.split(","):
        a, _, b = part.strip().partition("-")
        i = _DAY_NAMES.index(a.strip())
        j = _DAY_NAMES.index(b.strip()) if b else i
        out.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
    return frozenset(out)


def is_working(ctx: Ctx, days: str, day: date) -> bool:
    """A working day of a shift: the calendar's (holidays off, 调休 on) or a weekly pattern."""
    if days == "calendar":
        return ctx.calendar.is_working_day(day)
    return day.weekday() in pattern_days(days)


def check_not_frozen(ctx: Ctx, period: str) -> None:
    """Raise FrozenMonth when ``period``'s sheet is approved."""
    sheet = ctx.db().scalar(select(Sheet).where(Sheet.period == period))
    if sheet is not None and sheet.state == "approved":
        raise FrozenMonth(f"{period}: the sheet was approved on {sheet.approved_at:%Y-%m-%d}; add an amendment instead")


def leave_days(ctx: Ctx, first: date, end: date) -> tuple[dict[tuple[str, date], Leave], dict[tuple[str, date], Leave]]:
    """Approved and merely requested leave by (employee, day) over [first, end)."""
    approved: dict[tuple[str, date], Leave] = {}
    requested: dict[tuple[str, date], Leave] = {}
    for leave in ctx.db().scalars(select(Leave).where(Leave.start < end, Leave.end >= first, Leave.state != "refused")):
        target = approved if leave.state == "approved" else requested
        for d in days_of(max(leave.start, first), min(leave.end + timedelta(days=1), end)):
            target[(leave.employee, d)] = leave
    return approved, requested


def compute(ctx: Ctx, period: str, *, until: date | None = None, people: dict[str, Person] | None = None) -> int:
    """(Re)compute the day results of ``period`` up to ``until`` (default today); how many days were written."""
    check_not_frozen(ctx, period)
    first, end = month_bounds(period)
    today = until or ctx.local_now().date()
    end = min(end, today + timedelta(days=1))
    if end <= first:
        return 0
    session = ctx.db()
    people = people if people is not None else register(ctx)
    numbers = by_number(people)
    tz = ctx.tz
    start_at = datetime.combine(first - timedelta(days=1), time(0), tz)
    end_at = datetime.combine(end + timedelta(days=1), time(0), tz)
    punches: dict[tuple[str, date], list[tuple[int, str]]] = defaultdict(list)
    for number, at, direction in session.execute(
        select(Punch.number, Punch.at, Punch.direction)
        .where(Punch.at >= start_at, Punch.at < end_at)
        .order_by(Punch.at, Punch.id)
    ):
        key = numbers.get(number)
        if key is None:
            continue  # an unknown number stays in hr_punches; `kefu hr punches --unknown` lists it
        local = at.astimezone(tz)
        punches[(key, local.date())].append((local.hour * 60 + local.minute, direction))
    approved, requested = leave_days(ctx, first, end)
    proxies: dict[tuple[str, date], list[tuple[str, str]]] = defaultdict(list)
    for p in session.scalars(select(Proxy).where(Proxy.day >= first, Proxy.day < end)):
        proxies[(p.signed_for, p.day)].append(("for", _name(people, p.signed_by)))
        proxies[(p.signed_by, p.day)].append(("by", _name(people, p.signed_for)))
    types = ctx.config.leave.types
    working: dict[tuple[str, date], bool] = {}
    schedules: dict[str, rules.Schedule] = {}
    session.execute(delete(DayResult).where(DayResult.day >= first, DayResult.day < end))
    now = ctx.now()
    rows = []
    for person in people.values():
        shift = shift_of(ctx, person)
        schedule = schedules.get(person.shift)
        if schedule is None:
            schedule = schedules[person.shift] = rules.Schedule.of(shift)
        for day in days_of(first, end):
            if not person.works_on(day):
                continue
            wkey = (shift.days, day)
            if wkey not in working:
                working[wkey] = is_working(ctx, shift.days, day)
            leave = approved.get((person.key, day))
            leave_day = None
            if leave is not None:
                spec = types.get(leave.kind)
                if spec is not None:
                    phoned = None
                    if leave.phoned_at is not None:
                        local = leave.phoned_at.astimezone(tz)
                        # Phoned on an earlier day counts as before the shift (minute 0 or less).
                        phoned = local.hour * 60 + local.minute if local.date() == day else -1
                    leave_day = rules.LeaveDay(leave.kind, spec, phoned, leave.half)
            req = requested.get((person.key, day))
            result = rules.day_result(
                ctx.config,
                schedule,
                working[wkey],
                punches.get((person.key, day), ()),
                leave_day,
                proxies.get((person.key, day), ()),
                requested_leave=types[req.kind].name if req is not None and req.kind in types else "",
            )
            rows.append(
                {
                    "employee": person.key,
                    "day": day,
                    "status": result.status,
                    "late_minutes": result.late_minutes,
                    "early_minutes": result.early_minutes,
                    "absent": result.absent,
                    "leave_kind": result.leave_kind,
                    "lines": result.lines,
                    "computed_at": now,
                }
            )
    if rows:
        # A Core executemany: ORM objects for a month of a thousand people cost more than the rules.
        session.execute(insert(cast(Table, DayResult.__table__)), rows)
    reviews.open_reviews(ctx, people, today)
    return len(rows)


def _name(people: dict[str, Person], key: str) -> str:
    p = people.get(key)
    return p.name if p else key


def absent_days(value: Decimal) -> Decimal:
    """An absence as the sheet counts it (half days kept)."""
    return value.quantize(Decimal("0.1"))
