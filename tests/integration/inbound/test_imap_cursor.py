"""Only UIDs the IMAP cursor has passed are looked up; the insert's guard and the cursor keep one item per mail."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from imapclient import IMAPClient
from sqlalchemy import select

from kefu.app import App
from kefu.channels.polling import poll_channels
from kefu.channels.state import update_cursor
from kefu.db.engine import transaction
from kefu.db.models import Case, ChannelState, InboundItem
from kefu.intake.runner import run_intake
from kefu.intake.store import NewItem, store_items
from kefu.testing.databases import recorded_statements
from kefu.testing.dovecot import Dovecot
from kefu.testing.mail import build_mail


def _rows(app: App, model: type) -> list:
    with transaction(app.sessions) as session:
        key = next(iter(model.__table__.primary_key.columns))
        return list(session.scalars(select(model).order_by(key)))


def _uidvalidity(dovecot: Dovecot) -> int:
    client = dovecot.client()
    try:
        return int(client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"])
    finally:
        client.logout()


def test_new_mail_above_the_cursor_is_stored_without_looking_up_its_uids(
    imap_app: Callable[..., App], dovecot: Dovecot
) -> None:
    dovecot.append(build_mail(text="漏水"))
    app = imap_app()
    run_intake(app)
    dovecot.append(*[build_mail(text=f"不热 {i}") for i in range(3)])
    with recorded_statements(app.engine, containing="source_key") as lookups:
        assert poll_channels(app, force=True) == 3
    assert lookups == []
    assert len(_rows(app, InboundItem)) == 4
    assert _rows(app, ChannelState)[0].cursor["mailbox"]["last_uid"] == 4
    assert all(f == {b"\\Seen", b"KefuStored"} for f in dovecot.flags().values())


def test_mail_below_the_cursor_that_was_never_stored_is_still_read(
    imap_app: Callable[..., App], dovecot: Dovecot
) -> None:
    # A database restored from a backup: the cursor is ahead of what is stored.
    dovecot.append(build_mail(text="漏水"), build_mail(text="不热"))
    app = imap_app()
    with transaction(app.sessions) as session:
        update_cursor(
            session, "imap:service", mailbox={"name": "INBOX", "uidvalidity": _uidvalidity(dovecot), "last_uid": 50}
        )
    assert run_intake(app) == 2
    assert len(_rows(app, Case)) == 2
    assert dovecot.flags() == {1: {b"\\Seen", b"KefuStored"}, 2: {b"\\Seen", b"KefuStored"}}
    assert _rows(app, ChannelState)[0].cursor["mailbox"]["last_uid"] == 50  # never moved back


def test_a_mail_another_daemon_stored_meanwhile_is_stored_once(imap_app: Callable[..., App], dovecot: Dovecot) -> None:
    second = build_mail(text="不热", message_id="<second@client>")
    dovecot.append(build_mail(text="漏水", message_id="<first@client>"), second)
    app = imap_app()
    # Another daemon stored UID 2 after this one read the cursor (its cursor write is not seen here).
    with transaction(app.sessions) as session:
        store_items(
            session,
            [
                NewItem(
                    channel="imap:service",
                    source_key=f"INBOX:{_uidvalidity(dovecot)}:2",
                    kind="email",
                    raw=second,
                    received_at=app.clock.now(),
                    message_id="<second@client>",
                )
            ],
        )
    assert poll_channels(app, force=True) == 1  # the guarded row is not counted
    assert [i.message_id for i in _rows(app, InboundItem)] == ["<second@client>", "<first@client>"]
    assert dovecot.flags() == {1: {b"\\Seen", b"KefuStored"}, 2: {b"\\Seen", b"KefuStored"}}
    run_intake(app)
    assert len(_rows(app, Case)) == 2


def test_mail_stored_but_not_marked_is_only_marked_not_fetched_again(
    imap_app: Callable[..., App], dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kefu.channels.imap as imap

    dovecot.append(build_mail(text="漏水"), build_mail(text="不热"))
    app = imap_app()

    def lost_connection(*_args: object) -> None:
        raise ConnectionError("connection lost before marking")

    with monkeypatch.context() as patch:
        patch.setattr(imap, "_mark", lost_connection)
        assert poll_channels(app, force=True) == 0  # recorded as the channel's error
    assert len(_rows(app, InboundItem)) == 2 and dovecot.flags() == {1: set(), 2: set()}
    fetched: list[list[int]] = []
    original = IMAPClient.fetch

    def spy(self: IMAPClient, messages: list[int], *args: object, **kwargs: object) -> object:
        fetched.append(list(messages))
        return original(self, messages, *args, **kwargs)

    monkeypatch.setattr(IMAPClient, "fetch", spy)
    assert poll_channels(app, force=True) == 0
    assert fetched == []
    assert dovecot.flags() == {1: {b"\\Seen", b"KefuStored"}, 2: {b"\\Seen", b"KefuStored"}}
    assert len(_rows(app, InboundItem)) == 2
