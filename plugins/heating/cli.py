"""``kefu heating …``: imports, outages, callbacks, fees and 关栓, visits, reports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import click

from kefu.api import command_context, emit, json_option
from kefu.api.imports import ImportFileError, ImportReport, import_options, show_report
from kefu.plugins.heating import (
    customer_cases,
    fees,
    imports,
    outages,
    reports,
    rules,
    visits,
)
from kefu.plugins.heating.config import Ctx


@contextmanager
def _ctx() -> Iterator[Ctx]:
    """The heating plugin's context in one transaction (committed when the command succeeds)."""
    with command_context(__name__).transaction() as ctx:
        yield ctx


def _today(ctx: Ctx, given: str | None) -> date:
    return date.fromisoformat(given) if given else ctx.local_now().date()


@click.group()
def heating() -> None:
    """District heating hotline (供暖客服): imports, outages, callbacks, fees, visits, reports."""


# ------------------------------------------------------------------ imports

_IMPORTS: dict[str, Callable[..., ImportReport]] = {
    "households": imports.import_households,
    "fees": imports.import_fees,
    "measurements": imports.import_measurements,
    "visits": imports.import_visits,
    "coal": imports.import_coal_lab,
    "audit": imports.import_audit,
}


@heating.command("import")
@click.argument("what", type=click.Choice(sorted(_IMPORTS)))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@import_options
def import_cmd(what: str, file: Path, dry_run: bool, as_json: bool) -> None:
    """Import a CSV (UTF-8 or GB18030) or XLSX: households, fees, measurements, visits, coal, audit.

    Re-importing the same file changes nothing; bad rows are listed by line and the
    good rows are still imported.

    \b
    Exit status: 0 all rows imported; 1 nothing imported (unreadable file, bad
    header); 2 partial success (good rows imported, bad rows listed by line).
    """
    try:
        with _ctx() as ctx:
            report = _IMPORTS[what](ctx, file, dry_run=dry_run)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    show_report(report, as_json)


# ------------------------------------------------------------------ outages


@heating.group("outage")
def outage() -> None:
    """停缓供: start, end and the log of outages."""


@outage.command("start")
@click.option("--station", "stations", multiple=True, help="station key (repeatable)")
@click.option("--building", "buildings", multiple=True, help="building, or STATION/BUILDING (repeatable)")
@click.option("--cause", required=True, help="停水, 停电, 设备故障, 管网渗漏 or free text")
@click.option("--expected-end", default=None, help="when heat is expected back (told to households)")
@click.option("--note", default=None)
def outage_start(
    stations: tuple[str, ...], buildings: tuple[str, ...], cause: str, expected_end: str | None, note: str | None
) -> None:
    """Open an outage: SMS to every affected household, report up the chain."""
    try:
        with _ctx() as ctx:
            case, sent = outages.start_outage(
                ctx,
                stations=list(stations),
                buildings=list(buildings),
                cause=cause,
                note=note,
                expected_end=expected_end,
            )
            number, households = case.number, (case.data or {})
    except outages.OutageError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{number}: outage started ({households.get('cause')}); {sent} households texted")


@outage.command("end")
@click.argument("case_number")
@click.option("--note", default=None)
def outage_end(case_number: str, note: str | None) -> None:
    """Restore heat: SMS the same households, summary to the CS-centre head, case closed."""
    try:
        with _ctx() as ctx:
            case, sent = outages.end_outage(ctx, case_number, note=note)
            number = case.number
    except outages.OutageError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{number}: outage ended; {sent} households texted")


@outage.command("log")
@json_option
def outage_log(as_json: bool) -> None:
    """Every outage with its cause, households and span; counts by cause group at the end."""
    with _ctx() as ctx:
        rows, counts = outages.outage_log(ctx)
        out = [
            {
                "started": o.started_at.astimezone(ctx.tz),
                "ended": o.ended_at.astimezone(ctx.tz) if o.ended_at else None,
                "cause": o.cause,
                "group": rules.CAUSE_GROUP_TITLES[o.cause_group],
                "households": o.households,
                "where": "、".join([*o.stations, *o.buildings]),
            }
            for o in rows
        ]
    emit(out, as_json)
    if not as_json:
        click.echo(
            f"total {len(rows)}: " + ", ".join(f"{rules.CAUSE_GROUP_TITLES[g]} {n}" for g, n in sorted(counts.items()))
        )


# ------------------------------------------------------------------ callbacks


@heating.command("callbacks")
@json_option
def callbacks(as_json: bool) -> None:
    """The phone-callback list: resolved cases whose callback SMS got no answer in time."""
    with _ctx() as ctx:
        rows = [
            {
                "case": c.number,
                "title": c.title,
                "station": c.unit,
                "asked": cb.asked_at.astimezone(ctx.tz),
                "account": (c.data or {}).get("account"),
            }
            for c, cb in customer_cases.phone_list(ctx)
        ]
    emit(rows, as_json)


@heating.command("callback")
@click.argument("case_number")
@click.argument("answer")
@click.option("--by", "actor", default="staff", help="who made the phone call (staff key)")
def callback(case_number: str, answer: str, actor: str) -> None:
    """Record the answer of a phone callback: 满意/1 closes the case, 不满意/2 reopens it."""
    with _ctx() as ctx:
        case = ctx.find_case(case_number)
        if case is None:
            raise click.ClickException(f"no case {case_number}")
        verdict = customer_cases.answer_callback(ctx, case, answer, actor=actor)
        state = case.state
    if verdict is None:
        raise click.ClickException(f"{case_number}: no callback waiting, or {answer!r} is neither 满意 nor 不满意")
    click.echo(f"{case_number}: {'满意' if verdict else '不满意'} → {state}")


