"""``kefu outbox …`` and ``kefu letters …``: what was sent, what is stuck, letters to post."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from kefu.cli.appctx import emit, fail, json_option, obtain_app
from kefu.db.engine import transaction
from kefu.db.models import Case, Letter, OutboxMessage
from kefu.outbound.moot import waiting
from kefu.secrets import mask

PROBLEM_STATES = ("dead", "failed")


@click.group()
def outbox() -> None:
    """The outbox: every notification, its state and the provider's id."""


@outbox.command("list")
@click.option("--dead", is_flag=True, help="only rows that need a person: dead and failed")
@click.option("--state", help="only rows in this state (queued, sending, sent, failed, dead, skipped, cancelled)")
@click.option("--case", "case_number", help="only rows of this case")
@click.option("--limit", default=100, show_default=True, help="newest N rows")
@click.option("--unmasked", is_flag=True, help="show full phone numbers and addresses")
@json_option
@click.pass_context
def outbox_list(
    ctx: click.Context,
    dead: bool,
    state: str | None,
    case_number: str | None,
    limit: int,
    unmasked: bool,
    as_json: bool,
) -> None:
    """List outbox rows, newest first."""
    app = obtain_app(ctx)
    with app.sessions() as session:
        query = select(OutboxMessage, Case.number).outerjoin(Case, Case.id == OutboxMessage.case_id)
        if dead:
            query = query.where(OutboxMessage.state.in_(PROBLEM_STATES))
        if state:
            query = query.where(OutboxMessage.state == state)
        if case_number:
            query = query.where(Case.number == case_number)
        rows = session.execute(query.order_by(OutboxMessage.id.desc()).limit(limit)).all()
    now, tz = app.clock.now(), app.settings.tz
    out = [
        {
            "id": row.id,
            "state": row.state,
            "channel": row.channel,
            "audience": row.audience,
            "recipient": row.recipient if unmasked else mask(row.recipient),
            "case": number,
            "template": row.template,
            "attempts": row.attempts,
            "not_before": row.not_before,
            "sent_at": row.sent_at,
            "provider_id": row.provider_id,
            "delivery": row.delivery_status,
            "error": row.last_error,
            "why": waiting(row, now, tz),
        }
        for row, number in rows
    ]
    # "why": why the row waits and until when (quiet hours, a retry, pacing), or why it never went.
    emit(
        out,
        as_json,
        None
        if as_json
        else ["id", "state", "channel", "recipient", "case", "template", "attempts", "sent_at", "why", "delivery"],
    )


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="every dead or failed row")
@click.pass_context
def outbox_retry(ctx: click.Context, ids: tuple[int, ...], all_dead: bool) -> None:
    """Send dead or failed rows again (re-rendering their template), at the next dispatch."""
    from kefu.outbound.outbox import fill_rendered, standard_context
    from kefu.templating import RenderError

    if not ids and not all_dead:
        fail("name the rows to retry (kefu outbox retry 12 13) or pass --all-dead")
    app = obtain_app(ctx)
    now = app.clock.now()
    done = 0
    with transaction(app.sessions) as session:
        query = select(OutboxMessage).where(OutboxMessage.state.in_(PROBLEM_STATES))
        if ids:
            query = query.where(OutboxMessage.id.in_(ids))
        rows = list(session.scalars(query))
        found = {r.id for r in rows}
        for missing in sorted(set(ids) - found):
            click.echo(f"row {missing}: not dead or failed (see kefu outbox list), left alone", err=True)
        for row in rows:
            if not row.body or (row.last_error or "").startswith("template error"):
                case = session.get(Case, row.case_id) if row.case_id else None
                context = standard_context(
                    app, now, case=case, recipient_name=row.recipient_name, address=(row.data or {}).get("address")
                )
                context.update((row.data or {}).get("context", {}))
                try:
                    fill_rendered(app, row, context, case)
                except RenderError as exc:
                    click.echo(f"row {row.id}: still does not render: {exc}", err=True)
                    continue
            row.state, row.attempts, row.not_before, row.last_error = "queued", 0, now, None
            row.claimed_by = row.claimed_at = None
            done += 1
    click.echo(f"{done} row{'s' if done != 1 else ''} queued again")


@click.group()
def letters() -> None:
    """Letters (PDF) archived with their cases; printing and posting them."""


@letters.command("pending")
@json_option
@click.pass_context
def letters_pending(ctx: click.Context, as_json: bool) -> None:
    """Letters to print and post that have no EMS number yet."""
    app = obtain_app(ctx)
    with app.sessions() as session:
        rows = session.execute(
            select(Letter, Case.number)
            .outerjoin(Case, Case.id == Letter.case_id)
            .where(Letter.to_post.is_(True), Letter.posted_at.is_(None))
            .order_by(Letter.id)
        ).all()
    emit(
        [
            {
                "id": letter.id,
                "case": number,
                "title": letter.title,
                "recipient": letter.recipient_name,
                "address": letter.address or ("(none: see the case)" if not as_json else None),
                "created_at": letter.created_at,
            }
            for letter, number in rows
        ],
        as_json,
        None if as_json else ["id", "case", "title", "recipient", "address", "created_at"],
    )


@letters.command("pdf")
@click.argument("letter_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="file to write")
@click.pass_context
def letters_pdf(ctx: click.Context, letter_id: int, output: Path | None) -> None:
    """Write a letter's PDF (to print it)."""
    app = obtain_app(ctx)
    with app.sessions() as session:
        letter = session.get(Letter, letter_id)
        if letter is None:
            fail(f"no letter {letter_id} (see kefu letters pending)")
            return
        target = output or Path(f"letter-{letter_id}.pdf")
        target.write_bytes(letter.pdf)
    click.echo(f"wrote {target}")


@letters.command("posted")
@click.argument("letter_id", type=int)
@click.option("--ems", required=True, help="the EMS tracking number")
@click.option("--by", "actor", default="staff", show_default=True, help="who posted it (staff key)")
@click.pass_context
def letters_posted(ctx: click.Context, letter_id: int, ems: str, actor: str) -> None:
    """Record that a letter was posted, with its EMS number, on the letter and its case."""
    from kefu.sla.cases import record_event

    app = obtain_app(ctx)
    ems = ems.strip().upper()
    if not ems.isalnum():
        fail(f"EMS number {ems!r} should be letters and digits, e.g. EA123456789CN")
    with transaction(app.sessions) as session:
        letter = session.get(Letter, letter_id)
        if letter is None:
            fail(f"no letter {letter_id} (see kefu letters pending)")
            return
        if letter.posted_at is not None:
            fail(f"letter {letter_id} was already recorded as posted with EMS {letter.ems_number}")
        letter.posted_at, letter.ems_number = app.clock.now(), ems
        case = session.get(Case, letter.case_id) if letter.case_id else None
        if case is not None:
            record_event(
                app.context(letter.plugin, session),
                case,
                "letter_posted",
                actor=actor,
                reason=f"《{letter.title}》 posted to {letter.recipient_name}, EMS {ems}",
                data={"letter_id": letter.id, "ems": ems},
            )
    click.echo(f"letter {letter_id} posted, EMS {ems}" + (f", recorded on {case.number}" if case else ""))


COMMANDS: list[click.Command] = [outbox, letters]
