"""The dashboard: the KPIs ``kefu report`` prints (:func:`kefu.sla.kpi.compute_kpis`), as tables and SVG.

报事关闭率 (closure_rate), 维修及时率 (in_time_rate), 维修满意度 (satisfaction) and
回复及时率 (first_response_in_time_rate) per plugin, unit and person for a month,
limited to the viewer's scope; the /healthz checks at the top for heads and admins.
The charts are drawn on the server as SVG: no chart library, nothing from outside.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from kefu.console.access import Viewer
from kefu.health import health_report
from kefu.sla.kpi import compute_kpis, month_bounds

if TYPE_CHECKING:
    from kefu.console.web import Console

METRICS: dict[str, tuple[str, bool]] = {
    "closure_rate": ("报事关闭率", True),
    "in_time_rate": ("维修及时率", True),
    "satisfaction": ("维修满意度", False),
    "first_response_in_time_rate": ("回复及时率", True),
}


def _in_scope(row: dict[str, Any], viewer: Viewer) -> bool:
    if not viewer.may_use(row["plugin"]):
        return False
    if viewer.is_head or not viewer.units:
        return True
    # A unit-scoped person sees their units' rows and their own, not the plugin's totals.
    name = row["group"].split("/", 1)[-1]
    return (row["by"] == "unit" and name in viewer.units) or (row["by"] == "person" and name == viewer.key)


def dashboard_data(console: Console, viewer: Viewer, period: str | None) -> dict[str, Any]:
    """The rows, the month, the months around it, and the health summary (heads and admins)."""
    app = console.app
    now = app.clock.now()
    local = now.astimezone(app.settings.tz)
    if not period:
        period = f"{local:%Y-%m}"
    try:
        start, end = month_bounds(period, app.settings.tz)
    except ValueError:
        period = f"{local:%Y-%m}"
        start, end = month_bounds(period, app.settings.tz)
    with app.sessions() as session:
        rows = [r for r in compute_kpis(session, start, end, now) if _in_scope(r, viewer)]
    year, month = int(period[:4]), int(period[5:7])
    prev = f"{year - (month == 1):04d}-{12 if month == 1 else month - 1:02d}"
    nxt = f"{year + (month == 12):04d}-{1 if month == 12 else month + 1:02d}"
    health = health_report(app) if viewer.is_head else None
    for row in rows:
        row["shown"] = {m: _fmt(row[m], pct) for m, (_label, pct) in METRICS.items()}
    return {"period": period, "prev": prev, "next": nxt, "rows": rows, "metrics": METRICS, "health": health}


def _fmt(value: float | None, percent: bool) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.1f}%" if percent else f"{value:.2f}"


def chart_svg(rows: list[dict[str, Any]], metric: str, by: str) -> str:
    """A horizontal bar chart of ``metric`` for the rows grouped ``by`` (plugin, unit, person)."""
    label, percent = METRICS.get(metric, (metric, True))
    shown = [r for r in rows if r["by"] == by and r.get(metric) is not None][:30]
    top = 1.0 if percent else 5.0
    width, bar_h, left = 560, 22, 170
    height = 34 + bar_h * max(len(shown), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}" font-family="sans-serif" font-size="13">',
        f'<text x="4" y="18" font-weight="bold">{escape(label)}</text>',
    ]
    if not shown:
        parts.append('<text x="4" y="44" fill="#666">本月暂无数据</text>')
    for i, row in enumerate(shown):
        value = float(row[metric])
        y = 28 + i * bar_h
        w = max(int((width - left - 60) * min(value / top, 1.0)), 1)
        text = f"{value * 100:.1f}%" if percent else f"{value:.2f}"
        color = (
            "#2e7d32"
            if value >= (0.9 if percent else 4)
            else "#f9a825"
            if value >= (0.7 if percent else 3)
            else "#c62828"
        )
        parts += [
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{escape(str(row["group"]))[:24]}</text>',
            f'<rect x="{left}" y="{y + 3}" width="{w}" height="{bar_h - 6}" fill="{color}"/>',
            f'<text x="{left + w + 4}" y="{y + 15}">{text}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)
