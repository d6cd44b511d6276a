"""ManyRows on both engines: the values SQLAlchemy's own executemany would write, row counts, and
a statement that binds what the rows do not give refused before anything runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select, update

from kefu.db.base import table_of
from kefu.db.engine import make_engine, session_factory, transaction
from kefu.db.many_rows import ManyRows
from kefu.db.models import ChannelState
from kefu.db.schema import upgrade

_STATE = table_of(ChannelState)
_COLUMNS = ("name", "cursor", "last_success_at", "last_error_at", "last_error")


def test_rows_are_written_as_sqlalchemy_writes_them(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    shanghai = timezone(timedelta(hours=8))
    rows = [{"name": f"imap:{i}", "cursor": {"uid": i, "名": "值"}, "last_success_at": datetime(2026, 11, 2, 9, i, tzinfo=shanghai),
             "last_error_at": None, "last_error": None if i else "断开"} for i in range(3)]
    with transaction(sessions) as session:
        assert ManyRows(insert(_STATE), _COLUMNS).execute(session.connection(), rows[:2]) == 2
        session.connection().execute(insert(_STATE), rows[2:])  # SQLAlchemy's own path, to compare
        assert ManyRows(insert(_STATE), _COLUMNS).execute(session.connection(), []) == 0
    touched = ManyRows(update(_STATE).where(_STATE.c.name == bindparam("key")).values(last_error=bindparam("error")),
                       ("key", "error"))
    with transaction(sessions) as session:
        assert touched.execute(session.connection(), [{"key": "imap:1", "error": "超时"},
                                                      {"key": "imap:9", "error": "nobody"}]) == 1
    with transaction(sessions) as session:
        found = {s.name: s for s in session.scalars(select(ChannelState))}
    assert [found[f"imap:{i}"].cursor for i in range(3)] == [row["cursor"] for row in rows]
    assert [found[f"imap:{i}"].last_success_at for i in range(3)] == [
        datetime(2026, 11, 2, 1, i, tzinfo=UTC) for i in range(3)]
    assert [found[f"imap:{i}"].last_error for i in range(3)] == ["断开", "超时", None]
    engine.dispose()


def test_a_row_missing_a_bind_runs_nothing(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        with pytest.raises(KeyError, match="last_error"):
            ManyRows(insert(_STATE), _COLUMNS).execute(
                session.connection(), [{"name": "imap:a", "cursor": {}, "last_success_at": None,
                                        "last_error_at": None}])
        assert session.scalars(select(ChannelState)).all() == []
    engine.dispose()


def test_a_statement_binding_what_the_rows_do_not_give_is_refused(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    # ``cursor`` has a default SQLAlchemy would fill in per row; ManyRows does not.
    statement = ManyRows(insert(_STATE), ("name", "last_success_at", "last_error_at", "last_error"))
    with transaction(session_factory(engine)) as session, pytest.raises(ValueError, match="cursor"):
        statement.execute(session.connection(), [{"name": "imap:a", "last_success_at": None,
                                                  "last_error_at": None, "last_error": None}])
    engine.dispose()
