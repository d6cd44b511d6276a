"""Who a chain level means at a given time: roles, people and duty rotas (值班表).

Pure except for the dated shifts, which are read from ``rota_shifts`` when a
session is given.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import RotaShift
from kefu.staff_config import Rota, StaffSection, parse_days


class UnknownRecipient(LookupError):
    """A chain level names no configured role, person or rota."""


def fill_unit(target: str, unit: str | None) -> str:
    """Replace ``{unit}`` in a chain target with the case's unit (``rota:station-{unit}``)."""
    return target.replace("{unit}", unit or "") if "{unit}" in target else target


def on_duty_by_pattern(rota: Rota, when: datetime, tz: ZoneInfo) -> list[str]:
    """Who the rota's weekly pattern puts on duty at ``when``; overnight shifts belong to their start day."""
    local = when.astimezone(tz)
    found: list[str] = []
    for shift in rota.shifts:
        days = parse_days(shift.days)
        start, end = time.fromisoformat(shift.start), time.fromisoformat(shift.end)
        for offset in (0, 1):  # today's shift, or yesterday's overnight shift still running
            day = local.date() - timedelta(days=offset)
            if day.weekday() not in days:
                continue
            begins = datetime.combine(day, start, tzinfo=tz)
            ends = datetime.combine(day if end > start else day + timedelta(days=1), end, tzinfo=tz)
            if begins <= local < ends and shift.who not in found:
                found.append(shift.who)
    return found


def on_duty(
    staff: StaffSection, rota_name: str, when: datetime, tz: ZoneInfo, session: Session | None = None
) -> list[str]:
    """Who is on duty for ``rota_name`` at ``when``: dated shifts first, then the pattern, then the fallback."""
    if session is not None:
        dated = list(
            session.scalars(
                select(RotaShift.staff_key)
                .where(RotaShift.rota == rota_name, RotaShift.starts_at <= when, RotaShift.ends_at > when)
                .order_by(RotaShift.starts_at)
            )
        )
        if dated:
            return list(dict.fromkeys(dated))
    rota = staff.rotas.get(rota_name)
    if rota is None:
        if (
            session is not None
            and session.scalar(select(RotaShift.id).where(RotaShift.rota == rota_name).limit(1)) is not None
        ):
            return []  # a rota known only from imported shifts, with nobody on now
        raise UnknownRecipient(f"rota {rota_name!r} is neither in [staff.rotas] nor imported")
    return on_duty_by_pattern(rota, when, tz) or list(rota.fallback)


def resolve(
    staff: StaffSection,
    target: str,
    when: datetime,
    tz: ZoneInfo,
    *,
    unit: str | None = None,
    session: Session | None = None,
) -> list[str]:
    """The staff keys ``target`` (role, person, ``rota:NAME``) means at ``when``, in order, without repeats."""
    target = fill_unit(target, unit)
    if target.startswith("rota:"):
        return on_duty(staff, target[5:], when, tz, session)
    if target in staff.roles:
        out: list[str] = []
        for member in staff.roles[target]:
            for key in resolve(staff, member, when, tz, unit=unit, session=session):
                if key not in out:
                    out.append(key)
        return out
    if target in staff.people:
        return [target]
    raise UnknownRecipient(f"{target!r} is no role in [staff.roles], person in [staff.people] or 'rota:NAME'")


def check_target(staff: StaffSection, target: str) -> str | None:
    """A problem with chain target ``target`` (None if fine); ``{unit}`` targets are checked by shape only."""
    if "{unit}" in target:
        return None
    if target.startswith("rota:"):
        return None if target[5:] in staff.rotas else f"unknown rota {target[5:]!r} (add [staff.rotas.{target[5:]}])"
    if target in staff.roles or target in staff.people:
        return None
    return f"unknown role or person {target!r} (add it to [staff.roles] or [staff.people])"
