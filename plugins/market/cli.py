"""``kefu market …``: imports of the register, the ledger and payments; payments by hand; the ladder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from kefu.api import Case, TransitionRefused, command_context, emit, json_option
from kefu.api.imports import Importer, ImportFileError, RowError, import_options, run, show_report
from kefu.plugins.market import desk, fees, hazards, imports, kinds, logs, patrols, plan, watch
from kefu.plugins.market.config import Ctx
from kefu.plugins.market.models import FeeLine


@contextmanager
def _ctx() -> Iterator[Ctx]:
    """The market plugin's context in one transaction (committed when the command succeeds)."""
    with command_context(__name__).transaction() as ctx:
        yield ctx


def _today(ctx: Ctx, given: str | None) -> date:
    return date.fromisoformat(given) if given else ctx.local_now().date()


@click.group()
def market() -> None:
    """Wholesale market management office (商贸城管理部): shops, fees, reminders."""


_IMPORTS: dict[str, Callable[[Ctx], Importer[Any]]] = {
    "shops": imports.ShopImport,
    "fees": imports.FeeImport,
    "payments": imports.PaymentImport,
    "patrols": imports.PatrolImport,
    "opening": imports.OpeningImport,
}


@market.command("import")
@click.argument("what", type=click.Choice(sorted(_IMPORTS)))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@import_options
def import_cmd(what: str, file: Path, dry_run: bool, as_json: bool) -> None:
    """Import a CSV (UTF-8 or GB18030) or XLSX file: shops, fees (the ledger), payments or patrols.

    Re-importing the same file changes nothing; bad rows are listed by line and the
    good rows are still imported (exit 2).
    """
    try:
        with _ctx() as ctx:
            report = run(ctx, _IMPORTS[what](ctx), file, dry_run=dry_run)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    show_report(report, as_json)


@market.command("paid")
@click.argument("shop_no")
@click.argument("kind")
@click.argument("period")
@click.option("--amount", help="the amount paid (default: all that is owed)")
@click.option("--on", "paid_on", help="the payment's date (default: today)")
@click.option("--receipt", default="", help="the receipt number (收据号)")
def paid_cmd(shop_no: str, kind: str, period: str, amount: str | None, paid_on: str | None, receipt: str) -> None:
    """Record a payment of SHOP_NO's KIND (租金, rent …) for PERIOD (2026-11): its ladder stops at once."""
    with _ctx() as ctx:
        try:
            key = (shop_no, imports.fee_kind(ctx, kind), imports.parse_period(period))
        except RowError as exc:
            raise click.ClickException(exc.reason) from exc
        line = (
            ctx.db()
            .scalars(select(FeeLine).where(FeeLine.shop_no == key[0], FeeLine.kind == key[1], FeeLine.period == key[2]))
            .one_or_none()
        )
        if line is None:
            raise click.ClickException(f"no ledger line {'/'.join(key)}")
        try:
            value = Decimal(amount) if amount else line.owed
        except InvalidOperation as exc:
            raise click.ClickException(f"--amount {amount!r} is not a number") from exc
        if value <= 0:
            raise click.ClickException("nothing to pay: the amount must be positive")
        if not imports.record_payment(ctx, line, value, _today(ctx, paid_on), receipt=receipt, source="cli"):
            raise click.ClickException("this payment (date, amount, receipt) is recorded already")
        click.echo(f"{'/'.join(key)}: paid {value:.2f}, owed {line.owed:.2f}")


@market.command("ladder")
@click.option("--day", help="run as of this day (default: today)")
@json_option
def ladder_cmd(day: str | None, as_json: bool) -> None:
    """Run the fee reminder ladder now (the daily job does it; a re-run queues nothing new)."""
    with _ctx() as ctx:
        run = fees.run_ladder(ctx, _today(ctx, day))
    emit(
        [
            {
                "reminders": run.reminders,
                "escalated": run.escalated,
                "watch_alerts": run.watch_alerts,
            }
        ],
        as_json,
    )


@market.group("patrol")
def patrol() -> None:
    """Fire-safety patrol records: list the rounds, countersign them."""


