"""IMAP mailboxes: store first, then mark; UIDVALIDITY and the last UID kept in the database.

Every message the mailbox still shows as unprocessed (without our keyword, or
still in the folder when processed mail is moved away) is a candidate; those
whose (mailbox, UIDVALIDITY, UID) are already stored — a daemon killed between
store and mark — are only marked. The cursor (UIDVALIDITY, last UID) is written
in the transaction that stores, so only UIDs it has passed are looked up; a
message another daemon stored meanwhile is skipped by the insert's conflict
guard. A UIDVALIDITY change makes every message new again, and the Message-ID
check in the store turns them into duplicates.

Each batch is fetched (IMAPClient's ``fetch`` of ``BODY.PEEK[]``, which leaves flags
alone), stored and committed with the cursor, and only then marked, all on the poll's
one connection; the caller's work on what was stored (processing it) runs after each
batch. A poll of one batch is the same path.
"""

from __future__ import annotations

import logging
import ssl
from typing import TYPE_CHECKING

from imapclient import IMAPClient
from imapclient.imapclient import SocketTimeout
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import __version__
from kefu.app import App
from kefu.channels.config import ImapChannel
from kefu.channels.state import channel_state, record_success, update_cursor
from kefu.collector import collector_paused
from kefu.db.engine import transaction
from kefu.db.models import InboundItem
from kefu.intake.store import NewItem, mail_message_id, store_items
from kefu.secrets import get_secret

if TYPE_CHECKING:  # polling imports this module to read the channel
    from kefu.channels.polling import OnStored

log = logging.getLogger("kefu.channels.imap")
_LOOKUP_CHUNK = 400  # UIDs per lookup: under SQLite's bound-parameter limit


def connect(cfg: ImapChannel) -> IMAPClient:
    """Connect and log in with every call under the channel's timeout; send ID where offered."""
    seconds = cfg.timeout.total_seconds()
    # Loading the CA certificates takes tens of milliseconds: only where TLS is used.
    context = _tls_context(cfg) if cfg.security != "plain" else None
    client = IMAPClient(
        cfg.host,
        cfg.effective_port,
        ssl=cfg.security == "tls",
        ssl_context=context,
        timeout=SocketTimeout(connect=seconds, read=seconds),
    )
    try:
        if cfg.security == "starttls":
            client.starttls(context)
        client.login(cfg.user, get_secret(cfg.password_secret))
        # NetEase (163/126) refuses SELECT from clients that have not identified themselves.
        if client.has_capability("ID"):
            client.id_({"name": "kefu", "version": __version__, "vendor": "kefu"})
    except Exception:
        close(client)
        raise
    return client


def _tls_context(cfg: ImapChannel) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not cfg.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def close(client: IMAPClient) -> None:
    """Log out, or at least close the socket; never raises."""
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            log.debug("closing the IMAP connection failed", exc_info=True)


def poll_imap(app: App, name: str, cfg: ImapChannel, *, on_stored: OnStored | None = None) -> int:
    """Store every unprocessed message of the mailbox, then mark it; return how many were stored.

    ``on_stored`` is called after each committed and marked batch.
    """
    client = connect(cfg)
    try:
        return _poll(app, client, f"imap:{name}", cfg, on_stored)
    finally:
        close(client)


def _poll(app: App, client: IMAPClient, channel: str, cfg: ImapChannel, on_stored: OnStored | None) -> int:
    info = client.select_folder(cfg.mailbox)
    uidvalidity = int(info[b"UIDVALIDITY"])
    with transaction(app.sessions) as session:
        cursor = dict(channel_state(session, channel).cursor or {})
    mailbox = cursor.get("mailbox", {})
    if mailbox.get("uidvalidity") not in (None, uidvalidity):
        log.warning(
            "%s: UIDVALIDITY of %s changed from %s to %s; re-reading the mailbox "
            "(messages already stored are recognised by Message-ID)",
            channel,
            cfg.mailbox,
            mailbox.get("uidvalidity"),
            uidvalidity,
        )
    if cfg.mark == "seen_keyword":
        uids = sorted(client.search(["UNKEYWORD", cfg.keyword]))
    else:
        uids = sorted(client.search("ALL"))
    if cfg.mark == "move" and uids:
        _ensure_folder(client, cfg)
    prefix = f"{cfg.mailbox}:{uidvalidity}:"
    stored = 0
    same = mailbox.get("uidvalidity") == uidvalidity and mailbox.get("name", cfg.mailbox) == cfg.mailbox
    last_uid = int(mailbox.get("last_uid", 0)) if same else 0
    # The cursor moves in the transaction that stores, so only a UID it has passed can be
    # stored already (a daemon killed between store and mark); the others need no query.
    passed = [u for u in uids if u <= last_uid]
    known = _stored_uids(app, channel, prefix, passed) if passed else set()
    # Only what is to be fetched: a message stored already (and only marked now) is not read again.
    sizes = message_sizes(client, [u for u in uids if u not in known])
    for batch in batches(uids, sizes, cfg.batch_size):
        missing = [u for u in batch if u not in known]
        mail = fetch_mail(client, missing)
        with collector_paused(), transaction(app.sessions) as session:
            stored += store_items(session, _items(app, channel, prefix, mail), keys_checked=True)
            last_uid = _save_position(session, channel, cfg.mailbox, uidvalidity, max(last_uid, batch[-1]))
        # Only after the commit: a crash before the mark leaves the messages unmarked, and the
        # next poll finds them stored and only marks them.
        _mark(client, cfg, batch)
        if on_stored is not None:
            _run_between(channel, on_stored)
    with transaction(app.sessions) as session:
        if not uids:
            _save_position(session, channel, cfg.mailbox, uidvalidity, last_uid)
        record_success(session, channel, app.clock.now())
    return stored


