"""The working-time calendar: mainland-China statutory holidays, make-up days, working hours.

Day data comes from the ``chinese_calendar`` package (kept up to date with the
State Council's yearly notice) or, for years the package lacks or the department
corrects, from ``[calendar.years]`` in the config. A year covered by neither is
never guessed silently: it is named in a warning at start and in ``check-config``,
and each computation that touches it logs a warning; its days then follow the
plain Monday–Friday week so that deadlines still come due.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar

from kefu.calendar_config import CalendarSection

log = logging.getLogger("kefu.calendar")

Source = Literal["package", "config", "none"]
Interval = tuple[datetime, datetime]
# Far enough for any policy ("30 个工作日" across Spring Festival), short enough to stop a bad loop.
_MAX_DAYS = 800


@dataclass(frozen=True)
class DayInfo:
    """One calendar day: working or not, why, and where that came from."""

    day: date
    working: bool
    name: str | None
    source: Source


@lru_cache(maxsize=64)
def package_covers(year: int) -> bool:
    """True when the installed ``chinese_calendar`` has the holiday data of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def package_version() -> str:
    """The installed ``chinese_calendar`` version (named in `kefu calendar show`)."""
    return str(getattr(chinese_calendar, "__version__", "?"))


class WorkCalendar:
    """Working days and hours in the configured zone; all inputs and outputs are aware datetimes."""

    def __init__(self, section: CalendarSection, tz: ZoneInfo) -> None:
        self.section = section
        self.tz = tz
        self.periods = section.periods()
        self._config_days: dict[int, tuple[frozenset[date], frozenset[date], str]] = {
            int(key): (frozenset(y.holidays), frozenset(y.workdays), y.source) for key, y in section.years.items()
        }
        self._warned: set[int] = set()

    # -- days ----------------------------------------------------------------

    def source(self, year: int) -> Source:
        """Where the day data of ``year`` comes from: config first, then the package."""
        if year in self._config_days:
            return "config"
        if package_covers(year):
            return "package"
        return "none"

    def missing_years(self, years: Iterable[int]) -> list[int]:
        """Those of ``years`` that neither the package nor the config covers."""
        return [y for y in years if self.source(y) == "none"]

    def day(self, day: date) -> DayInfo:
        """Whether ``day`` is a working day, its holiday name, and where that came from."""
        src = self.source(day.year)
        if src == "config":
            holidays, workdays, _note = self._config_days[day.year]
            if day in workdays:
                return DayInfo(day, True, "调休上班", src)
            if day in holidays:
                return DayInfo(day, False, "法定节假日", src)
            return DayInfo(day, day.weekday() < 5, None, src)
        if src == "package":
            is_holiday, name = chinese_calendar.get_holiday_detail(day)
            return DayInfo(day, not is_holiday, name, src)
        if day.year not in self._warned:
            self._warned.add(day.year)
            log.warning(
                "no holiday data for %d (chinese_calendar %s lacks it and [calendar.years.%d] is "
                "not set): treating %d as Monday-Friday without holidays; add the State Council's "
                "list to the config",
                day.year,
                package_version(),
                day.year,
                day.year,
            )
        return DayInfo(day, day.weekday() < 5, None, src)

    def is_working_day(self, day: date) -> bool:
        """True on a working day (make-up days 调休 included, statutory holidays excluded)."""
        return self.day(day).working

    def year_days(self, year: int) -> list[DayInfo]:
        """Every day of ``year`` that differs from the plain week: days off on weekdays and
        worked weekend days, plus named holidays on weekends (for `kefu calendar show`)."""
        out = []
        d = date(year, 1, 1)
        while d.year == year:
            info = self.day(d)
            if info.working != (d.weekday() < 5) or (info.name and not info.working):
                out.append(info)
            d += timedelta(days=1)
        return out

    def source_note(self, year: int) -> str:
        """Human words for where ``year``'s data comes from."""
        src = self.source(year)
        if src == "config":
            note = self._config_days[year][2]
            return f"config [calendar.years.{year}]" + (f" ({note})" if note else "")
        if src == "package":
            return f"chinese_calendar {package_version()}"
        return f"none: neither chinese_calendar {package_version()} nor [calendar.years.{year}]"

    # -- working time --------------------------------------------------------

    def _local_periods(self, day: date) -> list[Interval]:
        if not self.is_working_day(day):
            return []
        return [(_at(day, a, self.tz), _at(day, b, self.tz)) for a, b in self.periods]

    def working_intervals(self, start: datetime) -> Iterator[Interval]:
        """The working periods from ``start`` on (the first one clipped to begin at ``start``)."""
        day = start.astimezone(self.tz).date()
        for _ in range(_MAX_DAYS):
            for a, b in self._local_periods(day):
                if b <= start:
                    continue
                yield (max(a, start), b)
            day += timedelta(days=1)
        raise ValueError(f"no working time within {_MAX_DAYS} days after {start.isoformat()}")

    def is_working_time(self, when: datetime) -> bool:
        """True inside working hours of a working day."""
        day = when.astimezone(self.tz).date()
        return any(a <= when < b for a, b in self._local_periods(day))

    def next_working_time(self, when: datetime) -> datetime:
        """``when`` itself in working time, else the start of the next working period (UTC)."""
        start, _end = next(self.working_intervals(when))
        return start.astimezone(UTC)

    def end_of_day(self, day: date) -> datetime:
        """24:00 of ``day`` in the configured zone (a whole-day period ends then)."""
        return _at(day + timedelta(days=1), time(0), self.tz).astimezone(UTC)

    def roll_to_working_day(self, day: date) -> date:
        """``day`` if it is a working day, else the next working day (民法典 第二百零三条)."""
        for _ in range(_MAX_DAYS):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no working day within {_MAX_DAYS} days after {day.isoformat()}")

    def add_calendar_days(self, start: datetime, days: int) -> datetime:
        """The end of a period of ``days`` calendar days begun at ``start``.

        The day of ``start`` is not counted (民法典 第二百零一条); the period ends at
        24:00 of its last day, and a last day that is a statutory holiday or rest
        day moves to the next working day (第二百零三条).
        """
        first = start.astimezone(self.tz).date()
        return self.end_of_day(self.roll_to_working_day(first + timedelta(days=days)))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of ``days`` working days after the day of ``start`` ("5 个工作日").

        The day of ``start`` is not counted; the period ends at the close of work
        of the last working day.
        """
        day = start.astimezone(self.tz).date()
        counted = 0
        for _ in range(_MAX_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
                if counted >= days:
                    return _at(day, self.periods[-1][1], self.tz).astimezone(UTC)
        raise ValueError(f"{days} working days after {start.isoformat()} exceed {_MAX_DAYS} days")


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz)


def subtract(intervals: Iterable[Interval], holes: list[Interval]) -> Iterator[Interval]:
    """``intervals`` minus the ``holes`` (sorted, possibly open-ended pauses)."""
    for a, b in intervals:
        cursor = a
        for ha, hb in holes:
            if hb <= cursor or ha >= b:
                continue
            if ha > cursor:
                yield (cursor, ha)
            cursor = max(cursor, hb)
            if cursor >= b:
                break
        if cursor < b:
            yield (cursor, b)


def advance(intervals: Iterable[Interval], amount: timedelta, holes: list[Interval]) -> datetime:
    """The instant at which ``amount`` of countable time has passed along ``intervals`` minus ``holes``."""
    left = amount
    last: datetime | None = None
    for a, b in subtract(intervals, holes):
        last = a
        span = b - a
        if span >= left:
            return (a + left).astimezone(UTC)
        left -= span
    if last is None:
        raise ValueError("no countable time left (an open-ended pause covers the period)")
    raise ValueError("countable time ran out before the period ended")


def always(start: datetime) -> Iterator[Interval]:
    """The 24x7 clock: one interval from ``start`` on."""
    yield (start, datetime.max.replace(tzinfo=UTC))