# ------------------------------------------------------------------ fees and 关栓


@heating.group("fees")
def fees_group() -> None:
    """采暖费: reminder campaigns and the non-payer list."""


@fees_group.command("remind")
@click.option("--date", "on", default=None, help="campaign day (default today)")
@click.option("--force", is_flag=True, help="run even if the day is not a configured reminder date")
def fees_remind(on: str | None, force: bool) -> None:
    """Queue the fee reminders of a day (one per household owing; a re-run queues none)."""
    with _ctx() as ctx:
        campaign, queued = fees.run_campaign(ctx, _today(ctx, on), force=force)
    if campaign is None:
        click.echo("no fee campaign on that day (see [heating.season]); use --force to send anyway")
    else:
        click.echo(f"{campaign} campaign: {queued} reminders queued")


@fees_group.command("nonpayers")
@click.option("--season", type=int, default=None, help="season start year (default the current/next)")
@json_option
def fees_nonpayers(season: int | None, as_json: bool) -> None:
    """The non-payer list (for 关栓), by station."""
    with _ctx() as ctx:
        year = season or rules.season_year_of(ctx.local_now().date(), ctx.config.season)
        rows = [
            {
                "station": h.station,
                "account": h.account,
                "address": h.address,
                "owed": round(f.amount_due - f.amount_paid, 2),
            }
            for h, _c, f in fees.debtors(ctx, year)
        ]
    emit(rows, as_json)


@heating.group("shutoff")
def shutoff() -> None:
    """关栓抽查: tasks to stations and their findings."""


@shutoff.command("tasks")
@click.option("--date", "on", default=None)
def shutoff_tasks(on: str | None) -> None:
    """Send each station its 关栓 spot-check task now (the cron job does it on the configured day)."""
    with _ctx() as ctx:
        cases = fees.create_shutoff_checks(ctx, _today(ctx, on))
        numbers = [c.number for c in cases]
    click.echo(f"{len(numbers)} station tasks: {', '.join(numbers) or '-'}")


@shutoff.command("record")
@click.argument("account")
@click.argument("finding", type=click.Choice(["shut", "not_shut", "paid"]))
@click.option("--season", type=int, default=None)
def shutoff_record(account: str, finding: str, season: int | None) -> None:
    """Record what the station found; unpaid but not shut off escalates to the branch."""
    try:
        with _ctx() as ctx:
            year = season or rules.season_year_of(ctx.local_now().date(), ctx.config.season)
            case = fees.record_shutoff_finding(ctx, account, finding, season_year=year)
            number = case.number if case else None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{account}: {finding}" + (f"; escalated to the branch as {number}" if number else ""))


# ------------------------------------------------------------------ visits


@heating.group("visit")
def visit() -> None:
    """包保走访: record visits and run the checks."""


@visit.command("record")
@click.argument("station")
@click.option("--date", "on", default=None)
@click.option("--account", default="")
@click.option("--staff", default="")
@click.option("--note", default=None)
def visit_record(station: str, on: str | None, account: str, staff: str, note: str | None) -> None:
    """Record one visit of a station (and the household visited)."""
    try:
        with _ctx() as ctx:
            outcome = imports.record_visit(ctx, station, _today(ctx, on), staff=staff, account=account, note=note)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(outcome)


@visit.command("check")
@click.argument("period", type=click.Choice(["week", "month"]))
@click.option("--date", "on", default=None, help="check the week/month before this day")
def visit_check(period: str, on: str | None) -> None:
    """Run the weekly or monthly visit check now (escalations and, monthly, the summary)."""
    with _ctx() as ctx:
        day = _today(ctx, on)
        short: dict[str, Any] = visits.weekly_check(ctx, day) if period == "week" else visits.monthly_check(ctx, day)
    for station, reason in short.items():
        click.echo(f"{station}: {reason}")
    click.echo(f"{len(short)} stations short")


# ------------------------------------------------------------------ reports


@heating.group("report")
def report() -> None:
    """Reports for the inspections: reply timeliness, complaint rate."""


def _span(ctx: Ctx, since: str | None, until: str | None) -> tuple[datetime, datetime]:
    end = date.fromisoformat(until) if until else ctx.local_now().date() + timedelta(days=1)
    start = date.fromisoformat(since) if since else end - timedelta(days=30)
    return datetime.combine(start, time(), ctx.tz), datetime.combine(end, time(), ctx.tz)


@report.command("timeliness")
@click.option("--by", type=click.Choice(["station", "person"]), default="station")
@click.option("--since", default=None)
@click.option("--until", default=None)
@json_option
def report_timeliness(by: str, since: str | None, until: str | None, as_json: bool) -> None:
    """回复及时率: share of leaks/complaints handled within their deadline, per station or person."""
    with _ctx() as ctx:
        a, b = _span(ctx, since, until)
        rows = [
            {by: k, "in_time": ok, "cases": n, "rate": f"{rate:.1%}"}
            for k, (ok, n, rate) in reports.timeliness(ctx, a, b, by).items()
        ]
    emit(rows, as_json)


@report.command("complaint-rate")
@click.option("--since", default=None)
@click.option("--until", default=None)
@json_option
def report_complaint_rate(since: str | None, until: str | None, as_json: bool) -> None:
    """投诉率: complaints per 1,000 households, per station."""
    with _ctx() as ctx:
        a, b = _span(ctx, since, until)
        rows = [
            {"station": st, "complaints": c, "households": n, "per_1000": r}
            for st, (c, n, r) in reports.complaint_rates(ctx, a, b).items()
        ]
    emit(rows, as_json)
