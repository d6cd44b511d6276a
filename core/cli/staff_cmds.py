"""``kefu staff passwd NAME`` and ``kefu staff sessions``: console accounts and their sessions."""

from __future__ import annotations

import sys

import click

from kefu.cli.appctx import emit, fail, json_option, obtain_app
from kefu.db.engine import transaction


@click.group()
def staff() -> None:
    """Staff console accounts: passwords and signed-in sessions."""


@staff.command("passwd")
@click.argument("name")
@click.option("--stdin", "from_stdin", is_flag=True, help="read the password from standard input (scripts)")
@click.pass_context
def passwd(ctx: click.Context, name: str, from_stdin: bool) -> None:
    """Set the console password of NAME (a key of [staff.people]); their sessions end."""
    from kefu.console.auth import MIN_PASSWORD, set_password

    app = obtain_app(ctx)
    if name not in app.settings.staff.people:
        fail(f"{name!r} is not in [staff.people] of {app.config_path}")
        return
    if name not in app.settings.staff.access:
        click.echo(
            f"note: {name} has no [staff.access.{name}] entry yet, so they cannot sign in until one is added",
            err=True,
        )
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("new password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        fail(f"a console password has at least {MIN_PASSWORD} characters")
        return
    with transaction(app.sessions) as session:
        set_password(session, name, password, app.clock.now())
    click.echo(f"password of {name} set (argon2id); their console sessions were signed out")


@staff.command("sessions")
@click.argument("name", required=False)
@click.option("--revoke", "revoke_id", metavar="ID", help="end the session with this id")
@click.option("--everywhere", is_flag=True, help="end every session of NAME (sign out everywhere)")
@json_option
@click.pass_context
def sessions(ctx: click.Context, name: str | None, revoke_id: str | None, everywhere: bool, as_json: bool) -> None:
    """List live console sessions (of NAME, or everyone's); --revoke ID or --everywhere ends them."""
    from kefu.console.auth import list_sessions, revoke, revoke_all

    app = obtain_app(ctx)
    now = app.clock.now()
    if everywhere:
        if not name:
            fail("--everywhere needs the NAME whose sessions end")
            return
        with transaction(app.sessions) as session:
            count = revoke_all(session, name, now)
        click.echo(f"{name}: {count} session(s) ended")
        return
    if revoke_id:
        with transaction(app.sessions) as session:
            row = revoke(session, revoke_id, now)
        if row is None:
            fail(f"no session {revoke_id!r} (see `kefu staff sessions`)")
            return
        click.echo(f"session {revoke_id} of {row.staff_key} ended")
        return
    with app.sessions() as session:
        rows = list_sessions(session, app.settings.console, now, name)
    emit(rows, as_json)


COMMANDS: list[click.Command] = [staff]
