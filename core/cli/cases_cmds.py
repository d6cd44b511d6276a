"""``kefu cases list|show|assign|step|resolve|callback|close|reopen|ack``: staff's moves on cases."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import select

from kefu.cli.appctx import emit, fail, json_option, obtain_app
from kefu.db.engine import transaction
from kefu.db.models import Case, Deadline, OutboxMessage
from kefu.outbound.moot import waiting
from kefu.secrets import mask


@click.group()
def cases() -> None:
    """Cases: list, inspect, and move them through their lifecycle."""


@cases.command("list")
@click.option("--state", help="only cases in this state (new, assigned, in_progress, resolved, …)")
@click.option("--plugin", help="only this plugin's cases")
@click.option("--all", "show_all", is_flag=True, help="include closed cases")
@click.option("--limit", default=100, show_default=True)
@json_option
@click.pass_context
def list_cases(
    ctx: click.Context, state: str | None, plugin: str | None, show_all: bool, limit: int, as_json: bool
) -> None:
    """List cases, newest first (open ones unless --all or --state)."""
    app = obtain_app(ctx)
    query = select(Case).order_by(Case.id.desc()).limit(limit)
    if state:
        query = query.where(Case.state == state)
    elif not show_all:
        query = query.where(Case.state != "closed")
    if plugin:
        query = query.where(Case.plugin == plugin)
    tz = app.settings.tz
    with app.sessions() as s:
        rows = [
            {
                "number": c.number,
                "kind": c.kind,
                "state": c.state,
                "step": c.step,
                "owner": c.owner,
                "unit": c.unit,
                "opened": c.opened_at.astimezone(tz),
                "title": c.title,
            }
            for c in s.scalars(query)
        ]
    emit(rows, as_json)


@cases.command("show")
@click.argument("number")
@json_option
@click.pass_context
def show(ctx: click.Context, number: str, as_json: bool) -> None:
    """A case with its deadlines and its full history."""
    from kefu.sla.cases import find_case

    app = obtain_app(ctx)
    tz = app.settings.tz
    with app.sessions() as s:
        case = find_case(s, number)
        if case is None:
            fail(f"no case {number!r} (see `kefu cases list`)")
            return
        info = {
            "number": case.number,
            "kind": case.kind,
            "title": case.title,
            "state": case.state,
            "step": case.step,
            "owner": case.owner,
            "unit": case.unit,
            "urgent": case.urgent,
            "satisfaction": case.satisfaction,
            "opened": case.opened_at.astimezone(tz).isoformat(),
        }
        deadlines = [
            {
                "name": d.name,
                "round": d.round,
                "state": d.state,
                "stage": d.stage,
                "due": d.due_at.astimezone(tz),
                "next": d.next_at.astimezone(tz) if d.next_at else None,
                "level": d.level,
                "met": d.met_at.astimezone(tz) if d.met_at else None,
            }
            for d in s.scalars(select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.id))
        ]
        history = [
            {
                "at": e.at.astimezone(tz),
                "actor": e.actor,
                "type": e.type,
                "from": e.from_state,
                "to": e.to_state,
                "reason": e.reason,
            }
            for e in case.events
        ]
        # What each message did, from the outbox itself: queued, held until when, sent, cancelled.
        now = app.clock.now()
        messages = [
            {
                "id": m.id,
                "queued": m.created_at.astimezone(tz),
                "channel": m.channel,
                "to": mask(m.recipient),
                "template": m.template,
                "state": m.state,
                "why": waiting(m, now, tz),
            }
            for m in s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id).order_by(OutboxMessage.id))
        ]
    if as_json:
        click.echo(
            json.dumps(
                {**info, "deadlines": deadlines, "events": history, "messages": messages},
                ensure_ascii=False,
                indent=1,
                default=str,
            )
        )
        return
    for key, value in info.items():
        click.echo(f"{key}: {value if value is not None else '-'}")
    click.echo("\ndeadlines:")
    emit(deadlines, False)
    click.echo("\nhistory:")
    emit(history, False)
    click.echo("\nmessages:")
    emit(messages, False)


def _move(ctx: click.Context, number: str, action: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    from kefu.sla.cases import CaseError, find_case
    from kefu.sla.lifecycle import IllegalTransition

    app = obtain_app(ctx)
    try:
        with transaction(app.sessions) as s:
            case = find_case(s, number)
            if case is None:
                fail(f"no case {number!r} (see `kefu cases list`)")
                return
            action(app.context(case.plugin, s), case, *args, **kwargs)
            click.echo(f"{case.number}: {case.state}" + (f" / {case.step}" if case.step else ""))
    except (IllegalTransition, CaseError) as exc:
        fail(str(exc))


_actor = click.option("--by", "actor", default="staff", show_default=True, help="who does it (staff key)")
_reason = click.option("--reason", help="why (kept in the case's history)")


@cases.command("assign")
@click.argument("number")
@click.argument("owner")
@_actor
@_reason
@click.pass_context
def assign_cmd(ctx: click.Context, number: str, owner: str, actor: str, reason: str | None) -> None:
    """Give case NUMBER to staff member OWNER."""
    from kefu.sla.cases import assign

    _move(ctx, number, assign, owner, actor=actor, reason=reason)


@cases.command("step")
@click.argument("number")
@click.argument("step")
@_actor
@_reason
@click.pass_context
def step_cmd(ctx: click.Context, number: str, step: str, actor: str, reason: str | None) -> None:
    """Move case NUMBER to process step STEP (e.g. 现场查看)."""
    from kefu.sla.cases import set_step

    _move(ctx, number, set_step, step, actor=actor, reason=reason)


@cases.command("resolve")
@click.argument("number")
@_actor
@_reason
@click.pass_context
def resolve_cmd(ctx: click.Context, number: str, actor: str, reason: str | None) -> None:
    """Mark case NUMBER resolved (its callback deadline starts)."""
    from kefu.sla.cases import resolve

    _move(ctx, number, resolve, actor=actor, reason=reason)


@cases.command("callback")
@click.argument("number")
@click.argument("score", type=click.IntRange(1, 5))
@_actor
@_reason
@click.pass_context
def callback_cmd(ctx: click.Context, number: str, score: int, actor: str, reason: str | None) -> None:
    """Record the callback answer (1–5): satisfied closes, otherwise the case reopens."""
    from kefu.sla.cases import record_callback

    _move(ctx, number, record_callback, score, actor=actor, reason=reason)


@cases.command("close")
@click.argument("number")
@_actor
@_reason
@click.pass_context
def close_cmd(ctx: click.Context, number: str, actor: str, reason: str | None) -> None:
    """Close case NUMBER."""
    from kefu.sla.cases import close

    _move(ctx, number, close, actor=actor, reason=reason)


@cases.command("reopen")
@click.argument("number")
@_actor
@_reason
@click.pass_context
def reopen_cmd(ctx: click.Context, number: str, actor: str, reason: str | None) -> None:
    """Reopen a resolved or closed case NUMBER."""
    from kefu.sla.cases import reopen

    _move(ctx, number, reopen, actor=actor, reason=reason)


@cases.command("ack")
@click.argument("number")
@_actor
@_reason
@click.pass_context
def ack_cmd(ctx: click.Context, number: str, actor: str, reason: str | None) -> None:
    """Acknowledge the escalation of case NUMBER: its reminders stop repeating."""
    from kefu.sla.cases import acknowledge_escalation

    _move(ctx, number, acknowledge_escalation, actor=actor, reason=reason)


COMMANDS: list[click.Command] = [cases]