@patrol.command("sign")
@click.argument("round_id", type=int)
@click.option("--by", "by", required=True, help="the supervisor's staff key")
def sign_cmd(round_id: int, by: str) -> None:
    """Countersign patrol round ROUND_ID's record (GB/T 40248-2021)."""
    with _ctx() as ctx:
        try:
            rnd = patrols.sign(ctx, round_id, by)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"round {rnd.id} ({rnd.route} {rnd.starts_at.astimezone(ctx.tz):%Y-%m-%d %H:%M}) signed by {by}")


@patrol.command("rounds")
@click.option("--unsigned", is_flag=True, help="only the rounds not yet countersigned")
@json_option
def rounds_cmd(unsigned: bool, as_json: bool) -> None:
    """The recorded rounds: route, window, persons, problems, missed points, signature."""
    with _ctx() as ctx:
        rows = [
            {
                "id": r.id,
                "route": r.route,
                "label": r.label,
                "window": f"{r.starts_at.astimezone(ctx.tz):%Y-%m-%d %H:%M}",
                "persons": "、".join(r.persons),
                "problems": "；".join(r.problems),
                "missed": "、".join(r.missed),
                "signed_by": r.signed_by or "",
            }
            for r in patrols.rounds(ctx, unsigned=unsigned)
        ]
    emit(rows, as_json)


@market.group("hazard")
def hazard() -> None:
    """隐患: register one, report it fixed, record the re-check."""


def _case(ctx: Ctx, number: str) -> Case:
    case = ctx.find_case(number)
    if case is None or case.kind != f"{ctx.name}.{kinds.HAZARD}":
        raise click.ClickException(f"{number}: no hazard case with this number")
    return case


@hazard.command("report")
@click.argument("point")
@click.argument("problem")
@click.option("--by", "by", required=True, help="who found it (staff key)")
@click.option(
    "--major/--not-major",
    default=None,
    help="major hazard (default: from [market.hazards] major_words)",
)
def hazard_report(point: str, problem: str, by: str, major: bool | None) -> None:
    """Register a hazard found at POINT (staff entry): a rectification case, due in 24 h."""
    with _ctx() as ctx:
        case = hazards.report(ctx, point.upper(), problem, by=by, major=major)
        click.echo(f"{case.number}: {case.title}")


@hazard.command("fixed")
@click.argument("number")
@click.option("--by", "by", required=True)
@click.option("--note", default="")
def hazard_fixed(number: str, by: str, note: str) -> None:
    """Report hazard NUMBER fixed: it waits for the security re-check."""
    with _ctx() as ctx:
        hazards.fixed(ctx, _case(ctx, number), by=by, note=note)
        click.echo(f"{number}: 待复查")


@hazard.command("recheck")
@click.argument("number")
@click.option("--by", "by", required=True)
@click.option("--failed", is_flag=True, help="the fix did not pass: back to 整改")
@click.option("--note", default="")
def hazard_recheck(number: str, by: str, failed: bool, note: str) -> None:
    """Record the re-check of hazard NUMBER: passed resolves it, --failed sends it back to 整改."""
    with _ctx() as ctx:
        hazards.rechecked(ctx, _case(ctx, number), by=by, ok=not failed, note=note)
        click.echo(f"{number}: {'复查不合格，重新整改' if failed else '复查合格'}")


@market.group("request")
def request_group() -> None:
    """门市转让、出租、装修 requests: open one, the floor manager's first review, the manager's decision."""


def _request(ctx: Ctx, number: str) -> Case:
    case = ctx.find_case(number)
    if case is None or case.kind != f"{ctx.name}.{kinds.REQUEST}":
        raise click.ClickException(f"{number}: no request case with this number")
    return case


@request_group.command("open")
@click.argument("shop_no")
@click.argument("what", type=click.Choice(sorted(watch.REQUESTS)))
@click.option("--note", default="", help="what the tenant asks")
@click.option("--by", "by", default="desk", help="who took the request")
def request_open(shop_no: str, what: str, note: str, by: str) -> None:
    """Register SHOP_NO's request: the market manager is told at once, the floor manager reviews first."""
    with _ctx() as ctx:
        try:
            case = watch.request(ctx, shop_no, what, note, by=by)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{case.number}: {case.title}")


