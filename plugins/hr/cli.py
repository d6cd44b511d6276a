"""``kefu hr …``: imports, day results, 代签, leave, rosters and the monthly sheet.

Every command is a thin shell around a function of its module (attendance, leave,
rosters, sheet), so the staff console can call the same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from kefu.api import command_context, emit, json_option
from kefu.api.imports import Importer, ImportFileError, import_options, run, show_report
from kefu.plugins.hr import attendance, imports, leave, rosters, sheet
from kefu.plugins.hr.config import Ctx
from kefu.plugins.hr.models import DayResult, Leave, Proxy
from kefu.plugins.hr.register import register


@contextmanager
def _ctx() -> Iterator[Ctx]:
    """The hr plugin's context in one transaction (committed when the command succeeds)."""
    with command_context(__name__).transaction() as ctx:
        yield ctx


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except (leave.LeaveError, sheet.SheetError, attendance.FrozenMonth, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def hr() -> None:
    """Attendance and staff rules (考勤制度): punches, leave, rosters, the monthly sheet."""


_IMPORTS: dict[str, Callable[[Ctx], Importer[Any]]] = {
    "employees": imports.EmployeeImport,
    "punches": imports.PunchImport,
}


@hr.command("import")
@click.argument("what", type=click.Choice([*sorted(_IMPORTS), "roster"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", type=click.Choice(["dingtalk", "wecom", "long"]), help="punches: the exporting system")
@click.option("--rota", help="roster: the rota of [hr.rosters] rotas (default: the first)")
@click.option("--month", help="roster, wide layout (people as rows, days as columns): the month, 2026-11")
@import_options
def import_cmd(
    what: str, file: Path, source: str | None, rota: str | None, month: str | None, dry_run: bool, as_json: bool
) -> None:
    """Import the register (employees), punches (钉钉, 企业微信, one row per punch) or a month's
    值班表/值日表 (roster), CSV or XLSX.

    Punches are stored as they came and never edited; re-importing a file adds nothing.
    A roster is one row a day (日期, 值班人) or, with --month, a row a person and a column
    a day (√ on duty); each day becomes the rota's dated shift, told to both people as
    `hr roster set` tells them.
    """
    try:
        with _refusals(), _ctx() as ctx:
            if what == "roster":
                report = _import_roster(ctx, file, rota, month, dry_run)
            else:
                importer = imports.PunchImport(ctx, source) if what == "punches" else _IMPORTS[what](ctx)
                report = run(ctx, importer, file, dry_run=dry_run)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    show_report(report, as_json)


def _import_roster(ctx: Ctx, file: Path, rota: str | None, month: str | None, dry_run: bool) -> Any:
    """The list layout, else (with --month) the wide one."""
    published = ctx.config.rosters.rotas
    rota = rota or (published[0] if published else None)
    if rota is None or rota not in published:
        raise ValueError(f"rota {rota!r}: name one of [hr.rosters] rotas ({', '.join(published) or 'none set'})")
    try:
        return run(ctx, imports.RosterImport(ctx, rota), file, dry_run=dry_run)
    except ImportFileError:
        if month is None:
            raise
    first, _end = attendance.month_bounds(month)
    return run(ctx, imports.WideRosterImport(ctx, rota, first), file, dry_run=dry_run)


@hr.command("employees")
@json_option
def employees_cmd(as_json: bool) -> None:
    """The register: config and imported people."""
    with _ctx() as ctx:
        rows = [
            {
                "key": p.key,
                "number": p.number,
                "name": p.name,
                "department": p.department,
                "manager": p.manager,
                "shift": p.shift,
            }
            for p in register(ctx).values()
        ]
    emit(rows, as_json)


@hr.command("compute")
@click.argument("period")
@click.option("--until", help="last day to compute (default today)")
def compute_cmd(period: str, until: str | None) -> None:
    """Recompute PERIOD's (2026-11) day results from the punches; opens due HR reviews."""
    with _refusals(), _ctx() as ctx:
        n = attendance.compute(ctx, period, until=date.fromisoformat(until) if until else None)
    click.echo(f"{period}: {n} person-days computed")


@hr.command("days")
@click.argument("period")
@click.option("--employee")
@click.option("--exceptions", is_flag=True, help="only days with an exception line")
@json_option
def days_cmd(period: str, employee: str | None, exceptions: bool, as_json: bool) -> None:
    """The day results of PERIOD: status, late/early minutes, lines."""
    first, end = attendance.month_bounds(period)
    with _ctx() as ctx:
        q = (
            select(DayResult)
            .where(DayResult.day >= first, DayResult.day < end)
            .order_by(DayResult.employee, DayResult.day)
        )
        if employee:
            q = q.where(DayResult.employee == employee)
        rows = [
            {
                "employee": d.employee,
                "day": d.day.isoformat(),
                "status": d.status,
                "late": d.late_minutes,
                "early": d.early_minutes,
                "absent": str(d.absent),
                "lines": "; ".join(line["label"] for line in d.lines or []),
            }
            for d in ctx.db().scalars(q)
            if not exceptions or d.lines
        ]
    emit(rows, as_json)


@hr.command("proxy")
@click.argument("day")
@click.argument("signed_for")
@click.argument("signed_by")
@click.option("--note", default="")
@click.option("--by", "recorded_by", default="hr", help="who found it")
def proxy_cmd(day: str, signed_for: str, signed_by: str, note: str, recorded_by: str) -> None:
    """Record a 代签 on DAY: SIGNED_BY signed in for SIGNED_FOR (each of the two: ¥10, seed)."""
    with _refusals(), _ctx() as ctx:
        record_proxy(ctx, date.fromisoformat(day), signed_for, signed_by, note=note, by=recorded_by)
    click.echo(f"{day}: 代签 {signed_by} → {signed_for} recorded")


def record_proxy(ctx: Ctx, day: date, signed_for: str, signed_by: str, *, note: str = "", by: str = "hr") -> Proxy:
    """Record a proxy sign-in finding (both must be employees; the month must not be frozen)."""
    people = register(ctx)
    for key in (signed_for, signed_by):
        if key not in people:
            raise ValueError(f"{key!r} is not an employee")
    attendance.check_not_frozen(ctx, f"{day:%Y-%m}")
    row = Proxy(day=day, signed_for=signed_for, signed_by=signed_by, note=note, recorded_by=by, recorded_at=ctx.now())
    ctx.db().add(row)
    ctx.db().flush()
    return row


@hr.group("leave")
def leave_group() -> None:
    """请假: request, approve or refuse, the sick-leave certificate."""


@leave_group.command("request")
@click.argument("employee")
@click.argument("kind")
@click.argument("start")
@click.argument("end", required=False)
@click.option("--reason", default="")
@click.option("--phoned-at", help="sick leave: when it was phoned in (2026-11-05 08:40)")
@click.option("--half", default="", help="a half day of START: am/上午 or pm/下午 (事假, 病假, 年休假)")
def leave_request_cmd(
    employee: str, kind: str, start: str, end: str | None, reason: str, phoned_at: str | None, half: str
) -> None:
    """File a leave request (KIND: sick/病假, personal/事假, public/公假, trip/出差, annual …)."""
    with _refusals(), _ctx() as ctx:
        key = leave.kind_of(ctx, kind) or kind
        phoned = datetime.fromisoformat(phoned_at).replace(tzinfo=ctx.tz) if phoned_at else None
        row = leave.request(
            ctx,
            employee,
            key,
            date.fromisoformat(start),
            date.fromisoformat(end) if end else None,
            reason=reason,
            phoned_at=phoned,
            half=half,
        )
        span = f"{row.start} {row.half}" if row.half else f"{row.start}–{row.end}"
        click.echo(f"leave {row.id}: {employee} {key} {span}, for {row.approver} to approve")


@leave_group.command("approve")
@click.argument("leave_id", type=int)
@click.option("--by", required=True, help="the approver's key (the employee's manager)")
def leave_approve_cmd(leave_id: int, by: str) -> None:
    """Approve a request (only the employee's manager may)."""
    with _refusals(), _ctx() as ctx:
        leave.decide(ctx, leave_id, by, approve=True)
    click.echo(f"leave {leave_id}: approved")


@leave_group.command("refuse")
@click.argument("leave_id", type=int)
@click.option("--by", required=True)
@click.option("--reason", default="")
def leave_refuse_cmd(leave_id: int, by: str, reason: str) -> None:
    """Refuse a request."""
    with _refusals(), _ctx() as ctx:
        leave.decide(ctx, leave_id, by, approve=False, reason=reason)
    click.echo(f"leave {leave_id}: refused")


@leave_group.command("certificate")
@click.argument("leave_id", type=int)
def leave_certificate_cmd(leave_id: int) -> None:
    """Record the sick-leave certificate as handed in."""
    with _refusals(), _ctx() as ctx:
        leave.certificate(ctx, leave_id)
    click.echo(f"leave {leave_id}: certificate recorded")


@leave_group.command("list")
@json_option
def leave_list_cmd(as_json: bool) -> None:
    """Every leave request."""
    with _ctx() as ctx:
        rows = [
            {
                "id": x.id,
                "employee": x.employee,
                "kind": x.kind,
                "start": str(x.start),
                "end": str(x.end),
                "half": x.half,
                "state": x.state,
                "approver": x.approver,
            }
            for x in ctx.db().scalars(select(Leave).order_by(Leave.id))
        ]
    emit(rows, as_json)


@hr.group("roster")
def roster_group() -> None:
    """值班表: who is on duty, changes (announced to both people)."""


@roster_group.command("show")
@click.argument("rota")
@click.argument("day")
def roster_show_cmd(rota: str, day: str) -> None:
    """Who ROTA puts on duty on DAY."""
    with _ctx() as ctx:
        click.echo(", ".join(rosters.on_duty(ctx, rota, date.fromisoformat(day))) or "nobody")


@roster_group.command("set")
@click.argument("rota")
@click.argument("starts")
@click.argument("ends")
@click.argument("who")
def roster_set_cmd(rota: str, starts: str, ends: str, who: str) -> None:
    """Put WHO on duty in ROTA from STARTS to ENDS (2026-11-07T08:00); both people are told."""
    with _refusals(), _ctx() as ctx:
        told = rosters.assign(
            ctx,
            rota,
            datetime.fromisoformat(starts).replace(tzinfo=ctx.tz),
            datetime.fromisoformat(ends).replace(tzinfo=ctx.tz),
            who,
        )
    click.echo(f"{rota}: {who} on duty; told {', '.join(told)}")


@hr.group("sheet")
def sheet_group() -> None:
    """奖罚评分表: build, send, approve, amend."""


@sheet_group.command("build")
@click.argument("period")
@json_option
def sheet_build_cmd(period: str, as_json: bool) -> None:
    """Compute PERIOD and (re)build its sheet (refused once approved)."""
    with _refusals(), _ctx() as ctx:
        attendance.compute(ctx, period)
        built = sheet.build(ctx, period)
        rows = [{k: v for k, v in r.items() if k not in ("lines", "scorecard", "leave")} for r in built.rows]
    emit(rows, as_json)


@sheet_group.command("send")
@click.argument("period")
def sheet_send_cmd(period: str) -> None:
    """Send PERIOD's sheet to the approver now (PDF and XLSX)."""
    with _refusals(), _ctx() as ctx:
        sent = sheet.send(ctx, period)
    click.echo(f"{period}: sent, due {sent.due_on}")


@sheet_group.command("approve")
@click.argument("period")
@click.option("--by", required=True)
@click.option("--accept-breaches", is_flag=True, help="approve although someone is under the minimum wage")
def sheet_approve_cmd(period: str, by: str, accept_breaches: bool) -> None:
    """Approve PERIOD's sheet: the month is frozen."""
    with _refusals(), _ctx() as ctx:
        sheet.approve(ctx, period, by, accept_breaches=accept_breaches)
    click.echo(f"{period}: approved and frozen")


@sheet_group.command("amend")
@click.argument("period")
@click.argument("employee")
@click.option("--reason", required=True)
@click.option("--amount", default="0", help="¥ to add (negative: to take back)")
@click.option("--note", default="")
@click.option("--by", required=True)
def sheet_amend_cmd(period: str, employee: str, reason: str, amount: str, note: str, by: str) -> None:
    """Add an amendment (with its reason) to an approved sheet."""
    with _refusals(), _ctx() as ctx:
        row = sheet.amend(ctx, period, employee, reason, by, amount=Decimal(amount), note=note)
    click.echo(f"{period}: amendment {row.id} recorded")
