"""``kefu complaints …``: the staff's commands for the property developer's customer service."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from kefu.api import CaseError, command_context, emit, json_option, parse_duration
from kefu.api.imports import ImportFileError, import_options, show_report
from kefu.plugins.complaints import actions, reports
from kefu.plugins.complaints.imports import import_homes_file
from kefu.plugins.complaints.repair import RuleRefused

T = TypeVar("T")


def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a staff action in one transaction; a refused rule is an error message, exit 1."""
    try:
        with command_context(__name__).transaction() as ctx:
            return fn(ctx, *args, **kwargs)
    except (RuleRefused, CaseError) as exc:  # CaseError: a step or guard the engine refused
        raise click.ClickException(str(exc)) from exc


@click.group()
def complaints() -> None:
    """客服管理部: homes, repairs, contractors, callbacks, compensation, KPIs."""


@complaints.group(name="import")
def import_group() -> None:
    """Import data from the sales system."""


@import_group.command(name="homes")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@import_options
def import_homes_cmd(file: Path, dry_run: bool, as_json: bool) -> None:
    """Projects, buildings, homes, owners and delivery dates from a CSV (UTF-8 or GB18030) or XLSX.

    Exit 0: all imported; 1: the file was refused (nothing written); 2: the bad
    rows listed were left out, the rest imported.
    """
    try:
        with command_context(__name__).transaction() as ctx:
            report = import_homes_file(ctx, file, dry_run=dry_run)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    show_report(report, as_json)


@complaints.command(name="step")
@click.argument("case")
@click.option("--to", "step", help="the step to move to (default: the next one)")
@click.option("--visit-at", help="agreed on-site visit time, e.g. '2026-11-03 10:00' (told to the customer)")
@click.option("--actor", default="staff", show_default=True)
def step_cmd(case: str, step: str | None, visit_at: str | None, actor: str) -> None:
    """Move a repair through 沟通联系 → 现场查看 → 责任判定 → 方案制定 → 工作指派."""
    when = _local_time(visit_at) if visit_at else None
    click.echo(f"{case}: {_run(actions.advance_step, case, visit_at=when, step=step, actor=actor)}")


@complaints.command(name="assign-contractor")
@click.argument("case")
@click.argument("contractor")
@click.option("--due", help="time the contractor has, e.g. 7d (default [complaints.third_party] default_due)")
@click.option("--instructions", default="", help="what the 工程维修通知单 asks for")
@click.option("--actor", default="staff", show_default=True)
def assign_cmd(case: str, contractor: str, due: str | None, instructions: str, actor: str) -> None:
    """Give a repair to a third-party contractor: issues the 《工程维修通知单》."""
    job = _run(
        actions.assign_contractor,
        case,
        contractor,
        due=parse_duration(due) if due else None,
        instructions=instructions,
        actor=actor,
    )
    click.echo(
        f"{case}: contractor job {job.number}, letter {job.data.get('letter_id')} "
        f"(record its EMS number with `kefu letters posted`)"
    )


@complaints.command(name="contractor-done")
@click.argument("job")
@click.option("--actor", default="staff", show_default=True)
def done_cmd(job: str, actor: str) -> None:
    """The contractor finished: the acceptance (收方/验收) is now due."""
    _run(actions.contractor_done, job, actor=actor)
    click.echo(f"{job}: waiting for 收方验收")


@complaints.command(name="accept")
@click.argument("job")
@click.option("--result", default="合格", show_default=True)
@click.option("--note", default="")
@click.option("--actor", default="staff", show_default=True)
def accept_cmd(job: str, result: str, note: str, actor: str) -> None:
    """Record the 收方/验收 of a contractor's job (required before its repair closes)."""
    _run(actions.accept, job, result=result, note=note, actor=actor)
    click.echo(f"{job}: accepted ({result})")


@complaints.command(name="resolve")
@click.argument("case")
@click.option("--defect", is_flag=True, help="flag as a defect case (缺陷案例) for the monthly report")
@click.option("--trade", help="trade (专业) of the defect; guessed from the text if omitted")
@click.option("--cause", help="cause of the defect")
@click.option("--note", default="")
@click.option("--actor", default="staff", show_default=True)
def resolve_cmd(case: str, defect: bool, trade: str | None, cause: str | None, note: str, actor: str) -> None:
    """Resolve a case (维修关闭): the customer is told and asked for a 1–5 score."""
    _run(actions.resolve, case, defect=defect, trade=trade, cause=cause, note=note, actor=actor)
    click.echo(f"{case}: resolved; callback survey queued")


@complaints.command(name="reply")
@click.argument("case")
@click.argument("text")
@click.option("--actor", default="staff", show_default=True)
def reply_cmd(case: str, text: str, actor: str) -> None:
    """Answer a complaint, inquiry or suggestion."""
    _run(actions.reply, case, text, actor=actor)
    click.echo(f"{case}: reply queued")


