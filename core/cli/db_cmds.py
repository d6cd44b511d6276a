"""``kefu db``: upgrade the schema, show where each branch is, write a plugin's next revision."""

from __future__ import annotations

import click

from kefu.cli.appctx import emit, fail, json_option, obtain_app


@click.group()
def db() -> None:
    """The database schema: the core's revisions and each enabled plugin's."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Bring the core and each enabled plugin to their newest revision.

    A disabled plugin's tables are not created; enable it and run this again.
    """
    from kefu.db.revisions import MigrationError
    from kefu.db.schema import upgrade

    app = obtain_app(ctx, check=False)
    try:
        done = upgrade(app.engine, app.host.enabled, default_country=app.settings.kefu.default_country)
    except MigrationError as exc:
        fail(str(exc))
        return
    core, *plugins = done
    click.echo(f"database upgraded from {_shown(core.before)} to {_shown(core.after)}")
    for branch in plugins:
        click.echo(f"  plugin {branch.branch}: from {_shown(branch.before)} to {_shown(branch.after)}")


@db.command("current", short_help="Show each branch's revision and whether it is at head.")
@json_option
@click.pass_context
def db_current(ctx: click.Context, as_json: bool) -> None:
    """Show each branch's revision: in the database, in the code, at head or not.

    One row for the core (kefu), one per enabled plugin that has tables, and one
    for each other branch the database holds (a disabled plugin's, or "?" for a
    revision no installed code ships).
    """
    from kefu.db.schema import branch_states

    app = obtain_app(ctx, check=False)
    emit(
        [state.as_row() for state in branch_states(app.engine, app.host.enabled)],
        as_json,
        columns=["branch", "enabled", "database", "code", "current"],
    )


@db.command("revision", short_help="Write the next revision of a plugin (or kefu) from its models.")
@click.argument("branch")
@click.option("-m", "--message", required=True, help="what the revision changes (becomes its file name)")
@click.option("--empty", is_flag=True, help="write upgrade()/downgrade() yourself instead of autogenerating")
@click.option(
    "--depends-on",
    default=None,
    metavar="REV",
    help="a revision of another branch this one needs (a plugin's first one: the core's head)",
)
def db_revision(branch: str, message: str, empty: bool, depends_on: str | None) -> None:
    """Write the next revision of BRANCH (a plugin, or kefu) from its models.

    The models are compared with a throw-away SQLite database at every installed
    branch's head; the file goes in the plugin's migrations/ folder beside its
    hooks module. Needs no config and touches no database of yours.
    """
    from kefu.db.new_revision import write_revision
    from kefu.db.revisions import MigrationError

    try:
        path = write_revision(branch, message, autogenerate=not empty, depends_on=depends_on)
    except MigrationError as exc:
        fail(str(exc))
        return
    click.echo(f"wrote {path}; read it, then run `kefu db upgrade`")


def _shown(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) or "empty"


COMMANDS: list[click.Command] = [db]
