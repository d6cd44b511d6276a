"""Staff commands for what came in: ``kefu inbound list``, ``kefu hotline log``, ``kefu import hotline``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from kefu.channels.hotline import BadCall, call_item, import_calls
from kefu.cli.appctx import emit, fail, json_option, obtain_app
from kefu.db.engine import transaction
from kefu.db.models import Case, InboundItem
from kefu.imports import ImportFileError
from kefu.imports.cli import import_options, show_report
from kefu.intake.process import process_pending
from kefu.intake.store import store_items
from kefu.secrets import mask


@click.group("inbound")
def inbound() -> None:
    """Inbound items: mail, SMS and hotline calls as they were received."""


@inbound.command("list")
@click.option("--quarantined", is_flag=True, help="only items that could not be processed, with why")
@click.option("--unclaimed", is_flag=True, help="only items no plugin claimed (staff triage)")
@click.option("--noise", is_flag=True, help="only auto-replies and list mail that opened no case")
@click.option("--channel", help="only this channel (imap:NAME, maildir:NAME, sms, hotline)")
@click.option("--limit", default=50, show_default=True, help="newest N items")
@json_option
def inbound_list(
    quarantined: bool, unclaimed: bool, noise: bool, channel: str | None, limit: int, as_json: bool
) -> None:
    """List the newest inbound items, their status and the case they went to."""
    app = obtain_app()
    with transaction(app.sessions) as session:
        query = select(InboundItem, Case.number).outerjoin(Case, Case.id == InboundItem.case_id)
        if quarantined:
            query = query.where(InboundItem.status == "quarantined")
        if unclaimed:
            query = query.where(InboundItem.status == "unclaimed")
        if noise:
            query = query.where(InboundItem.status == "noise")
        if channel:
            query = query.where(InboundItem.channel == channel)
        rows = session.execute(query.order_by(InboundItem.id.desc()).limit(limit)).all()
        out: list[dict[str, Any]] = [
            {
                "id": item.id,
                "received": item.received_at.astimezone(app.settings.tz),
                "channel": item.channel,
                "kind": item.kind,
                "status": item.status,
                "sender": item.sender if as_json else mask(item.sender),
                "subject": (item.subject or "")[:40],
                "case": number,
                "reason": item.reason,
            }
            for item, number in rows
        ]
    emit(out, as_json, ["id", "received", "channel", "status", "sender", "subject", "case", "reason"])


@inbound.command("retry")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--by", "actor", default="staff", show_default=True, help="who does it (staff key)")
@click.option("--now", "now_", is_flag=True, help="process them at once instead of on the daemon's next pass")
def inbound_retry(ids: tuple[int, ...], actor: str, now_: bool) -> None:
    """Process quarantined or unclaimed items again (after fixing what stopped them)."""
    from kefu.intake.triage import TriageError, retry_items

    app = obtain_app()
    try:
        with transaction(app.sessions) as session:
            retry_items(session, list(ids), actor=actor, now=app.clock.now())
    except TriageError as exc:
        fail(str(exc))
        return
    if now_:
        process_pending(app, ids=list(ids))
        with transaction(app.sessions) as session:
            for item in session.scalars(select(InboundItem).where(InboundItem.id.in_(ids)).order_by(InboundItem.id)):
                click.echo(f"item {item.id}: {item.status}" + (f" ({item.reason})" if item.reason else ""))
        return
    click.echo(f"{len(ids)} item(s) back in line; the daemon's next intake pass processes them")


@inbound.command("dismiss")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--reason", required=True, help="why it needs nothing (spam, a test mail …)")
@click.option("--by", "actor", default="staff", show_default=True, help="who does it (staff key)")
def inbound_dismiss(ids: tuple[int, ...], reason: str, actor: str) -> None:
    """Set quarantined or unclaimed items aside: they need nothing, and leave the triage lists."""
    from kefu.intake.triage import TriageError, dismiss_items

    app = obtain_app()
    try:
        with transaction(app.sessions) as session:
            dismiss_items(session, list(ids), actor=actor, reason=reason, now=app.clock.now())
    except TriageError as exc:
        fail(str(exc))
        return
    click.echo(f"{len(ids)} item(s) set aside")


@click.group("hotline")
def hotline() -> None:
    """Hotline calls (热线) taken by operators."""


@hotline.command("log")
@click.option("--caller", required=True, help="the caller's number")
@click.option("--category", default="", help="category as the hotline names it (跑冒滴漏, 不热 …)")
@click.option("--text", "text", required=True, help="what the caller said")
@click.option("--address", default="", help="address of the problem")
@click.option("--account", default="", help="account / household number")
@click.option("--at", "at", default="", help="time of the call (default now), e.g. '2026-11-02 08:55'")
@click.option("--call-id", default="", help="the hotline's ticket number, if any (makes re-logging safe)")
@click.option("--operator", default="", help="who took the call")
@json_option
def hotline_log(
    caller: str,
    category: str,
    text: str,
    address: str,
    account: str,
    at: str,
    call_id: str,
    operator: str,
    as_json: bool,
) -> None:
    """Log one call; it is classified and opens (or adds to) a case at once."""
    app = obtain_app()
    call = {
        "caller": caller,
        "category": category,
        "text": text,
        "address": address,
        "account": account,
        "at": at,
        "call_id": call_id,
        "operator": operator,
    }
    try:
        item = call_item(
            {k: v for k, v in call.items() if v},
            app.settings.channels.hotline,
            app.settings.tz,
            app.clock.now(),
            source="cli",
            country=app.settings.kefu.default_country,
        )
    except BadCall as exc:
        fail(f"the call was not logged: {exc}")
        return
    with transaction(app.sessions) as session:
        store_items(session, [item])
        stored = session.scalars(
            select(InboundItem).where(InboundItem.channel == item.channel, InboundItem.source_key == item.source_key)
        ).one()
        item_id = stored.id
    process_pending(app, ids=[item_id])
    with transaction(app.sessions) as session:
        row = session.get(InboundItem, item_id)
        assert row is not None
        case = session.get(Case, row.case_id) if row.case_id else None
        result = {
            "item": row.id,
            "status": row.status,
            "case": case.number if case else None,
            "kind": case.kind if case else None,
            "reason": row.reason,
        }
    emit([result], as_json)


@click.group("import")
def import_group() -> None:
    """Import records exported by other systems.

    \b
    Exit status of every import:
      0  every row imported (or already imported before)
      1  nothing imported: the file or the config is unusable (the error says why)
      2  partial success: the good rows were imported, the bad ones are listed by line
    """


@import_group.command("hotline")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@import_options
def import_hotline(file: Path, dry_run: bool, as_json: bool) -> None:
    """Import the city hotline's daily export (CSV in UTF-8 or GB18030, or XLSX; columns per config).

    Bad rows are reported with their line numbers and skipped; good rows are
    imported. Importing the same file again adds nothing.

    \b
    Exit status: 0 all rows imported; 1 nothing imported (unreadable file, bad
    columns); 2 partial success (good rows imported, bad rows listed by line).
    """
    app = obtain_app()
    try:
        with transaction(app.sessions) as session:
            report = import_calls(
                session,
                file,
                app.settings.channels.hotline,
                app.settings.tz,
                app.clock.now(),
                country=app.settings.kefu.default_country,
                dry_run=dry_run,
            )
    except ImportFileError as exc:
        fail(str(exc))
        return
    processed = 0 if dry_run else process_pending(app)
    show_report(
        report,
        as_json,
        {"rows": report.read, "new": report.created, "already_imported": report.unchanged, "processed": processed},
    )


COMMANDS: list[click.Command] = [inbound, hotline, import_group]
