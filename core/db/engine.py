"""The engine and transactions: SQLite (WAL, busy timeout) or PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys.

    A SQLite file's folder is created if it is missing (the state directory on a
    fresh machine).
    """
    parsed = make_url(url)
    # hide_parameters: a database error's text names the statement, never the values bound to
    # it (phone numbers, addresses, a customer's words), so no log or stored error carries them.
    kwargs: dict[str, Any] = {"echo": echo, "future": True, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        kwargs["json_deserializer"] = _json_loads
        kwargs["json_serializer"] = _json_dumps
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    kwargs["pool_pre_ping"] = True
    return create_engine(url, **kwargs)


def _json_loads(text: str) -> Any:
    # Most rows' ``data`` is an empty object; json.loads costs as much as reading the rest of the row.
    return {} if text == "{}" else json.loads(text)


def _json_dumps(value: Any) -> str:
    # And most rows written: json.dumps of an empty object costs as much as binding the rest of the row.
    return "{}" if type(value) is dict and not value else json.dumps(value)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN until the first write, which
        # lets two writers deadlock on upgrade; we issue BEGIN IMMEDIATE ourselves.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(engine_or_session: Engine | Session) -> bool:
    """True when the database is PostgreSQL (claims use SKIP LOCKED there)."""
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session in one transaction: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def database_reason(exc: DBAPIError) -> str:
    """What the database driver said, in one line, without the statement or SQLAlchemy's help link."""
    said = str(exc.orig) if exc.orig is not None else str(exc)
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