@request_group.command("review")
@click.argument("number")
@click.option("--by", "by", required=True, help="the floor manager's staff key")
@click.option("--reject", is_flag=True, help="the first review refuses the request")
@click.option("--note", default="")
def request_review(number: str, by: str, reject: bool, note: str) -> None:
    """The floor manager's first review of request NUMBER (严把审核第一关)."""
    with _ctx() as ctx:
        try:
            watch.first_review(ctx, _request(ctx, number), by=by, ok=not reject, note=note)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{number}: {'初审未通过' if reject else '初审通过，报经理审批'}")


@request_group.command("decide")
@click.argument("number")
@click.option("--by", "by", required=True, help="the market manager's staff key")
@click.option("--approve/--refuse", required=True)
@click.option("--note", default="")
def request_decide(number: str, by: str, approve: bool, note: str) -> None:
    """The market manager's decision on request NUMBER (refused before the first review)."""
    with _ctx() as ctx:
        try:
            watch.decide(ctx, _request(ctx, number), by=by, approve=approve, note=note)
        except TransitionRefused as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{number}: {'批准' if approve else '不批准'}")


@market.command("check-done")
@click.argument("number")
@click.option("--by", "by", required=True, help="who did the check (staff key)")
@click.option("--note", default="", help="what was found")
def check_done_cmd(number: str, by: str, note: str) -> None:
    """Record that scheduled check NUMBER (night check, monthly fire inspection) was done, and by whom."""
    with _ctx() as ctx:
        case = ctx.find_case(number)
        if case is None or case.kind not in (
            f"{ctx.name}.{kinds.CHECK}",
            f"{ctx.name}.{kinds.FIRE_INSPECTION}",
        ):
            raise click.ClickException(f"{number}: no scheduled check with this number")
        try:
            plan.check_done(ctx, case, by=by, note=note)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{number}: done by {by}")


@market.group("desk")
def desk_group() -> None:
    """The service desk (服务台): lost items, gift stock, registers and their monthly export."""


@desk_group.command("lost")
@click.argument("description")
@click.option("--place", default="")
@click.option("--owner-phone", default=None, help="the owner's phone, if known (texted at once)")
@click.option("--by", "by", default="desk")
def desk_lost(description: str, place: str, owner_phone: str | None, by: str) -> None:
    """Register a lost item (遗留商品): held 30 d, then reported."""
    with _ctx() as ctx:
        item = desk.register_lost(ctx, description, place=place, owner_phone=owner_phone, by=by)
        click.echo(f"lost item {item.id}: held until {item.held_until}")


@desk_group.command("gift")
@click.argument("gift")
@click.argument("qty", type=int)
@click.option("--by", "by", default="desk")
def desk_gift(gift: str, qty: int, by: str) -> None:
    """Add (QTY > 0) or issue (QTY < 0) a promotional gift; an issue beyond the stock is refused."""
    with _ctx() as ctx:
        try:
            balance = desk.gift_move(ctx, gift, qty, by=by)
        except desk.DeskError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{gift}: {balance} in stock")


@desk_group.command("add")
@click.argument("register", type=click.Choice(sorted(desk.REGISTERS)))
@click.argument("detail")
@click.option("--customer", default="")
@click.option("--phone", default=None)
@click.option("--outcome", default="")
@click.option("--by", "by", default="desk")
def desk_add(register: str, detail: str, customer: str, phone: str | None, outcome: str, by: str) -> None:
    """Add an entry to a register (退换货, 发票, 会员卡, 存包, 意见建议)."""
    with _ctx() as ctx:
        row = desk.entry(ctx, register, detail, customer=customer, phone=phone, outcome=outcome, by=by)
        click.echo(f"{register} {row.id}: {row.state or 'registered'}")


@desk_group.command("export")
@click.argument("month")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="xlsx")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def desk_export(month: str, fmt: str, out: Path) -> None:
    """Export MONTH's registers (2026-11) as CSV or XLSX."""
    with _ctx() as ctx:
        out.write_bytes(desk.export_month(ctx, month, fmt))
    click.echo(f"wrote {out}")


@market.command("log")
@click.argument("log")
@click.argument("text")
@click.option("--by", "by", required=True, help="who writes it (staff key)")
def log_cmd(log: str, text: str, by: str) -> None:
    """Write the current shift's LOG: ``duty`` (值班记录) or ``floor:3F`` (that floor's 工作日志)."""
    with _ctx() as ctx:
        try:
            row = logs.write(ctx, log, text, by=by)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{log} {row.day}: recorded")
