"""Storing raw items once: the Message-ID read from the header, stored keys skipped, the count of rows inserted."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from kefu.app import App
from kefu.db.engine import transaction
from kefu.db.models import InboundItem
from kefu.intake.store import NewItem, mail_message_id, store_items


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"From: a@b\r\nMessage-ID: <crlf@x>\r\n\r\nbody", "<crlf@x>"),
        (b"From: a@b\nmessage-id: <lf@x>\n\nbody", "<lf@x>"),
        (b"From: a@b\r\nMessage-ID:\r\n <folded@x>\r\n\r\nbody", "<folded@x>"),
        (b"Message-ID: not-an-id\r\nMESSAGE-ID: <second@x>\r\n\r\n", "<second@x>"),
        (b"From: a@b\r\n\r\nMessage-ID: <in-body@x>\r\n", None),
        (b"From: a@b\n\nMessage-ID: <in-body@x>\r\n\r\n", None),  # a bare LF LF ends the header first
        (b"X-Message-ID: <other@x>\r\n\r\n", None),
        (b"Message-ID: <no-body@x>", "<no-body@x>"),
        (b"", None),
    ],
)
def test_message_id_is_read_from_the_header_block_only(raw: bytes, expected: str | None) -> None:
    assert mail_message_id(raw) == expected


def _item(app: App, key: str, channel: str = "imap:service", message_id: str | None = None) -> NewItem:
    return NewItem(
        channel=channel,
        source_key=key,
        kind="email",
        raw=b"Subject: x\r\n\r\nx",
        received_at=app.clock.now(),
        message_id=message_id,
    )


def _stored(app: App) -> list[tuple[str, str, str]]:
    with transaction(app.sessions) as session:
        return [
            (i.channel, i.source_key, i.status) for i in session.scalars(select(InboundItem).order_by(InboundItem.id))
        ]


def test_stored_keys_are_skipped_per_channel(make_app: Callable[..., App]) -> None:
    app = make_app()
    with transaction(app.sessions) as session:
        assert store_items(session, [_item(app, "1", "imap:a")]) == 1
    with transaction(app.sessions) as session:
        added = store_items(
            session,
            [
                _item(app, "1", "imap:a"),
                _item(app, "1", "imap:b"),
                _item(app, "2", "imap:a"),
                _item(app, "2", "imap:a"),
            ],
        )
    assert added == 2
    assert _stored(app) == [("imap:a", "1", "pending"), ("imap:b", "1", "pending"), ("imap:a", "2", "pending")]


def test_keys_checked_still_stores_a_key_only_once_and_counts_what_was_inserted(make_app: Callable[..., App]) -> None:
    app = make_app()
    with transaction(app.sessions) as session:
        store_items(session, [_item(app, "1")])
    with transaction(app.sessions) as session:
        # The caller was wrong about "1" (another daemon stored it): the insert's guard skips it.
        assert store_items(session, [_item(app, "1"), _item(app, "2"), _item(app, "2")], keys_checked=True) == 1
    assert _stored(app) == [("imap:service", "1", "pending"), ("imap:service", "2", "pending")]


def test_same_message_id_twice_is_a_duplicate_with_keys_checked(make_app: Callable[..., App]) -> None:
    app = make_app()
    with transaction(app.sessions) as session:
        store_items(session, [_item(app, "1", message_id="<m@x>")], keys_checked=True)
    with transaction(app.sessions) as session:
        store_items(
            session,
            [
                _item(app, "2", message_id="<m@x>"),
                _item(app, "3", message_id="<n@x>"),
                _item(app, "4", message_id="<n@x>"),
            ],
            keys_checked=True,
        )
    assert [s for _c, _k, s in _stored(app)] == ["pending", "duplicate", "pending", "duplicate"]
    with transaction(app.sessions) as session:
        reasons = list(session.scalars(select(InboundItem.reason).order_by(InboundItem.id)))
    assert reasons[1] == "same Message-ID as item 1" and reasons[3] == "same Message-ID earlier in this batch"
