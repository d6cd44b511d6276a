"""Migrations: ``kefu db upgrade`` applies them; the daemon refuses to start on an old schema."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


class SchemaOutdated(RuntimeError):
    """The database is not at the code's migration head."""


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at kefu's migrations and at ``engine``."""
    cfg = Config()
    cfg.set_main_option("script_location", "kefu:migrations")
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    """The newest migration shipped with this code."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


def check_schema(engine: Engine) -> None:
    """Raise :class:`SchemaOutdated` naming the command to run if the schema is not current."""
    current, head = current_revision(engine), head_revision(engine)
    if current != head:
        what = "empty" if current is None else f"at revision {current}"
        raise SchemaOutdated(
            f"the database is {what}, the code needs revision {head}: "
            f"run `kefu db upgrade` (with the same --config) and start again"
        )
