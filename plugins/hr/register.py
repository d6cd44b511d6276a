"""The register: who works here, in which department, under whom, on which shift.

One list from two places: ``[hr.employees]`` in config and the imported register
(``hr_employees``, which wins for a key both name). A key is a staff key: contact
details missing from the register come from ``[staff.people]``, so a person the
other plugins escalate to is the same person on the attendance sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from kefu.plugins.hr.config import Ctx, ShiftConfig
from kefu.plugins.hr.models import Employee


@dataclass(frozen=True)
class Person:
    """One employee as the rules see them."""

    key: str
    number: str
    name: str
    department: str
    manager: str
    shift: str
    salary: Decimal
    hired: date | None
    left: date | None
    phone: str | None
    email: str | None

    def works_on(self, day: date) -> bool:
        """Employed on ``day`` (from hiring to leaving)."""
        return (self.hired is None or self.hired <= day) and (self.left is None or day <= self.left)


def register(ctx: Ctx) -> dict[str, Person]:
    """Every employee by key, config first, then the imported register over it."""
    cfg = ctx.config
    raw: dict[str, dict[str, object]] = {}
    for key, e in cfg.employees.items():
        raw[key] = e.model_dump()
    for row in ctx.db().scalars(select(Employee)):
        raw[row.key] = {
            "name": row.name,
            "number": row.number,
            "department": row.department,
            "manager": row.manager,
            "shift": row.shift,
            "salary": row.salary,
            "hired": row.hired,
            "left": row.left,
            "phone": row.phone,
            "email": row.email,
        }
    out: dict[str, Person] = {}
    for key, v in raw.items():
        staff = ctx.person(key)
        dept = cfg.departments.get(str(v.get("department") or ""))
        manager = str(v.get("manager") or "")
        if not manager and dept is not None and dept.manager != key:
            manager = dept.manager
        if not manager and cfg.sheet.approver != key:
            manager = cfg.sheet.approver  # a department head answers to whoever approves the sheet
        out[key] = Person(
            key=key,
            number=str(v.get("number") or key),
            name=str(v.get("name") or (staff.name if staff else key)),
            department=str(v.get("department") or ""),
            manager=manager,
            shift=str(v.get("shift") or (dept.shift if dept else "default")),
            salary=Decimal(str(v.get("salary") or 0)),
            hired=v.get("hired"),  # type: ignore[arg-type]
            left=v.get("left"),  # type: ignore[arg-type]
            phone=str(v.get("phone")) if v.get("phone") else (staff.phone if staff else None),
            email=str(v.get("email")) if v.get("email") else (staff.email if staff else None),
        )
    return out


def by_number(people: dict[str, Person]) -> dict[str, str]:
    """工号 (and the key itself) → key, for matching punches."""
    out = {p.key: p.key for p in people.values()}
    out.update({p.number: p.key for p in people.values()})
    return out


def shift_of(ctx: Ctx, person: Person) -> ShiftConfig:
    """The person's shift (the default shift if the key is unknown)."""
    shifts = ctx.config.shifts
    return shifts.get(person.shift) or shifts.get("default") or ShiftConfig()
