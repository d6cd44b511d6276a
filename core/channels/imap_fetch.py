"""Fetching and reading a batch of a mailbox in the intake worker (see :mod:`kefu.intake.worker`).

The worker keeps one read-only connection per channel for the length of a poll
(EXAMINE: it never changes a flag), fetches the batches the daemon asks for, parses
them, and logs out when the daemon says the poll is over (:func:`release`). A
connection that fails is dropped, so the next batch connects again; the daemon
fetches the failed batch itself.
"""

from __future__ import annotations

import re
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from imapclient.response_parser import parse_fetch_response

from kefu.channels.config import ImapChannel
from kefu.intake.worker import Reading, read_mails

SIZE_CHUNK = 1000  # UIDs per FETCH RFC822.SIZE: servers cap a command line (Dovecot at 64 KiB)
SMALL_MAIL = 64 << 10  # mail at most this big counts as this big when batches are planned
# In the worker process only: channel → (connection, the UIDVALIDITY it was opened with).
_CONNECTIONS: dict[str, tuple[IMAPClient, int]] = {}
# One message of a UID FETCH (BODY.PEEK[]) answer as imaplib hands it over: the line up to the
# literal ("12 (UID 345 BODY[] {2048}"), the literal, then the line's end (")"); some servers
# give the UID after the literal instead (" UID 345)").
_BODY_HEAD = re.compile(rb"\d+ \((?:UID (\d+) )?BODY\[\] \{(\d+)\}\Z")
_UID_TAIL = re.compile(rb" UID (\d+)\)\Z")
_SIZE_LINE = re.compile(rb"\d+ \((?:UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+))\)\Z")


def fetch_mail(client: IMAPClient, uids: list[int]) -> list[tuple[int, bytes]]:
    """The mails ``uids`` in UID order, fetched without marking them (``BODY.PEEK[]``), leaving
    out any expunged by someone else meanwhile.

    IMAPClient's general parser tokenises the whole answer, mail included, which cost more than
    fetching it: an answer of the one shape servers give (each message a literal with its UID)
    is taken apart here, and any other answer (NIL, a quoted string, an unsolicited FLAGS
    update) goes to IMAPClient's parser, as :meth:`IMAPClient.fetch` would.
    """
    if not uids:
        return []
    data = _uid_fetch(client, uids, "(BODY.PEEK[])")
    bodies = _literal_bodies(data)
    if bodies is None:
        bodies = {uid: found.get(b"BODY[]") or b""
                  for uid, found in parse_fetch_response(data, client.normalise_times, True).items()}
    return [(uid, bodies[uid]) for uid in uids if uid in bodies]


def _uid_fetch(client: IMAPClient, uids: list[int], items: str) -> list[Any]:
    """imaplib's untagged answers to ``UID FETCH uids items``; raises as IMAPClient does on NO."""
    typ, data = client._imap.uid("FETCH", ",".join(map(str, uids)), items)
    if typ != "OK":
        raise IMAPClientError(f"FETCH command error: {typ} {data!r}")
    return list(data)


def _literal_bodies(data: list[Any]) -> dict[int, bytes] | None:
    """UID → mail of an answer in which every message is a literal with its UID; else None."""
    bodies: dict[int, bytes] = {}
    if data == [None]:  # imaplib's "no untagged answer": every message was expunged
        return bodies
    count = len(data)
    i = 0
    while i + 1 < count:
        part, tail = data[i], data[i + 1]
        if part.__class__ is not tuple or len(part) != 2 or tail.__class__ is not bytes:
            return None
        head = _BODY_HEAD.match(part[0])
        if head is None or int(head.group(2)) != len(part[1]):
            return None
        uid = head.group(1)
        if uid is None:
            late = _UID_TAIL.match(tail)
            if late is None:
                return None
            uid = late.group(1)
        elif tail != b")":
            return None
        bodies[int(uid)] = part[1]
        i += 2
    return bodies if i == count else None


