"""One INSERT … ON CONFLICT for both engines: rows that several daemons may create first.

Two daemons starting together on an empty database both find no heartbeat row
and both insert it; the slower one's transaction then fails on the primary key.
Writing such rows with ``ON CONFLICT`` (SQLite and PostgreSQL both have it) makes
the first write and every later one the same statement, so there is no race.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert(session: Session, table: Table, values: Mapping[str, Any]) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).values(**values)
    if dialect == "sqlite":
        return sqlite.insert(table).values(**values)
    raise NotImplementedError(f"no INSERT … ON CONFLICT for the {dialect} dialect")


def upsert(session: Session, table: Table, values: Mapping[str, Any], key: Sequence[str]) -> None:
    """Insert ``values``, or update every other column of the row whose ``key`` columns match."""
    stmt = _insert(session, table, values)
    changed = {name: stmt.excluded[name] for name in values if name not in key}
    session.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=changed))