BATCH_BYTES = 32 << 20  # the most mail one batch holds (a FETCH answer is held whole in memory)
SIZE_CHUNK = 1000  # UIDs per FETCH RFC822.SIZE: servers cap a command line (Dovecot at 64 KiB)
SMALL_MAIL = 64 << 10  # mail at most this big counts as this big when batches are planned


def batches(uids: list[int], sizes: dict[int, int], count: int) -> list[list[int]]:
    """``uids`` in batches of at most ``count`` messages and ``BATCH_BYTES`` (a bigger message alone)."""
    out: list[list[int]] = []
    current: list[int] = []
    held = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if current and (len(current) >= count or held + size > BATCH_BYTES):
            out.append(current)
            current, held = [], 0
        current.append(uid)
        held += size
    if current:
        out.append(current)
    return out


def fetch_mail(client: IMAPClient, uids: list[int]) -> list[tuple[int, bytes]]:
    """The mails ``uids`` in UID order, fetched without marking them (``BODY.PEEK[]``), leaving
    out any expunged by someone else meanwhile."""
    if not uids:
        return []
    found = client.fetch(uids, ["BODY.PEEK[]"])
    return [(uid, found[uid].get(b"BODY[]") or b"") for uid in uids if uid in found]


def message_sizes(client: IMAPClient, uids: list[int]) -> dict[int, int]:
    """Each message's size by UID, for planning batches by bytes: exact (RFC822.SIZE) for mail
    larger than ``SMALL_MAIL``, found with one SEARCH LARGER, and ``SMALL_MAIL``, an upper
    bound, for the rest (asking every message's size took longer than the first batches)."""
    if len(uids) < 2:
        return {}
    sizes = dict.fromkeys(uids, SMALL_MAIL)
    large = sorted(set(client.search(["UID", f"{min(uids)}:{max(uids)}", "LARGER", str(SMALL_MAIL)])) & sizes.keys())
    for start in range(0, len(large), SIZE_CHUNK):
        chunk = large[start : start + SIZE_CHUNK]
        for uid, got in client.fetch(chunk, ["RFC822.SIZE"]).items():
            if uid in sizes:
                sizes[uid] = int(got.get(b"RFC822.SIZE") or 0)
    return sizes


def _run_between(channel: str, on_stored: OnStored) -> None:
    """Run the caller's work on what was stored before the next batch is fetched.

    Its failure is not the channel's: it is logged, and the caller meets it again
    when it runs the same work after the poll.
    """
    try:
        on_stored()
    except Exception:
        log.exception("%s: work on the stored mail failed between batches; left for after the poll", channel)


def _stored_uids(app: App, channel: str, prefix: str, uids: list[int]) -> set[int]:
    keys: set[str] = set()
    with transaction(app.sessions) as session:
        for start in range(0, len(uids), _LOOKUP_CHUNK):
            keys.update(
                session.scalars(
                    select(InboundItem.source_key).where(
                        InboundItem.channel == channel,
                        InboundItem.source_key.in_([f"{prefix}{u}" for u in uids[start : start + _LOOKUP_CHUNK]]),
                    )
                )
            )
    return {u for u in uids if f"{prefix}{u}" in keys}


def _save_position(session: Session, channel: str, name: str, uidvalidity: int, last_uid: int) -> int:
    """Write the mailbox position; never behind one another daemon wrote meanwhile. Returns the last UID."""
    saved = (channel_state(session, channel).cursor or {}).get("mailbox", {})
    if saved.get("uidvalidity") == uidvalidity and saved.get("name", name) == name:
        last_uid = max(last_uid, int(saved.get("last_uid", 0)))
    update_cursor(session, channel, mailbox={"name": name, "uidvalidity": uidvalidity, "last_uid": last_uid})
    return last_uid


def _items(app: App, channel: str, prefix: str, mail: list[tuple[int, bytes]]) -> list[NewItem]:
    now = app.clock.now()
    return [
        NewItem(
            channel=channel,
            source_key=f"{prefix}{uid}",
            kind="email",
            raw=raw,
            received_at=now,
            message_id=mail_message_id(raw),
        )
        for uid, raw in mail
    ]


def _ensure_folder(client: IMAPClient, cfg: ImapChannel) -> None:
    assert cfg.processed_folder is not None
    if not client.folder_exists(cfg.processed_folder):
        client.create_folder(cfg.processed_folder)


def _mark(client: IMAPClient, cfg: ImapChannel, uids: list[int]) -> None:
    if not uids:
        return
    if cfg.mark == "seen_keyword":
        client.add_flags(uids, [b"\\Seen", cfg.keyword.encode()], silent=True)
        return
    assert cfg.processed_folder is not None
    if client.has_capability("MOVE"):
        client.move(uids, cfg.processed_folder)
        return
    client.copy(uids, cfg.processed_folder)
    client.add_flags(uids, [b"\\Deleted"], silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()
