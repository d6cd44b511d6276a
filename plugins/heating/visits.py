"""包保走访: weekly and monthly checks of each station's visits, escalation and the monthly summary."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from kefu.plugins.heating import kinds, rules
from kefu.plugins.heating.config import Ctx
from kefu.plugins.heating.models import Visit
from kefu.plugins.heating.notify import case_context, tell_staff


def _visits(ctx: Ctx, start: date, end: date) -> list[rules.Visit]:
    rows = ctx.db().scalars(select(Visit).where(Visit.visited_on >= start, Visit.visited_on < end))
    return [rules.Visit(v.station, v.visited_on, v.account or None, v.far_end) for v in rows]


def _escalate(ctx: Ctx, station: str, period: str, reasons: list[str]) -> None:
    cfg = ctx.config
    st = cfg.stations[station]
    branch = cfg.branches.get(st.branch)
    owner = branch.head if branch else cfg.cs_centre_head
    case = ctx.open_case(
        kind=kinds.VISIT_SHORTFALL,
        title=f"包保走访不足：{st.name} {period}",
        unit=station,
        owner=owner,
        data={"station": station, "period": period, "reasons": reasons, "responsible": st.responsible},
        reason="；".join(reasons),
    )
    context = case_context(ctx, case, period=period, reasons=reasons, station=st.name)
    for person in {owner, st.responsible} - {None}:
        tell_staff(ctx, str(person), "visit_shortfall", "visit_shortfall", context, case=case, channels=("email",))


def weekly_check(ctx: Ctx, today: date) -> dict[str, str]:
    """Check the last full week (Mon–Sun before ``today``); a missed week escalates to the branch."""
    cfg = ctx.config
    week_start = today - timedelta(days=today.weekday() + 7)
    short = rules.week_shortfalls(
        _visits(ctx, week_start, week_start + timedelta(days=7)), cfg.stations, week_start, cfg.visits.per_week
    )
    for station, reason in short.items():
        _escalate(ctx, station, f"{week_start:%Y-%m-%d} 当周", [reason])
    return short


def midweek_reminder(ctx: Ctx, today: date) -> list[str]:
    """Remind the responsible person of each station not yet visited this week."""
    cfg = ctx.config
    week_start = today - timedelta(days=today.weekday())
    short = rules.week_shortfalls(
        _visits(ctx, week_start, today + timedelta(days=1)), cfg.stations, week_start, cfg.visits.per_week
    )
    reminded = []
    for station in short:
        who = cfg.stations[station].responsible
        if who:
            tell_staff(
                ctx,
                who,
                "visit_reminder",
                "visit_reminder",
                {"station": cfg.stations[station].name, "week": f"{week_start:%Y-%m-%d}", "site_name": ctx.site_name},
                scope=f"{ctx.name}/visits/{week_start.isoformat()}/{station}",
                channels=("sms",),
            )
            reminded.append(station)
    return reminded


def monthly_check(ctx: Ctx, today: date) -> dict[str, list[str]]:
    """Check last month's visits and far-end households; escalate shortfalls; mail the summary."""
    cfg = ctx.config
    month_start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    month_end = today.replace(day=1)
    visits = _visits(ctx, month_start, month_end)
    short = rules.month_shortfalls(
        visits, cfg.stations, month_start, cfg.visits.per_month, cfg.visits.far_end_households
    )
    period = f"{month_start:%Y-%m}"
    for station, reasons in short.items():
        _escalate(ctx, station, period, reasons)
    summary = [
        {
            "station": cfg.stations[s].name,
            "visits": sum(1 for v in visits if v.station == s),
            "far_end": len({v.account for v in visits if v.station == s and v.far_end}),
            "short": "；".join(short.get(s, [])) or "达标",
        }
        for s in cfg.stations
    ]
    heads = {b.head for b in cfg.branches.values()} | ({cfg.cs_centre_head} if cfg.cs_centre_head else set())
    for head in sorted(heads):
        tell_staff(
            ctx,
            head,
            "visit_summary",
            "visit_summary",
            {
                "period": period,
                "rows": summary,
                "site_name": ctx.site_name,
                "per_week": cfg.visits.per_week,
                "per_month": cfg.visits.per_month,
                "far_end_households": cfg.visits.far_end_households,
            },
            scope=f"{ctx.name}/visits/{period}",
            channels=("email",),
        )
    return short
