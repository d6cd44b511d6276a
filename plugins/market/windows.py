"""A day's patrol windows, as pure time arithmetic (公安部令第61号 art. 25, the seed).

Each route is walked at opening (开门), every 2 h during business hours (日常), at
noon (午间), at closing (闭店: non-essential power off, no fire source left) and in
each night round (夜间, ≥ 2). A window lasts ``window`` (1 h default): every point of
the route must be checked in within it, or the point is missed (漏巡).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kefu.plugins.market.config import PatrolWindowsConfig


@dataclass(frozen=True)
class Window:
    """One window of one day: its label, start and end (aware)."""

    label: str
    starts_at: datetime
    ends_at: datetime


def _at(day: date, t: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, t, tzinfo=tz)


def windows_of(day: date, cfg: PatrolWindowsConfig, tz: ZoneInfo) -> list[Window]:
    """The windows that start on ``day`` (night rounds after midnight belong to the next day's date)."""
    opens, closes = _at(day, cfg.opens, tz), _at(day, cfg.closes, tz)
    starts: dict[datetime, str] = {opens: "opening"}
    at = opens + cfg.every
    while at < closes:
        starts.setdefault(at, "regular")
        at += cfg.every
    starts[_at(day, cfg.noon, tz)] = "noon"
    starts[closes] = "closing"
    for t in cfg.night:
        starts.setdefault(_at(day, t, tz), "night")
    return [Window(label, start, start + cfg.window) for start, label in sorted(starts.items())]


def closed_between(since: datetime, until: datetime, cfg: PatrolWindowsConfig, tz: ZoneInfo) -> list[Window]:
    """Windows that ended in ``(since, until]``, in order."""
    first = since.astimezone(tz).date() - timedelta(days=1)
    out: list[Window] = []
    day = first
    while day <= until.astimezone(tz).date():
        out.extend(w for w in windows_of(day, cfg, tz) if since < w.ends_at <= until)
        day += timedelta(days=1)
    return out


DEPUTY = "deputy"


def deputy_windows(day: date, cfg: PatrolWindowsConfig, tz: ZoneInfo) -> list[Window]:
    """The duty deputy manager's hours of ``day``: business hours cut into ``deputy_every`` slices."""
    out: list[Window] = []
    at, closes = _at(day, cfg.opens, tz), _at(day, cfg.closes, tz)
    while at < closes:
        out.append(Window(DEPUTY, at, min(at + cfg.deputy_every, closes)))
        at += cfg.deputy_every
    return out


def deputy_closed_between(since: datetime, until: datetime, cfg: PatrolWindowsConfig, tz: ZoneInfo) -> list[Window]:
    """The deputy's hours that ended in ``(since, until]``, in order."""
    out: list[Window] = []
    day = since.astimezone(tz).date()
    while day <= until.astimezone(tz).date():
        out.extend(w for w in deputy_windows(day, cfg, tz) if since < w.ends_at <= until)
        day += timedelta(days=1)
    return out
