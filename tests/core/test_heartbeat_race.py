"""Two daemons writing the first heartbeat (or channel row) of an empty database at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from kefu.app import App, build_app
from kefu.clock import FakeClock
from kefu.db.base import table_of
from kefu.db.engine import transaction
from kefu.db.models import ChannelState, Heartbeat
from kefu.db.schema import upgrade
from kefu.passes import record_heartbeat
from kefu.testing.databases import postgres_available, postgres_schema
from kefu.testing.fixtures import START, base_config, skip_or_fail


@pytest.fixture
def pg_app(tmp_path: Path) -> Iterator[App]:
    """An app on a fresh PostgreSQL schema (the race needs row locks SQLite does not have)."""
    reason = postgres_available()
    if reason:
        skip_or_fail(reason)
    with postgres_schema() as url:
        app = build_app(
            tmp_path / "kefu.toml",
            raw=base_config(tmp_path, url, ["example"]),
            clock=FakeClock(START),
        )
        upgrade(app.engine)
        try:
            yield app
        finally:
            app.dispose()


def wait_until_blocked_by(app: App, holder: int, timeout: float = 10.0) -> None:
    """Until another session waits on backend ``holder``'s row lock (observing, not timing it)."""
    deadline = time.monotonic() + timeout
    with app.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))"),
                {"holder": holder},
            )
            if waiting:
                return
            conn.rollback()  # pg_stat_activity is a snapshot per transaction
            time.sleep(0.02)
    raise TimeoutError("the second writer never waited on the first one's row")


def race(app: App, first_insert: object, second: object) -> list[BaseException]:
    """Run ``second`` in a thread while the other daemon's first insert is uncommitted."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            second()
        except BaseException as exc:
            errors.append(exc)

    with app.engine.begin() as other_daemon:
        other_daemon.execute(first_insert)
        holder = other_daemon.scalar(text("SELECT pg_backend_pid()"))
        thread = threading.Thread(target=run)
        thread.start()
        wait_until_blocked_by(app, int(holder))
    thread.join(timeout=30)
    assert not thread.is_alive()
    return errors


def test_the_first_heartbeat_of_two_daemons_is_no_error(pg_app: App) -> None:
    now = pg_app.clock.now()
    first = insert(table_of(Heartbeat)).values(name="intake", at=now, detail="other daemon")
    errors = race(pg_app, first, lambda: record_heartbeat(pg_app, "intake", "0 handled"))
    assert errors == []
    with transaction(pg_app.sessions) as session:
        beats = list(session.scalars(select(Heartbeat)))
    assert [(b.name, b.detail) for b in beats] == [("intake", "0 handled")]


def test_the_first_channel_row_of_two_daemons_is_no_error(pg_app: App) -> None:
    from kefu.channels.state import record_success

    first = insert(table_of(ChannelState)).values(name="imap.repairs", cursor={})

    def second() -> None:
        with transaction(pg_app.sessions) as session:
            record_success(session, "imap.repairs", pg_app.clock.now())

    assert race(pg_app, first, second) == []
    with transaction(pg_app.sessions) as session:
        row = session.get(ChannelState, "imap.repairs")
        assert row is not None and row.last_success_at is not None


def test_heartbeats_update_in_place(make_app, clock) -> None:
    app = make_app()
    record_heartbeat(app, "sweep", "1 handled")
    clock.advance(seconds=5)
    record_heartbeat(app, "sweep", "2 handled")
    with transaction(app.sessions) as session:
        beats = [(b.name, b.detail, b.at) for b in session.scalars(select(Heartbeat))]
    assert beats == [("sweep", "2 handled", clock.now())]
