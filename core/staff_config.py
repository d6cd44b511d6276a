"""``[staff]``: people, roles and duty rotas (值班表) that escalations are sent to.

A role lists people (``zhang``) or rotas (``rota:heating-night``). A rota is a
weekly pattern of shifts; dated shifts imported into the ``rota_shifts`` table
(e.g. by the hr plugin) take precedence over the pattern for the time they cover::

    [staff.rotas.station-S01]
    fallback = ["wang"]
    shifts = [
      { who = "zhang", days = "mon-fri", start = "08:00", end = "20:00" },
      { who = "li",    days = "daily",   start = "20:00", end = "08:00" },   # overnight
    ]
"""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kefu.phones import OptionalPhone

_DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def parse_days(text: str) -> frozenset[int]:
    """``"mon-fri"``, ``"sat,sun"``, ``"daily"`` → weekday numbers (Monday 0)."""
    cleaned = text.strip().lower()
    if cleaned in ("daily", "*", "all"):
        return frozenset(range(7))
    out: set[int] = set()
    for part in cleaned.split(","):
        part = part.strip()
        if "-" in part:
            first, last = (p.strip() for p in part.split("-", 1))
            if first not in _DAY_NAMES or last not in _DAY_NAMES:
                raise ValueError(f"{text!r}: write days as 'mon-fri', 'sat,sun' or 'daily'")
            a, b = _DAY_NAMES.index(first), _DAY_NAMES.index(last)
            out.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        elif part in _DAY_NAMES:
            out.add(_DAY_NAMES.index(part))
        else:
            raise ValueError(f"{text!r}: write days as 'mon-fri', 'sat,sun' or 'daily'")
    return frozenset(out)


class Person(BaseModel):
    """One member of staff; reached by email, SMS or both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    email: str | None = None
    phone: OptionalPhone = None


class RotaShift(BaseModel):
    """A weekly shift: ``who`` is on duty on ``days`` from ``start`` to ``end`` (overnight if end ≤ start)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    who: str
    days: str = "daily"
    start: str = "00:00"
    end: str = "00:00"

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        parse_days(value)
        return value

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a time of day; write e.g. '08:00'") from exc
        return value


class Rota(BaseModel):
    """A duty rota: weekly shifts, and who is called when nobody's shift covers the time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shifts: list[RotaShift] = Field(default_factory=list)
    fallback: list[str] = Field(default_factory=list)


CONSOLE_ROLES = ("admin", "head", "agent", "duty", "self")


class Access(BaseModel):
    """What one person may see and do in the staff console (``[staff.access.<key>]``).

    ``role``: ``admin`` (everything, and /healthz), ``head`` (everything of their
    ``plugins``, and /healthz), ``agent`` (cases of their plugins and ``units``),
    ``duty`` (a station's or floor's duty staff: their units' cases, the customer's
    number masked), ``self`` (an employee: no case at all, only their plugins' pages,
    whose personal tables show their own records, e.g. hr's attendance). ``units``
    are the cases' units (project, station, floor, shop); empty means every unit of
    the plugins. ``plugins`` empty means every plugin.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str = "agent"
    plugins: list[str] = Field(default_factory=list)
    units: list[str] = Field(default_factory=list)
    see_customer: bool | None = Field(default=None, description="unmasked customer data; default by role")

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in CONSOLE_ROLES:
            raise ValueError(f"unknown console role {value!r}; expected one of {', '.join(CONSOLE_ROLES)}")
        return value


class StaffSection(BaseModel):
    """All staff by key, roles naming people or rotas, the rotas themselves, and console access."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    people: dict[str, Person] = Field(default_factory=dict)
    roles: dict[str, list[str]] = Field(default_factory=dict)
    rotas: dict[str, Rota] = Field(default_factory=dict)
    access: dict[str, Access] = Field(default_factory=dict)

    def problems(self) -> list[str]:
        """References to people or rotas that are not configured (checked at start)."""
        found = []
        for role, members in self.roles.items():
            for member in members:
                if member.startswith("rota:"):
                    rota_name = member[5:]
                    if "{" not in rota_name and rota_name not in self.rotas:
                        found.append(f"staff.roles.{role}: unknown rota {rota_name!r}")
                elif member not in self.people:
                    found.append(f"staff.roles.{role}: unknown person {member!r}")
        for name, rota in self.rotas.items():
            for i, shift in enumerate(rota.shifts):
                if shift.who not in self.people:
                    found.append(f"staff.rotas.{name}.shifts.{i}.who: unknown person {shift.who!r}")
            for who in rota.fallback:
                if who not in self.people:
                    found.append(f"staff.rotas.{name}.fallback: unknown person {who!r}")
        for key in self.access:
            if key not in self.people:
                found.append(f"staff.access.{key}: unknown person {key!r} (add them to [staff.people])")
        return found
