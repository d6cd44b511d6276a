"""Fetching mail and sizes by UID: the answer is taken apart directly when it has the usual shape,
and by IMAPClient's parser otherwise, with the same result; imaplib's protocol trace stays off
unless asked for."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from kefu.channels.config import ImapChannel
from kefu.channels.imap import close, connect
from kefu.channels.imap_fetch import _literal_bodies, _plain_sizes, fetch_mail, message_sizes
from kefu.testing.dovecot import Dovecot
from kefu.testing.mail import build_mail


@pytest.mark.parametrize(("data", "expected"), [
    ([(b"1 (UID 7 BODY[] {3}", b"abc"), b")", (b"2 (UID 9 BODY[] {0}", b""), b")"], {7: b"abc", 9: b""}),
    ([(b"1 (BODY[] {3}", b"abc"), b" UID 7)"], {7: b"abc"}),  # the UID after the literal
    ([None], {}),  # no untagged answer: everything asked for was expunged
])
def test_the_usual_answer_is_taken_apart_directly(data: list[object], expected: dict[int, bytes]) -> None:
    assert _literal_bodies(data) == expected


@pytest.mark.parametrize("data", [
    [b"1 (UID 7 BODY[] NIL)"],  # no literal
    [(b"1 (UID 7 BODY[] {4}", b"abc"), b")"],  # the literal is not as long as announced
    [(b"1 (UID 7 BODY[] {3}", b"abc"), b" FLAGS (\\Seen))"],  # more items after the literal
    [(b"1 (UID 7 BODY[] {3}", b"abc"), b")", b"2 (FLAGS (\\Seen))"],  # an unsolicited FLAGS update
    [(b"1 (BODY[] {3}", b"abc"), b")"],  # no UID at all
    [(b"1 (UID 7 BODY[] {3}", b"abc")],  # the line's end is missing
])
def test_any_other_answer_is_left_to_imapclients_parser(data: list[object]) -> None:
    assert _literal_bodies(data) is None


def test_the_usual_sizes_answer_is_read_directly() -> None:
    assert _plain_sizes([b"1 (UID 7 RFC822.SIZE 120)", b"2 (RFC822.SIZE 5 UID 9)"]) == {7: 120, 9: 5}
    assert _plain_sizes([None]) == {}
    assert _plain_sizes([b"1 (UID 7 RFC822.SIZE 120)", b"2 (FLAGS (\\Seen))"]) is None
    assert _plain_sizes([b"1 (UID 7 RFC822.SIZE 120 FLAGS ())"]) is None
    assert _plain_sizes([(b"1 (UID 7 RFC822.SIZE {3}", b"120"), b")"]) is None


@pytest.fixture
def channel(dovecot: Dovecot) -> Iterator[ImapChannel]:
    dovecot.append(build_mail(text="暖气漏水", subject="漏水"),
                   build_mail(text="附件", attachments=[("照片.jpg", "image/jpeg", bytes(range(256)) * 40)]),
                   b"Subject: no body at all\r\n\r\n",
                   build_mail(html="<p>楼道<b>跑水</b>了</p>", charset="gb18030"))
    yield ImapChannel.model_validate(dovecot.channel_config())


def test_fetch_mail_gives_what_imapclient_gives_in_uid_order(dovecot: Dovecot, channel: ImapChannel) -> None:
    client = connect(channel)
    try:
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search("ALL"))
        expected = {uid: data[b"BODY[]"] for uid, data in client.fetch(uids, ["BODY.PEEK[]"]).items()}
        asked = [uids[2], uids[0], 999, uids[3], uids[1]]  # 999: expunged meanwhile (never there)
        assert fetch_mail(client, asked) == [(uid, expected[uid]) for uid in asked if uid != 999]
        assert fetch_mail(client, []) == []
        assert not any(b"\\Seen" in flags for flags in dovecot.flags().values())  # PEEK: none marked
    finally:
        close(client)


def test_big_mail_has_its_size_and_small_mail_an_upper_bound(dovecot: Dovecot, channel: ImapChannel,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kefu.channels.imap_fetch.SMALL_MAIL", 400)
    monkeypatch.setattr("kefu.channels.imap_fetch.SIZE_CHUNK", 2)  # several commands
    client = connect(channel)
    try:
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search("ALL"))
        exact = {uid: data[b"RFC822.SIZE"] for uid, data in client.fetch(uids, ["RFC822.SIZE"]).items()}
        assert sorted(size <= 400 for size in exact.values()) == [False, False, True, True]
        expected = {uid: max(size, 400) for uid, size in exact.items()}
        assert message_sizes(client, [*uids, 999]) == {**expected, 999: 400}  # 999: expunged meanwhile
        assert message_sizes(client, []) == {}
    finally:
        close(client)


def test_an_unusual_answer_is_parsed_by_imapclient(dovecot: Dovecot, channel: ImapChannel,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    client = connect(channel)
    try:
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search("ALL"))
        monkeypatch.setattr("kefu.channels.imap_fetch.SMALL_MAIL", 0)  # every size asked for
        direct, sizes = fetch_mail(client, uids), message_sizes(client, uids)
        monkeypatch.setattr("kefu.channels.imap_fetch._literal_bodies", lambda data: None)
        monkeypatch.setattr("kefu.channels.imap_fetch._plain_sizes", lambda data: None)
        assert fetch_mail(client, uids) == direct
        assert message_sizes(client, uids) == sizes
    finally:
        close(client)


def test_the_protocol_trace_is_off_unless_its_logger_asks_for_it(
        channel: ImapChannel, caplog: pytest.LogCaptureFixture) -> None:
    client = connect(channel)
    try:
        assert client._imap.debug == 0
        client.select_folder("INBOX", readonly=True)
        fetch_mail(client, client.search("ALL"))
    finally:
        close(client)
    assert not [r for r in caplog.records if r.name == "imapclient.imaplib"]
    with caplog.at_level(logging.DEBUG, logger="imapclient.imaplib"):
        client = connect(channel)
        try:
            assert client._imap.debug > 0
        finally:
            close(client)
    assert [r for r in caplog.records if r.name == "imapclient.imaplib"]
