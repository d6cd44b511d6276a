"""Migrations: ``kefu db upgrade`` applies them; the daemon refuses to start on an old schema.

The schema is one Alembic history with one base per branch: the core's revisions
(branch ``kefu``, in ``kefu/migrations/versions``) and each plugin's (branch named
after the plugin, in the ``migrations/`` folder beside its hooks module), all in
one ``alembic_version`` table. A plugin's first revision ``depends_on`` the core
revision its tables need. Only the core and the *enabled* plugins are upgraded
and checked; a disabled plugin's revisions are still read, so that what it left
in the database is understood.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from kefu.db.branches import CORE, Branch, installed_branches, select
from kefu.db.revisions import MigrationError, read_graph

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (with Mako and Pygments) costs a third of `kefu run`'s start-up: it is imported
# only when a migration runs; the check reads the revision files' text (kefu.db.revisions).
VERSION_TABLE = "alembic_version"


class SchemaOutdated(MigrationError):
    """The database is not at the code's migration heads (core and enabled plugins)."""


@dataclass(frozen=True)
class BranchState:
    """Where one branch is: the revision(s) the database has and the code's head(s)."""

    branch: str
    enabled: bool
    database: tuple[str, ...]
    code: tuple[str, ...]

    @property
    def current(self) -> bool:
        """True when the database has every head of this branch."""
        return self.database == self.code

    def as_row(self) -> dict[str, object]:
        """The row ``kefu db current`` prints."""
        return {
            "branch": self.branch,
            "enabled": self.enabled,
            "database": ", ".join(self.database) or "empty",
            "code": ", ".join(self.code) or "-",
            "current": self.current,
        }


def alembic_config(
    engine: Engine, branches: Sequence[Branch] | None = None, *, default_country: str | None = None
) -> Config:
    """An Alembic config over the core's and every installed plugin's revisions, on ``engine``.

    ``default_country`` (the site's ``[kefu] default_country``) is what a data migration
    assumes for a phone number written without one.
    """
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "kefu:migrations")
    cfg.set_main_option("path_separator", "os")
    folders = [str(b.folder) for b in (branches if branches is not None else installed_branches())]
    # ConfigParser interpolates "%" in option values.
    cfg.set_main_option("version_locations", os.pathsep.join(folders).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    if default_country is not None:
        cfg.attributes["default_country"] = default_country
    return cfg


def database_revisions(engine: Engine) -> list[str]:
    """The rows of ``alembic_version`` (empty for an empty database)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return []
        return sorted(row[0] for row in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")))


def head_revision(engine: Engine | None = None) -> str | None:
    """The newest core revision shipped with this code."""
    heads = read_graph([installed_branches()[0]]).heads(CORE)
    return heads[0] if heads else None


def current_revision(engine: Engine) -> str | None:
    """The core revision the database is at (None for an empty database)."""
    graph = read_graph(installed_branches())
    found = graph.current(CORE, database_revisions(engine))
    return found[0] if found else None


def branch_states(engine: Engine, enabled: Iterable[str] | None = None) -> list[BranchState]:
    """Each branch's state: the core's, the enabled plugins', then others the database has.

    ``enabled`` None counts every installed plugin as enabled.
    """
    installed = installed_branches()
    graph = read_graph(installed)
    rows = database_revisions(engine)
    chosen = select(installed, enabled)
    names = {b.name for b in chosen}
    states = [BranchState(b.name, True, tuple(graph.current(b.name, rows)), tuple(graph.heads(b.name))) for b in chosen]
    for b in installed:
        if b.name not in names and graph.current(b.name, rows):
            states.append(BranchState(b.name, False, tuple(graph.current(b.name, rows)), tuple(graph.heads(b.name))))
    for row in graph.unknown(rows):
        states.append(BranchState("?", False, (row,), ()))
    return states


@dataclass(frozen=True)
class Upgraded:
    """One branch's revisions before and after ``kefu db upgrade``."""

    branch: str
    before: tuple[str, ...]
    after: tuple[str, ...]


def upgrade(
    engine: Engine, plugins: Iterable[str] | None = None, *, default_country: str | None = None
) -> list[Upgraded]:
    """Bring the core and ``plugins`` (None: every installed plugin) to their heads.

    ``default_country`` reaches the data migrations (phone numbers to E.164); CN without it.

    A revision in the database that no installed branch ships stops the upgrade with
    its id (Alembic could not start from it).
    """
    from alembic import command
    from alembic.util import CommandError

    installed = installed_branches()
    graph = read_graph(installed)
    rows = database_revisions(engine)
    unknown = graph.unknown(rows)
    if unknown:
        raise MigrationError(
            f"the database is at revision {', '.join(unknown)}, which this code does not ship "
            "(written by a newer kefu, or by a plugin that is no longer installed); reinstall it first"
        )
    cfg = alembic_config(engine, installed, default_country=default_country)
    done = []
    for branch in select(installed, plugins):
        before = tuple(graph.current(branch.name, rows))
        for head in graph.heads(branch.name):
            try:
                command.upgrade(cfg, head)
            except CommandError as exc:  # Alembic's own refusal: say which branch it was
                raise MigrationError(f"cannot upgrade branch {branch.name!r} to {head}: {exc}") from exc
        rows = database_revisions(engine)
        done.append(Upgraded(branch.name, before, tuple(graph.current(branch.name, rows))))
    return done


def check_schema(engine: Engine, plugins: Iterable[str] = ()) -> None:
    """Raise :class:`SchemaOutdated` naming the command to run unless the core and ``plugins`` are at head."""
    installed = installed_branches()
    graph = read_graph(installed)
    rows = database_revisions(engine)
    applied = graph.applied(rows)
    needed = [head for b in select(installed, plugins) for head in graph.heads(b.name)]
    missing = [head for head in needed if head not in applied]
    if missing or graph.unknown(rows):
        what = "empty" if not rows else f"at revision {', '.join(rows)}"
        wanted = missing or needed
        needs = f"revision {wanted[0]}" if len(wanted) == 1 else f"revisions {', '.join(wanted)}"
        raise SchemaOutdated(
            f"the database is {what}, the code needs {needs}: "
            f"run `kefu db upgrade` (with the same --config) and start again"
        )
