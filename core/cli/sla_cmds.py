"""``kefu calendar show YEAR``, ``kefu simulate --until …`` and ``kefu report --period …``."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime

import click

from kefu.cli.appctx import emit, fail, json_option, obtain_app
from kefu.durations import parse_duration


@click.group()
def calendar() -> None:
    """The working-time calendar (statutory holidays, make-up working days)."""


@calendar.command("show")
@click.argument("year", type=int)
@json_option
@click.pass_context
def calendar_show(ctx: click.Context, year: int, as_json: bool) -> None:
    """Print every day off and every make-up working day of YEAR, and where the data came from."""
    from kefu.sla.deadlines import calendar_of

    app = obtain_app(ctx, check=False)
    cal = calendar_of(app)
    rows = [
        {
            "date": d.day.isoformat(),
            "weekday": "一二三四五六日"[d.day.weekday()],
            "status": "上班 (调休)" if d.working else "休息",
            "name": d.name or "",
            "source": d.source,
        }
        for d in cal.year_days(year)
    ]
    if as_json:
        click.echo(
            json.dumps({"year": year, "source": cal.source_note(year), "days": rows}, ensure_ascii=False, indent=1)
        )
        return
    click.echo(f"{year}: holiday data from {cal.source_note(year)}")
    if cal.source(year) == "none":
        click.echo(f"warning: no holiday data for {year}; add [calendar.years.{year}] to the config", err=True)
    emit(rows, False, ["date", "weekday", "status", "name"])


def parse_until(text: str, now: datetime, tz: object) -> datetime:
    """``+7d`` / ``+36h`` from now, or an ISO time (local zone if it has none)."""
    if re.fullmatch(r"\+\S+", text.strip()):
        return now + parse_duration(text.strip()[1:])
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo else value.replace(tzinfo=tz)  # type: ignore[arg-type]


# How the table names what would happen (the JSON keeps the recorded states).
SIMULATED_WHAT = {
    "cron:done": "cron: would fire",
    "cron:failed": "cron: would fail",
    "notify:staff": "would notify staff",
    "notify:customer": "would notify customer",
}


@click.command()
@click.option("--until", "until", required=True, help="an ISO time ('2026-11-09T09:00') or '+7d', '+36h'")
@json_option
@click.pass_context
def simulate(ctx: click.Context, until: str, as_json: bool) -> None:
    """Show every deadline step, escalation, reminder and cron firing until then; nothing is written or sent."""
    from kefu.sla.simulate import simulate as run

    app = obtain_app(ctx)
    try:
        end = parse_until(until, app.clock.now(), app.settings.tz)
    except ValueError as exc:
        fail(f"--until {until!r}: {exc}; write an ISO time or '+7d'")
        return
    if end <= app.clock.now():
        fail(f"--until {until!r} is not in the future")
    # The jobs run against a rolled-back transaction; their INFO lines ("cron job … ran") would
    # read as if they had run for real. Warnings still show; `kefu -v` shows everything.
    root = logging.getLogger()
    level = root.level
    if level > logging.DEBUG:
        root.setLevel(logging.WARNING)
    try:
        timeline = run(app, end)
    finally:
        root.setLevel(level)
    if as_json:
        click.echo(json.dumps(timeline, ensure_ascii=False, indent=1, default=str))
        return
    tz = app.settings.tz
    click.echo(
        f"simulated {app.clock.now().astimezone(tz):%Y-%m-%d %H:%M} → {end.astimezone(tz):%Y-%m-%d %H:%M} "
        f"({app.settings.kefu.timezone}); nothing was written or sent:"
    )
    emit(
        [{**e, "at": e["at"][:16], "what": SIMULATED_WHAT.get(e["what"], e["what"])} for e in timeline],
        False,
        ["at", "what", "case", "deadline", "level", "recipient", "channel", "template"],
    )


@click.command()
@click.option("--period", help="a month, e.g. 2026-11 (default: this month, in the site's time zone)")
@json_option
@click.pass_context
def report(ctx: click.Context, period: str | None, as_json: bool) -> None:
    """KPIs per plugin, unit and person for a month: closure, in-time, satisfaction, breaches, medians."""
    from kefu.sla.kpi import compute_kpis, month_bounds

    app = obtain_app(ctx)
    if period is None:
        period = f"{app.clock.now().astimezone(app.settings.tz):%Y-%m}"
    try:
        start, end = month_bounds(period, app.settings.tz)
    except ValueError as exc:
        fail(str(exc))
        return
    with app.sessions() as session:
        rows = compute_kpis(session, start, end, app.clock.now())
    if as_json:
        click.echo(json.dumps({"period": period, "rows": rows}, ensure_ascii=False, indent=1))
        return
    click.echo(f"period {period}:")
    emit(
        [
            {**r, **{k: _pct(r[k]) for k in ("closure_rate", "in_time_rate", "first_response_in_time_rate")}}
            for r in rows
        ],
        False,
        [
            "by",
            "group",
            "opened",
            "closed",
            "closure_rate",
            "in_time_rate",
            "first_response_in_time_rate",
            "satisfaction",
            "breaches",
            "median_first_response_h",
            "median_resolution_h",
        ],
    )


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.1f}%"


COMMANDS: list[click.Command] = [calendar, simulate, report]
