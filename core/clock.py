"""The one clock every deadline and job is computed from.

Logic never calls ``datetime.now()``: it takes a :class:`Clock` (or a ``now``
argument) so that tests and ``kefu simulate`` can move time.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """Return the system time in UTC."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to; for tests and simulation."""

    def __init__(self, start: datetime | str) -> None:
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime (e.g. '2026-11-02T09:00+08:00')")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the clock's current time."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move the clock forward by ``delta`` (or ``timedelta(**kwargs)``) and return the new time."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += step
            return self._now

    def set(self, when: datetime | str) -> datetime:
        """Jump to ``when`` (not earlier than now)."""
        if isinstance(when, str):
            when = datetime.fromisoformat(when)
        when = when.astimezone(UTC)
        with self._lock:
            if when < self._now:
                raise ValueError("time only moves forward")
            self._now = when
            return self._now


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as aware UTC; naive values (as SQLite returns them) are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
