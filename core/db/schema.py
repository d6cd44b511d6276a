"""Migrations: ``kefu db upgrade`` applies them; the daemon refuses to start on an old schema."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (with Mako and Pygments) costs a third of `kefu run`'s start-up: it is imported
# only when a migration runs or the fast check below cannot confirm the schema.
VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*['\"]?([\w-]+|None)['\"]?", re.M)


class SchemaOutdated(RuntimeError):
    """The database is not at the code's migration head."""


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at kefu's migrations and at ``engine``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "kefu:migrations")
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    """The newest migration shipped with this code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def check_schema(engine: Engine) -> None:
    """Raise :class:`SchemaOutdated` naming the command to run if the schema is not current."""
    if _fast_current(engine):
        return
    current, head = current_revision(engine), head_revision(engine)
    if current != head:
        what = "empty" if current is None else f"at revision {current}"
        raise SchemaOutdated(
            f"the database is {what}, the code needs revision {head}: "
            f"run `kefu db upgrade` (with the same --config) and start again"
        )


def _head_from_files() -> str | None:
    """The head of a linear migration history, read from the version files' text."""
    revisions, parents = set(), set()
    for path in VERSIONS.glob("*.py"):
        found = dict((key, value) for key, value in _REVISION.findall(path.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
            if found.get("down_revision") not in (None, "None"):
                parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _fast_current(engine: Engine) -> bool:
    """True when the database's alembic_version is the files' single head (no Alembic import)."""
    head = _head_from_files()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            versions = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    except Exception:
        return False  # no table yet, or unreadable: the full check explains
    return versions == [head]
