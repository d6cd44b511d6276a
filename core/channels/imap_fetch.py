"""Fetching and reading a batch of a mailbox in the intake worker (see :mod:`kefu.intake.worker`).

The worker keeps one read-only connection per channel for the length of a poll
(EXAMINE: it never changes a flag), fetches the batches the daemon asks for, parses
them, and logs out when the daemon says the poll is over (:func:`release`). A
connection that fails is dropped, so the next batch connects again; the daemon
fetches the failed batch itself.
"""

from __future__ import annotations

from typing import Any

from imapclient import IMAPClient

from kefu.channels.config import ImapChannel
from kefu.intake.worker import Reading, read_mails

SIZE_CHUNK = 1000  # UIDs per FETCH RFC822.SIZE: servers cap a command line (Dovecot at 64 KiB)
# In the worker process only: channel → (connection, the UIDVALIDITY it was opened with).
_CONNECTIONS: dict[str, tuple[IMAPClient, int]] = {}


def fetched_mail(uids: list[int], fetched: dict[int, dict[bytes, Any]]) -> list[tuple[int, bytes]]:
    """The mails of a FETCH answer in UID order, leaving out any expunged by someone else meanwhile."""
    return [(uid, data.get(b"BODY[]") or b"") for uid in uids if (data := fetched.get(uid)) is not None]


def fetch_and_read(channel: str, cfg: ImapChannel, uidvalidity: int,
                   uids: list[int]) -> tuple[list[tuple[int, bytes]], list[Reading]]:
    """In the worker: fetch ``uids`` without marking them, and parse each; (mail, readings)."""
    client = _connection(channel, cfg, uidvalidity)
    try:
        fetched = client.fetch(uids, ["BODY.PEEK[]"])
    except Exception:
        _drop(channel)
        raise
    mail = fetched_mail(uids, fetched)
    return mail, read_mails([raw for _uid, raw in mail])


def message_sizes(client: IMAPClient, uids: list[int]) -> dict[int, int]:
    """Each message's size (RFC822.SIZE) by UID, asked for in chunks that keep the command short."""
    sizes: dict[int, int] = {}
    for start in range(0, len(uids), SIZE_CHUNK):
        for uid, data in client.fetch(uids[start:start + SIZE_CHUNK], ["RFC822.SIZE"]).items():
            sizes[uid] = int(data.get(b"RFC822.SIZE") or 0)
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
