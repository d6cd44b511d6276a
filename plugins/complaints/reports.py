"""Monthly figures from case history: repair KPIs, the engineer scorecard, the defect report.

KPIs (seed 维修管理岗 a) over the repairs opened in a month: 报事关闭率 (closed /
opened), 维修及时率 (closed by the closure deadline / closed), 维修满意度 (mean
callback score), per project and per engineer. The scorecard is the per-engineer
half, in the shape the hr plugin reads (``engineer_scorecard``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.api import Case, Deadline
from kefu.plugins.complaints import kinds, rules


def _month_utc(period: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    first, nxt = rules.month_bounds(period)
    return datetime.combine(first, time(0), tz), datetime.combine(nxt, time(0), tz)


def _repairs(session: Session, period: str, tz: ZoneInfo, plugin: str) -> list[tuple[Case, bool]]:
    start, end = _month_utc(period, tz)
    cases = list(
        session.scalars(
            select(Case).where(
                Case.kind.like(f"{plugin}.{kinds.REPAIR}%"), Case.opened_at >= start, Case.opened_at < end
            )
        )
    )
    closure: dict[int, datetime] = {}
    if cases:
        # The first round's closure deadline is the promise the KPI measures against.
        for d in session.scalars(
            select(Deadline).where(
                Deadline.case_id.in_([c.id for c in cases]), Deadline.name == "resolution", Deadline.round == 1
            )
        ):
            closure[d.case_id] = d.due_at
    out = []
    for case in cases:
        done = case.data.get("first_resolved_at") or (case.resolved_at.isoformat() if case.resolved_at else None)
        in_time = done is not None and case.id in closure and datetime.fromisoformat(done) <= closure[case.id]
        out.append((case, in_time))
    return out


def _closed(case: Case) -> bool:
    return case.resolved_at is not None or case.state in ("resolved", "callback", "closed")


def kpi_rows(session: Session, period: str, tz: ZoneInfo, plugin: str = kinds.PACKAGE) -> list[dict[str, Any]]:
    """One row per project and per engineer with the three KPIs for month ``period`` of ``plugin``."""
    groups: dict[tuple[str, str], list[tuple[bool, bool, int | None]]] = defaultdict(list)
    for case, in_time in _repairs(session, period, tz, plugin):
        fact = (_closed(case), in_time, case.satisfaction)
        groups[("project", case.unit or "-")].append(fact)
        groups[("engineer", case.owner or "-")].append(fact)
    rows = []
    for (scope, name), facts in sorted(groups.items()):
        k = rules.kpi(facts)
        rows.append(
            {
                "period": period,
                "scope": scope,
                "name": name,
                "opened": k.opened,
                "closed": k.closed,
                "closed_in_time": k.closed_in_time,
                "closure_rate": _pct(k.closure_rate),
                "timeliness": _pct(k.timeliness),
                "satisfaction": f"{k.satisfaction:.2f}" if k.satisfaction is not None else "-",
            }
        )
    return rows


def engineer_scorecard(
    session: Session, period: str, tz: ZoneInfo, plugin: str = kinds.PACKAGE
) -> list[dict[str, Any]]:
    """The per-engineer KPIs of ``period`` (for the hr plugin's monthly assessment)."""
    return [r for r in kpi_rows(session, period, tz, plugin) if r["scope"] == "engineer"]


def defect_rows(session: Session, period: str, tz: ZoneInfo, plugin: str = kinds.PACKAGE) -> list[dict[str, Any]]:
    """Cases resolved in ``period`` and flagged as defects, grouped by project, trade and cause."""
    start, end = _month_utc(period, tz)
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for case in session.scalars(
        select(Case).where(Case.plugin == plugin, Case.resolved_at >= start, Case.resolved_at < end)
    ):
        defect = case.data.get("defect")
        if not defect:
            continue
        groups[(case.unit or "-", defect.get("trade", "其他"), defect.get("cause", "未填写"))].append(case.number)
    return [
        {"project": p, "trade": t, "cause": c, "count": len(numbers), "cases": ", ".join(sorted(numbers))}
        for (p, t, c), numbers in sorted(groups.items())
    ]


def _pct(value: float | None) -> str:
    return f"{value * 100:.1f}%" if value is not None else "-"
