"""Reading a big mailbox against a real Dovecot, batch by batch on one connection: only what is
committed is marked, processing runs between batches, and a lost connection loses nothing and
makes no second case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

import kefu.channels.imap as imap
import kefu.intake.runner as intake_runner
from kefu.app import App
from kefu.db.engine import transaction
from kefu.db.models import Attachment, Case, ChannelState, InboundItem
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


def test_marks_only_committed_batches_and_processes_between_them(
    imap_app: Callable[..., App], dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    dovecot.append(*[build_mail(text=f"漏水 {i}", message_id=f"<p{i}@client>") for i in range(10)])
    app = imap_app(batch_size=1)
    timeline: list[tuple[str, Any, bool]] = []
    real_mark, real_process = imap._mark, intake_runner.process_pending

    def mark(client: Any, cfg: Any, uids: list[int]) -> None:
        # Every UID marked must be committed already.
        timeline.append(("mark", uids, set(uids) <= _stored_uids(app)))
        real_mark(client, cfg, uids)

    def process(app_: App, **kwargs: Any) -> int:
        done = real_process(app_, **kwargs)
        timeline.append(("process", done, True))
        return done

    monkeypatch.setattr(imap, "_mark", mark)
    monkeypatch.setattr(intake_runner, "process_pending", process)
    assert run_intake(app) == 10
    assert _count(app, Case) == 10
    assert all(committed for what, _uids, committed in timeline if what == "mark")
    assert sorted(u for what, uids, _ in timeline if what == "mark" for u in uids) == list(range(1, 11))
    marks = [i for i, (what, _uids, _ok) in enumerate(timeline) if what == "mark"]
    first_processed = next(i for i, (what, done, _ok) in enumerate(timeline) if what == "process" and done)
    # Processing runs between the batches, not after the whole mailbox is read.
    assert first_processed < marks[-1]
    assert dovecot.flags() == {uid: {b"\\Seen", b"KefuStored"} for uid in range(1, 11)}


def test_mail_of_every_shape_is_understood_when_read_in_batches(imap_app: Callable[..., App], dovecot: Dovecot) -> None:
    photo = bytes(range(256)) * 40
    dovecot.append(
        build_mail(
            subject="暖气不热",
            subject_charset="gb2312",
            charset="gbk",
            encoding="quoted-printable",
            text="3单元暖气不热",
            message_id="<w1@client>",
        ),
        build_mail(
            subject="暖氣滴漏",
            sender_name="陳先生",
            charset="big5",
            encoding="base64",
            text="暖氣管滴漏",
            message_id="<w2@client>",
        ),
        build_mail(
            subject="照片",
            text="漏水照片见附件",
            attachments=[("漏水.jpg", "image/jpeg", photo)],
            message_id="<w3@client>",
        ),
        build_mail(
            subject="自动回复", text="我在休假", headers={"Auto-Submitted": "auto-replied"}, message_id="<w4@client>"
        ),
        build_mail(subject="", text=None, html="<p>楼道<b>跑水</b>了</p>", message_id="<w5@client>"),
    )
    app = imap_app(batch_size=2)
    assert run_intake(app) == 5
    with transaction(app.sessions) as session:
        items = {i.message_id: i for i in session.scalars(select(InboundItem))}
        attachments = list(session.scalars(select(Attachment)))
    assert items["<w1@client>"].subject == "暖气不热" and items["<w1@client>"].text == "3单元暖气不热"
    assert items["<w2@client>"].subject == "暖氣滴漏" and items["<w2@client>"].text == "暖氣管滴漏"
    assert items["<w4@client>"].data.get("noise") == "auto_reply"
    assert "跑水" in (items["<w5@client>"].text or "")
    [attachment] = attachments
    assert attachment.filename == "漏水.jpg" and attachment.content == photo
    assert {i.status for i in items.values()} <= {"processed", "unclaimed", "noise"}  # none quarantined


def test_connection_lost_while_marking_loses_nothing_and_opens_no_second_case(
    imap_app: Callable[..., App], dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    dovecot.append(*[build_mail(text=f"漏水 {i}", message_id=f"<q{i}@client>") for i in range(6)])
    app = imap_app(batch_size=2)
    real_mark = imap._mark
    calls: list[list[int]] = []

    def flaky_mark(client: Any, cfg: Any, uids: list[int]) -> None:
        calls.append(list(uids))
        if len(calls) == 2:
            raise ConnectionResetError("connection reset by peer")
        real_mark(client, cfg, uids)

    monkeypatch.setattr(imap, "_mark", flaky_mark)
    run_intake(app)  # the channel fails; recorded, not raised
    [state] = (s for s in _rows(app) if s.name == "imap:service")
    assert "ConnectionResetError" in (state.last_error or "")
    flags = dovecot.flags()
    first, failed = calls[0], calls[1]
    assert all(flags[uid] == {b"\\Seen", b"KefuStored"} for uid in first)  # the first batch was marked
    assert all(flags[uid] == set() for uid in failed)  # stored, never marked
    stored_before = _stored_uids(app)
    assert set(first) | set(failed) <= stored_before
    cases_before = _count(app, Case)
    assert cases_before == len(stored_before)  # what was stored was processed all the same

    monkeypatch.setattr(imap, "_mark", real_mark)
    app.clock.advance(seconds=6)  # past the first backoff
    run_intake(app)
    assert dovecot.flags() == {uid: {b"\\Seen", b"KefuStored"} for uid in range(1, 7)}
    assert _count(app, InboundItem) == 6 and _count(app, Case) == 6
    with transaction(app.sessions) as session:
        statuses = set(session.scalars(select(InboundItem.status)))
    assert statuses == {"processed"}


def _rows(app: App) -> list[ChannelState]:
    with transaction(app.sessions) as session:
        return list(session.scalars(select(ChannelState)))


def test_a_server_allowing_one_connection_per_account_is_read_whole(
    imap_app: Callable[..., App], dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    dovecot.append(*[build_mail(text=f"漏水 {i}", message_id=f"<r{i}@client>") for i in range(7)])
    real_connect = imap.connect
    opened: list[int] = []

    def connect(cfg: Any) -> Any:
        # A server that allows one connection per account (NetEase's free accounts): the poll's.
        if opened:
            raise ConnectionRefusedError("too many connections for this account")
        opened.append(1)
        return real_connect(cfg)

    monkeypatch.setattr(imap, "connect", connect)
    app = imap_app(batch_size=2)
    assert run_intake(app) == 7
    assert _count(app, InboundItem) == 7 and _count(app, Case) == 7
    assert dovecot.flags() == {uid: {b"\\Seen", b"KefuStored"} for uid in range(1, 8)}
    with transaction(app.sessions) as session:
        assert [s.last_error for s in session.scalars(select(ChannelState))] == [None]


@pytest.mark.parametrize("batch_size", [2, 200])
def test_no_batch_holds_more_than_batch_bytes(
    imap_app: Callable[..., App], dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    photo = bytes(range(256)) * 4096  # 1 MiB: a photo of a leak
    dovecot.append(
        *[
            build_mail(
                text=f"漏水照片 {i}", attachments=[(f"{i}.jpg", "image/jpeg", photo)], message_id=f"<b{i}@client>"
            )
            for i in range(5)
        ]
    )
    monkeypatch.setattr(imap, "BATCH_BYTES", 2 << 20)  # a message with its photo is ~1.4 MiB
    marked: list[list[int]] = []
    real_mark = imap._mark

    def mark(client: Any, cfg: Any, uids: list[int]) -> None:
        marked.append(list(uids))
        real_mark(client, cfg, uids)

    monkeypatch.setattr(imap, "_mark", mark)
    app = imap_app(batch_size=batch_size)
    assert run_intake(app) == 5
    assert marked == [[1], [2], [3], [4], [5]]
    with transaction(app.sessions) as session:
        assert [len(a.content) for a in session.scalars(select(Attachment))] == [len(photo)] * 5


def test_batches_hold_at_most_batch_size_messages() -> None:
    uids = list(range(1, 1001))
    assert [len(b) for b in imap.batches(uids, {}, 200)] == [200] * 5
    assert [len(b) for b in imap.batches(uids[:1], {}, 200)] == [1]  # a batch of one is a batch
