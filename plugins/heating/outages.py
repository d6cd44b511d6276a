"""停缓供: an outage of stations or buildings, SMS to every affected household at start and end.

Reported up the chain at once (层层上报, seed): the stations' people on duty, their
branch heads and the CS-centre head. The outage log counts events by cause group
(停水停电 / 设备故障管网渗漏).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from kefu.api import Case, Customer
from kefu.plugins.heating import kinds, rules
from kefu.plugins.heating.config import Ctx, HeatingConfig
from kefu.plugins.heating.models import Household, Outage
from kefu.plugins.heating.notify import case_context, customer_sms, tell_staff, tell_target


class OutageError(ValueError):
    """An outage command that cannot be carried out; the message says what to change."""


def affected(ctx: Ctx, stations: list[str], buildings: list[str]) -> list[tuple[Household, Customer]]:
    """Households of the named stations or buildings (a building is ``station/building`` or a bare name)."""
    conds: list[ColumnElement[bool]] = []
    if stations:
        conds.append(Household.station.in_(stations))
    for b in buildings:
        if "/" in b:
            st, bd = b.split("/", 1)
            conds.append((Household.station == st) & (Household.building == bd))
        else:
            conds.append(Household.building == b)
    if not conds:
        return []
    rows = (
        ctx.db()
        .execute(
            select(Household, Customer)
            .join(Customer, Customer.id == Household.customer_id)
            .where(or_(*conds))
            .order_by(Household.account)
        )
        .all()
    )
    return [(h, c) for h, c in rows]


def _chain_for(cfg: HeatingConfig, stations: list[str], ctx: Ctx) -> list[str]:
    people: list[str] = []
    for st in stations or [""]:
        for key in rules.escalation_chain(st or None, cfg):
            if key not in people:
                people.append(key)
    return people


def _sms_households(
    ctx: Ctx, case: Case, hit: list[tuple[Household, Customer]], rule: str, context: dict[str, Any]
) -> int:
    """One urgent SMS per affected household that can be texted, queued in bulk; how many were queued."""
    items = [
        item
        for hh, cust in hit
        if (item := customer_sms(case, cust, rule, f"{rule}.txt", {**context, "address": hh.address}, urgent=True))
        is not None
    ]
    return len(ctx.queue_many(items))


def start_outage(
    ctx: Ctx,
    *,
    stations: list[str],
    buildings: list[str],
    cause: str,
    note: str | None = None,
    actor: str = "staff",
    expected_end: str | None = None,
) -> tuple[Case, int]:
    """Open the outage case, SMS every affected household (urgent), report up the chain."""
    cfg = ctx.config
    unknown = [s for s in stations if cfg.stations and s not in cfg.stations]
    if unknown:
        raise OutageError(f"unknown station(s) {', '.join(unknown)}; known: {', '.join(sorted(cfg.stations))}")
    if not stations and not buildings:
        raise OutageError("name at least one --station or --building")
    hit = affected(ctx, stations, buildings)
    if not hit:
        raise OutageError("no household is in the named stations/buildings; check the names or import households")
    touched_stations = sorted({h.station for h, _ in hit})
    group = rules.outage_cause_group(cause)
    where = "、".join(stations + buildings)
    case = ctx.open_case(
        kind=kinds.OUTAGE,
        title=f"停缓供：{where}（{cause}）",
        unit=touched_stations[0],
        data={
            "stations": stations,
            "buildings": buildings,
            "cause": cause,
            "cause_group": group,
            "expected_end": expected_end,
            "note": note,
        },
        actor=actor,
        reason=note,
    )
    outage = Outage(
        case_id=case.id,
        cause=cause,
        cause_group=group,
        stations=stations,
        buildings=buildings,
        started_at=ctx.now(),
        households=len(hit),
        note=note,
    )
    ctx.db().add(outage)
    context = case_context(
        ctx,
        case,
        where=where,
        cause=cause,
        expected_end=expected_end or "",
        households=len(hit),
        cause_group=rules.CAUSE_GROUP_TITLES[group],
    )
    sent = _sms_households(ctx, case, hit, "outage_start", context)
    # 层层上报: everyone up the chain at once, not one level per breach.
    for target in _chain_for(cfg, touched_stations, ctx):
        tell_target(ctx, target, "outage_report", "outage_report", context, case=case, urgent=True)
    ctx.db().flush()
    return case, sent


def end_outage(ctx: Ctx, number: str, *, actor: str = "staff", note: str | None = None) -> tuple[Case, int]:
    """Restoration: SMS the same households (urgent), summary to the CS-centre head, case closed."""
    cfg = ctx.config
    case = ctx.find_case(number)
    if case is None or ctx.kind_of(case) != kinds.OUTAGE:
        raise OutageError(f"{number} is not an outage case; see `kefu heating outage log`")
    outage = ctx.db().scalars(select(Outage).where(Outage.case_id == case.id)).one()
    if outage.ended_at is not None:
        raise OutageError(f"{number} already ended at {outage.ended_at.astimezone(ctx.tz):%Y-%m-%d %H:%M}")
    outage.ended_at = ctx.now()
    hit = affected(ctx, list(outage.stations), list(outage.buildings))
    hours = round((outage.ended_at - outage.started_at).total_seconds() / 3600, 1)
    context = case_context(
        ctx,
        case,
        where="、".join([*outage.stations, *outage.buildings]),
        cause=outage.cause,
        households=outage.households,
        hours=hours,
        cause_group=rules.CAUSE_GROUP_TITLES[outage.cause_group],
    )
    sent = _sms_households(ctx, case, hit, "outage_end", context)
    if cfg.cs_centre_head:
        tell_staff(ctx, cfg.cs_centre_head, "outage_summary", "outage_summary", context, case=case, channels=("email",))
    ctx.record_event(case, "outage_ended", actor=actor, to_state="closed", reason=note or "恢复供热")
    return case, sent


def outage_log(ctx: Ctx) -> tuple[list[Outage], Counter[str]]:
    """Every outage, newest first, and the count per cause group."""
    rows = list(ctx.db().scalars(select(Outage).order_by(Outage.started_at.desc())))
    return rows, Counter(o.cause_group for o in rows)
