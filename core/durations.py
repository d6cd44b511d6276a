"""Parsing of the durations a department writes in its config ("4h", "7d", "90m", "2h30m")."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """Parse ``"4h"``, ``"1d12h"``, ``"90m"``, ``"30s"`` or a number of seconds into a timedelta.

    Raises ValueError with the accepted forms when the text is not a duration.
    """
    if isinstance(text, timedelta):
        return text
    if isinstance(text, int | float):
        return timedelta(seconds=text)
    cleaned = text.strip().lower().replace(" ", "")
    pos = 0
    total = timedelta(0)
    for match in _PART.finditer(cleaned):
        if match.start() != pos:
            break
        total += timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
        pos = match.end()
    if pos != len(cleaned) or not cleaned:
        raise ValueError(f"{text!r} is not a duration; write e.g. '4h', '24h', '7d', '90m', '2h30m' or '30s'")
    return total


def format_duration(value: timedelta) -> str:
    """Format a timedelta the way config writes it ("1d4h", "30m")."""
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def _validate(value: Any) -> timedelta:
    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_validate), PlainSerializer(format_duration)]
"""A config field type that accepts "4h"-style strings."""
