"""The IMAP reader thread against a real Dovecot: marks only what is committed, processing runs
between batches, and a connection lost mid-poll loses nothing and makes no second case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

import kefu.channels.imap as imap
import kefu.intake.runner as intake_runner
from kefu.app import App
from kefu.db.engine import transaction
from kefu.db.models import Case, ChannelState, InboundItem
from kefu.intake.runner import run_intake
from kefu.testing.dovecot import Dovecot
from kefu.testing.mail import build_mail


def _count(app: App, model: type) -> int:
    with transaction(app.sessions) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _stored_uids(app: App) -> set[int]:
    with transaction(app.sessions) as session:
        keys = session.scalars(select(InboundItem.source_key).where(InboundItem.channel == "imap:service"))
        return {int(key.rsplit(":", 1)[1]) for key in keys}


def _flags(dovecot: Dovecot) -> dict[int, set[bytes]]:
    client = dovecot.client()
    try:
        client.select_folder("INBOX", readonly=True)
        return {uid: set(f) for uid, f in client.get_flags(client.search("ALL")).items()}
    finally:
        client.logout()


def test_marks_only_committed_batches_and_processes_between_them(
        imap_app: Callable[..., App], dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    dovecot.append(*[build_mail(text=f"漏水 {i}", message_id=f"<p{i}@client>") for i in range(10)])
    app = imap_app(batch_size=1)
    timeline: list[tuple[str, Any]] = []
    real_mark, real_fetch = imap._mark, imap.IMAPClient.fetch
    real_process = intake_runner.process_pending

    def mark(client: Any, cfg: Any, uids: list[int]) -> None:
        # Runs in the reader thread: every UID it marks must be committed already.
        timeline.append(("mark", uids, set(uids) <= _stored_uids(app)))
        real_mark(client, cfg, uids)

    def fetch(self: Any, uids: Any, *args: Any, **kwargs: Any) -> Any:
        timeline.append(("fetch", list(uids), True))
        return real_fetch(self, uids, *args, **kwargs)

    def process(app_: App, **kwargs: Any) -> int:
        done = real_process(app_, **kwargs)
        timeline.append(("process", done, True))
        return done

    monkeypatch.setattr(imap, "_mark", mark)
    monkeypatch.setattr(imap.IMAPClient, "fetch", fetch)
    monkeypatch.setattr(intake_runner, "process_pending", process)
    assert run_intake(app) == 10
    assert _count(app, Case) == 10
    assert all(committed for what, _uids, committed in timeline if what == "mark")
    assert sorted(u for what, uids, _ in timeline if what == "mark" for u in uids) == list(range(1, 11))
    fetches = [i for i, (what, _uids, _ok) in enumerate(timeline) if what == "fetch"]
    first_processed = next(i for i, (what, done, _ok) in enumerate(timeline) if what == "process" and done)
    # The reader is at most a few batches ahead: the first batch is processed long before the last fetch.
    assert first_processed < fetches[-1]
    assert _flags(dovecot) == {uid: {b"\\Seen", b"KefuStored"} for uid in range(1, 11)}


def test_connection_lost_while_marking_loses_nothing_and_opens_no_second_case(
        imap_app: Callable[..., App], dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    dovecot.append(*[build_mail(text=f"漏水 {i}", message_id=f"<q{i}@client>") for i in range(6)])
    app = imap_app(batch_size=2)
    real_mark = imap._mark
    calls = {"n": 0}

    def flaky_mark(client: Any, cfg: Any, uids: list[int]) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionResetError("connection reset by peer")
        real_mark(client, cfg, uids)

    monkeypatch.setattr(imap, "_mark", flaky_mark)
    run_intake(app)  # the channel fails; recorded, not raised
    [state] = (s for s in _rows(app) if s.name == "imap:service")
    assert "ConnectionResetError" in (state.last_error or "")
    flags = _flags(dovecot)
    assert flags[1] == flags[2] == {b"\\Seen", b"KefuStored"}  # the first batch was marked
    assert flags[3] == flags[4] == set()  # stored, never marked
    stored_before = _stored_uids(app)
    assert {1, 2, 3, 4} <= stored_before
    cases_before = _count(app, Case)
    assert cases_before == len(stored_before)  # what was stored was processed all the same

    monkeypatch.setattr(imap, "_mark", real_mark)
    app.clock.advance(seconds=6)  # type: ignore[attr-defined]  # past the first backoff
    run_intake(app)
    assert _flags(dovecot) == {uid: {b"\\Seen", b"KefuStored"} for uid in range(1, 7)}
    assert _count(app, InboundItem) == 6 and _count(app, Case) == 6
    with transaction(app.sessions) as session:
        statuses = set(session.scalars(select(InboundItem.status)))
    assert statuses == {"processed"}


def _rows(app: App) -> list[ChannelState]:
    with transaction(app.sessions) as session:
        return list(session.scalars(select(ChannelState)))