def fetch_and_read(channel: str, cfg: ImapChannel, uidvalidity: int,
                   uids: list[int]) -> tuple[list[tuple[int, bytes]], list[Reading]]:
    """In the worker: fetch ``uids`` without marking them, and parse each; (mail, readings)."""
    client = _connection(channel, cfg, uidvalidity)
    try:
        mail = fetch_mail(client, uids)
    except Exception:
        _drop(channel)
        raise
    return mail, read_mails([raw for _uid, raw in mail])


def message_sizes(client: IMAPClient, uids: list[int]) -> dict[int, int]:
    """Each message's size by UID, for planning batches by bytes: exact (RFC822.SIZE) for mail
    larger than ``SMALL_MAIL``, found with one SEARCH LARGER, and ``SMALL_MAIL``, an upper
    bound, for the rest.

    Asked of every message, a big mailbox answered one line per message, and reading those
    lines took longer than the daemon's first batches; the search answers in one line. The
    sizes are asked for in chunks that keep the command short; as with :func:`fetch_mail`,
    the usual answer is read directly and any other by IMAPClient's parser.
    """
    if not uids:
        return {}
    sizes = dict.fromkeys(uids, SMALL_MAIL)
    large = sorted(set(client.search(["UID", f"{min(uids)}:{max(uids)}", "LARGER", str(SMALL_MAIL)]))
                   & sizes.keys())
    for start in range(0, len(large), SIZE_CHUNK):
        chunk = large[start:start + SIZE_CHUNK]
        data = _uid_fetch(client, chunk, "(RFC822.SIZE)")
        found = _plain_sizes(data)
        if found is None:
            found = {uid: int(got.get(b"RFC822.SIZE") or 0)
                     for uid, got in parse_fetch_response(data, client.normalise_times, True).items()}
        sizes.update((uid, found[uid]) for uid in chunk if uid in found)
    return sizes


def _plain_sizes(data: list[Any]) -> dict[int, int] | None:
    """UID → size of an answer whose every line is ``n (UID u RFC822.SIZE s)`` (either order); else None."""
    if data == [None]:
        return {}
    sizes: dict[int, int] = {}
    for line in data:
        found = _SIZE_LINE.match(line) if line.__class__ is bytes else None
        if found is None:
            return None
        uid, size = (found.group(1), found.group(2)) if found.group(1) else (found.group(4), found.group(3))
        sizes[int(uid)] = int(size)
    return sizes


def sizes_in_worker(channel: str, cfg: ImapChannel, uidvalidity: int, uids: list[int]) -> dict[int, int]:
    """In the worker: :func:`message_sizes` on its connection (opening it for the fetches to come)."""
    client = _connection(channel, cfg, uidvalidity)
    try:
        return message_sizes(client, uids)
    except Exception:
        _drop(channel)
        raise


def release(channel: str) -> None:
    """In the worker: log out of the channel's mailbox (the poll is over)."""
    _drop(channel)


def _connection(channel: str, cfg: ImapChannel, uidvalidity: int) -> IMAPClient:
    from kefu.channels.imap import connect

    found = _CONNECTIONS.get(channel)
    if found is not None and found[1] == uidvalidity:
        return found[0]
    _drop(channel)
    client = connect(cfg)
    try:
        info = client.select_folder(cfg.mailbox, readonly=True)
        if int(info[b"UIDVALIDITY"]) != uidvalidity:
            raise RuntimeError(f"UIDVALIDITY of {cfg.mailbox} changed during the poll")
    except Exception:
        _close(client)
        raise
    _CONNECTIONS[channel] = (client, uidvalidity)
    return client


def _drop(channel: str) -> None:
    found = _CONNECTIONS.pop(channel, None)
    if found is not None:
        _close(found[0])


def _close(client: IMAPClient) -> None:
    from kefu.channels.imap import close

    close(client)
