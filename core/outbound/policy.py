"""Pure rules of sending: customers' quiet hours, retry backoff, per-channel pacing."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from kefu.senders.config import RetrySettings


def quiet_until(now: datetime, start: time, end: time, tz: ZoneInfo) -> datetime | None:
    """When the quiet window containing ``now`` ends (aware UTC), or None outside the window.

    A window like 21:00–08:00 crosses midnight; one like 12:00–14:00 does not.
    ``start == end`` means no quiet hours.
    """
    if start == end:
        return None
    local = now.astimezone(tz)
    t = local.time()
    day = local.date()
    if start > end:  # crosses midnight
        if t >= start:
            ends = datetime.combine(day + timedelta(days=1), end, tz)
        elif t < end:
            ends = datetime.combine(day, end, tz)
        else:
            return None
    elif start <= t < end:
        ends = datetime.combine(day, end, tz)
    else:
        return None
    return ends.astimezone(now.tzinfo)


def retry_delay(attempts: int, retry: RetrySettings, rand: Callable[[], float] = random.random) -> timedelta:
    """The wait before attempt ``attempts + 1``: doubling from ``first_delay``, capped, ± jitter."""
    base = min(retry.max_delay, retry.first_delay * (2 ** max(attempts - 1, 0)))
    spread = (rand() * 2 - 1) * retry.jitter  # uniform in [-jitter, +jitter]
    return base * (1 + spread)


@dataclass
class Pacer:
    """Paces sends on one channel at ``per_second``, allowing one second's burst (a GCRA).

    A row that may not go yet is held in the queue until ``wait`` has passed (rate
    limits are honoured by queueing, never by dropping).
    """

    per_second: float
    next_free: datetime | None = field(default=None)

    def wait(self, now: datetime) -> timedelta:
        """How long until a message may go (zero while the channel is within its rate)."""
        interval = timedelta(seconds=1 / self.per_second)
        tolerance = interval * (max(self.per_second, 1) - 1)  # a burst of one second's worth
        if self.next_free is None or self.next_free - now <= tolerance:
            return timedelta(0)
        return self.next_free - now - tolerance

    def take(self, at: datetime) -> None:
        """Record a message sent at ``at``."""
        interval = timedelta(seconds=1 / self.per_second)
        start = at if self.next_free is None or self.next_free <= at else self.next_free
        self.next_free = start + interval
