"""KPIs from case history, per plugin, unit and person, for a period; and the monthly mail.

For the cases opened in the period: 报事关闭率 (share resolved or closed by the
period's end, read from the history), 维修及时率 (share of resolution deadlines met in time), 回复及时率
(first-response deadlines met in time), the median hours to first response and to
resolution (read from the events), and the breach count; plus 维修满意度, the mean
score of the callback answers recorded in the period.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.context import app_of
from kefu.db.models import Case, CaseEvent, Deadline
from kefu.kinds import DONE_STATES

if TYPE_CHECKING:
    from kefu.context import PluginContext


def month_bounds(period: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """``"2026-11"`` → the first instants of that month and of the next, in ``tz``."""
    try:
        year, month = (int(p) for p in period.split("-"))
        first = date(year, month, 1)
    except ValueError as exc:
        raise ValueError(f"period {period!r} is not a month; write e.g. '2026-11'") from exc
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return datetime(first.year, first.month, 1, tzinfo=tz), datetime(nxt.year, nxt.month, 1, tzinfo=tz)


@dataclass
class _Tally:
    opened: int = 0
    closed: int = 0
    resolution: list[bool] = field(default_factory=list)
    first_response: list[bool] = field(default_factory=list)
    breaches: int = 0
    scores: list[int] = field(default_factory=list)
    to_first_response: list[float] = field(default_factory=list)
    to_resolution: list[float] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        def rate(hits: list[bool]) -> float | None:
            return round(sum(hits) / len(hits), 4) if hits else None

        def median(values: list[float]) -> float | None:
            return round(statistics.median(values), 2) if values else None

        return {
            "opened": self.opened,
            "closed": self.closed,
            "closure_rate": round(self.closed / self.opened, 4) if self.opened else None,
            "in_time_rate": rate(self.resolution),
            "first_response_in_time_rate": rate(self.first_response),
            "satisfaction": round(statistics.mean(self.scores), 2) if self.scores else None,
            "callbacks": len(self.scores),
            "breaches": self.breaches,
            "median_first_response_h": median(self.to_first_response),
            "median_resolution_h": median(self.to_resolution),
        }


def compute_kpis(session: Session, start: datetime, end: datetime, now: datetime) -> list[dict[str, Any]]:
    """One row per plugin, per (plugin, unit) and per (plugin, person) for cases of [start, end)."""
    tallies: dict[tuple[str, str, str], _Tally] = defaultdict(_Tally)
    cases = list(session.scalars(select(Case).where(Case.opened_at >= start, Case.opened_at < end)))
    by_id = {c.id: c for c in cases}
    limit = min(end, now)

    def groups(case: Case) -> list[tuple[str, str, str]]:
        out = [("plugin", case.plugin, case.plugin)]
        out.append(("unit", case.plugin, case.unit or "-"))
        out.append(("person", case.plugin, case.owner or "-"))
        return out

    events: dict[int, list[CaseEvent]] = defaultdict(list)
    if by_id:
        for ev in session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(by_id)).order_by(CaseEvent.id)):
            events[ev.case_id].append(ev)
        deadlines = list(session.scalars(select(Deadline).where(Deadline.case_id.in_(by_id))))
    else:
        deadlines = []
    for case in cases:
        history = events[case.id]
        first_reply = next((e.at for e in history if e.from_state == "new" and e.to_state), None)
        resolved = next((e.at for e in history if e.to_state in ("resolved", "closed")), None)
        # Closed by the period's end: the state the history shows at that instant (a case
        # resolved in the period and reopened after it still counts for the period).
        state_at_end = None
        for e in history:
            if e.to_state and e.at < end:
                state_at_end = e.to_state
        for key in groups(case):
            t = tallies[key]
            t.opened += 1
            t.closed += state_at_end in DONE_STATES
            if first_reply:
                t.to_first_response.append((first_reply - case.opened_at) / timedelta(hours=1))
            if resolved:
                t.to_resolution.append((resolved - case.opened_at) / timedelta(hours=1))
    for d in deadlines:
        case = by_id[d.case_id]
        due_passed = d.due_at <= limit
        in_time = d.met_at is not None and d.met_at <= d.due_at
        late = (d.met_at is not None and d.met_at > d.due_at) or (d.met_at is None and due_passed)
        decided = d.met_at is not None or due_passed
        for key in groups(case):
            t = tallies[key]
            if late and d.state != "cancelled":
                t.breaches += 1
            if decided and d.name in ("resolution", "first_response"):
                (t.resolution if d.name == "resolution" else t.first_response).append(in_time)
    for ev in session.scalars(
        select(CaseEvent).where(CaseEvent.type == "callback_answered", CaseEvent.at >= start, CaseEvent.at < end)
    ):
        answered = by_id.get(ev.case_id) or session.get(Case, ev.case_id)
        score = (ev.data or {}).get("score")
        if answered is None or not isinstance(score, int):
            continue
        for key in groups(answered):
            tallies[key].scores.append(score)
    rows = []
    for (by, plugin, group), tally in sorted(tallies.items()):
        rows.append(
            {"by": by, "plugin": plugin, "group": group if by == "plugin" else f"{plugin}/{group}", **tally.row()}
        )
    return rows


def _fmt(value: Any, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.1f}%" if percent else str(value)


def mail_monthly_report(ctx: PluginContext, fired_at: datetime) -> None:
    """Cron job: mail last month's KPIs to ``[sla] report_to`` (the core's ``kefu.sla.kpi_report``)."""
    from kefu.outbound.outbox import queue_message
    from kefu.sla.recipients import resolve

    app = app_of(ctx)
    tz = app.settings.tz
    local = fired_at.astimezone(tz)
    last = local.replace(day=1) - timedelta(days=1)
    period = f"{last.year:04d}-{last.month:02d}"
    start, end = month_bounds(period, tz)
    rows = compute_kpis(ctx.db(), start, end, fired_at)
    shown = [
        {
            "group": r["group"] if r["by"] == "plugin" else f"{r['by']} {r['group']}",
            "opened": r["opened"],
            "closure_rate": _fmt(r["closure_rate"], True),
            "in_time_rate": _fmt(r["in_time_rate"], True),
            "first_response_in_time_rate": _fmt(r["first_response_in_time_rate"], True),
            "satisfaction": _fmt(r["satisfaction"]),
            "breaches": r["breaches"],
            "median_first_response": _fmt(r["median_first_response_h"]) + " h",
            "median_resolution": _fmt(r["median_resolution_h"]) + " h",
        }
        for r in rows
    ]
    staff = app.settings.staff
    keys: list[str] = []
    for target in app.settings.sla.report_to:
        keys += [k for k in resolve(staff, target, fired_at, tz, session=ctx.db()) if k not in keys]
    for key in keys:
        person = staff.people[key]
        if not person.email:
            ctx.log.warning("KPI report: %s has no email address; not sent to them", key)
            continue
        queue_message(
            ctx,
            key=f"kpi/{period}/{key}/email",
            channel="email",
            audience="staff",
            recipient=person.email,
            recipient_name=person.name,
            template="core/kpi_report.txt",
            context={"period": period, "rows": shown},
        )