@complaints.command(name="callback")
@click.argument("case")
@click.argument("score", type=int)
@click.option("--actor", default="staff", show_default=True)
def callback_cmd(case: str, score: int, actor: str) -> None:
    """Record a callback answered on the phone (1–5); a low score reopens the case."""
    _run(actions.callback_score, case, score, actor=actor)
    click.echo(f"{case}: score {score} recorded")


@complaints.group(name="compensation")
def compensation() -> None:
    """客户赔付: negotiation, letter to the responsible party, payment, archive."""


@compensation.command(name="open")
@click.argument("case")
@click.option("--party", required=True, help="the responsible party (责任方): a contractor key or a name")
@click.option("--address", help="the party's postal address (default: the contractor's)")
@click.option("--email", help="the party's email (default: the contractor's)")
@click.option("--amount", type=float, help="the amount claimed (元), if known")
@click.option("--note", default="")
@click.option("--actor", default="staff", show_default=True)
def comp_open_cmd(
    case: str, party: str, address: str | None, email: str | None, amount: float | None, note: str, actor: str
) -> None:
    """Open a compensation case from CASE (its attachments are kept as evidence); 15 d to negotiate."""
    comp = _run(
        actions.open_compensation,
        case,
        party=party,
        amount=amount,
        address=address,
        email=email,
        note=note,
        actor=actor,
    )
    click.echo(f"{case}: compensation {comp.number} (协商谈判)")


@compensation.command(name="agree")
@click.argument("case")
@click.argument("amount", type=float)
@click.option("--terms", default="", help="what was agreed besides the amount")
@click.option("--actor", default="staff", show_default=True)
def comp_agree_cmd(case: str, amount: float, terms: str, actor: str) -> None:
    """Negotiation done at AMOUNT 元: the 责任方函件 is queued (PDF, archived with the case)."""
    _run(actions.agree_compensation, case, amount, terms=terms, actor=actor)
    click.echo(f"{case}: 责任方函件 queued (record its EMS number with `kefu letters posted`)")


@compensation.command(name="pay")
@click.argument("case")
@click.option("--payee", required=True, help="who is paid (the owner)")
@click.option("--note", default="")
@click.option("--actor", default="staff", show_default=True)
def comp_pay_cmd(case: str, payee: str, note: str, actor: str) -> None:
    """File the payment request (付款申请) once the letter went out; the head is told."""
    _run(actions.request_payment, case, payee, note=note, actor=actor)
    click.echo(f"{case}: 付款申请 filed")


@compensation.command(name="archive")
@click.argument("case")
@click.option("--note", default="")
@click.option("--actor", default="staff", show_default=True)
@json_option
def comp_archive_cmd(case: str, note: str, actor: str, as_json: bool) -> None:
    """资料存档: record the dossier (evidence, letters, payment) and close the case."""
    dossier = _run(actions.archive_compensation, case, note=note, actor=actor)
    if as_json:
        click.echo(json.dumps(dossier, ensure_ascii=False, indent=1, default=str))
        return
    click.echo(f"{case}: archived with {len(dossier['evidence'])} evidence and {len(dossier['letters'])} letter(s)")


@compensation.command(name="evidence")
@click.argument("case")
@click.argument("description")
@click.option("--path", help="where the file is archived (its size and SHA-256 are recorded)")
@click.option("--actor", default="staff", show_default=True)
def comp_evidence_cmd(case: str, description: str, path: str | None, actor: str) -> None:
    """Add a piece of evidence (证据留存) to a compensation case; evidence is never removed."""
    _run(actions.add_evidence, case, description, path=path, actor=actor)
    click.echo(f"{case}: evidence recorded")


@complaints.command(name="kpi")
@click.option("--period", required=True, help="month, e.g. 2026-11")
@json_option
def kpi_cmd(period: str, as_json: bool) -> None:
    """报事关闭率, 维修及时率, 维修满意度 per project and engineer."""
    with command_context(__name__).transaction() as ctx:
        emit(reports.kpi_rows(ctx.db(), period, ctx.tz, ctx.name), as_json)


@complaints.command(name="scorecard")
@click.option("--period", required=True, help="month, e.g. 2026-11")
@json_option
def scorecard_cmd(period: str, as_json: bool) -> None:
    """The repair engineers' monthly scorecard (read by the hr plugin)."""
    with command_context(__name__).transaction() as ctx:
        emit(reports.engineer_scorecard(ctx.db(), period, ctx.tz, ctx.name), as_json)


@complaints.command(name="defects")
@click.option("--period", required=True, help="month, e.g. 2026-11")
@json_option
def defects_cmd(period: str, as_json: bool) -> None:
    """The defect cases of a month by project, trade and cause."""
    with command_context(__name__).transaction() as ctx:
        emit(reports.defect_rows(ctx.db(), period, ctx.tz, ctx.name), as_json)


def _local_time(text: str) -> datetime:
    tz = command_context(__name__).tz
    try:
        value = datetime.fromisoformat(text.strip().replace("/", "-"))
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: write e.g. '2026-11-03 10:00'") from exc
    return value if value.tzinfo else value.replace(tzinfo=tz)
