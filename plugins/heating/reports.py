"""Reports for the inspections (综合检查评比): 回复及时率 per station and person, complaint rate per station."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from kefu.api import Case
from kefu.plugins.heating import kinds, rules
from kefu.plugins.heating.config import Ctx
from kefu.plugins.heating.models import Household


def _answered_at(case: Case) -> datetime | None:
    """When the case was first answered: resolution, or the first staff reply/step event."""
    times = [
        e.at
        for e in case.events
        if e.type in ("reply", "replied", "staff_reply", "first_response") or e.to_state in ("resolved", "in_progress")
    ]
    if case.resolved_at:
        times.append(case.resolved_at)
    return min(times) if times else None


def _first_owner(case: Case) -> str | None:
    """The person the case was dispatched to (the one answerable for its timeliness)."""
    for e in case.events:
        if e.type == "assigned" and (e.data or {}).get("owner"):
            return str(e.data["owner"])
    return case.owner


def timeliness(ctx: Ctx, since: datetime, until: datetime, by: str) -> dict[str, tuple[int, int, float]]:
    """回复及时率 of customer cases opened in [since, until), grouped by station or person."""
    rows = []
    for case in ctx.db().scalars(
        select(Case).where(
            Case.kind.in_([ctx.kind(k) for k in kinds.CUSTOMER_KINDS]), Case.opened_at >= since, Case.opened_at < until
        )
    ):
        period = kinds.spec_of(ctx, case).resolve_within
        if period is None:
            continue
        rows.append(rules.TimelinessRow(case.unit, _first_owner(case), case.opened_at + period, _answered_at(case)))
    return rules.reply_timeliness(rows, "station" if by == "station" else "person")


def complaint_rates(ctx: Ctx, since: datetime, until: datetime) -> dict[str, tuple[int, int, float]]:
    """(complaints, households, complaints per 1,000 households) per station in [since, until)."""
    session = ctx.db()
    households = dict(session.execute(select(Household.station, func.count()).group_by(Household.station)).all())
    complaints = dict(
        session.execute(
            select(Case.unit, func.count())
            .where(
                Case.kind.in_([ctx.kind(k) for k in kinds.CUSTOMER_KINDS]),
                Case.opened_at >= since,
                Case.opened_at < until,
            )
            .group_by(Case.unit)
        ).all()
    )
    rates = rules.complaint_rate({k: v for k, v in complaints.items() if k}, households)
    return {st: (complaints.get(st, 0), households[st], rate) for st, rate in rates.items()}
