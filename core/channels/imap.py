"""IMAP mailboxes: store first, then mark; UIDVALIDITY and the last UID kept in the database.

Every message the mailbox still shows as unprocessed (without our keyword, or
still in the folder when processed mail is moved away) is a candidate; those
whose (mailbox, UIDVALIDITY, UID) are already stored — a daemon killed between
store and mark — are only marked. The cursor (UIDVALIDITY, last UID) is written
in the transaction that stores, so only UIDs it has passed are looked up; a
message another daemon stored meanwhile is skipped by the insert's conflict
guard. A UIDVALIDITY change makes every message new again, and the Message-ID
check in the store turns them into duplicates.

A poll of more than one batch is pipelined: the intake worker fetches and parses
the batches a few ahead on a read-only connection of its own
(:mod:`kefu.channels.imap_fetch`), the main thread stores each and processes it,
and a thread marks each once it is committed (:mod:`kefu.channels.imap_marker`).
A single batch is fetched, stored and marked in line.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, NamedTuple

from imapclient import IMAPClient
from imapclient.imapclient import SocketTimeout
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import __version__
from kefu.app import App
from kefu.channels.config import ImapChannel
from kefu.channels.imap_fetch import (
    fetch_and_read,
    fetch_mail,
    message_sizes,
    release,
    sizes_in_worker,
)
from kefu.channels.imap_marker import Marker
from kefu.channels.state import channel_state, record_success, update_cursor
from kefu.collector import collector_paused
from kefu.db.engine import transaction
from kefu.db.models import InboundItem
from kefu.intake.store import NewItem, mail_message_id, store_items
from kefu.intake.worker import IntakeWorker, ReadAhead, Reading, answer
from kefu.secrets import get_secret

if TYPE_CHECKING:  # polling imports this module to read the channel
    from kefu.channels.polling import OnStored

log = logging.getLogger("kefu.channels.imap")
_PROTOCOL_TRACE = logging.getLogger("imapclient.imaplib")
_LOOKUP_CHUNK = 400  # UIDs per lookup: under SQLite's bound-parameter limit


def connect(cfg: ImapChannel) -> IMAPClient:
    """Connect and log in with every call under the channel's timeout; send ID where offered."""
    seconds = cfg.timeout.total_seconds()
    # Loading the CA certificates takes tens of milliseconds: only where TLS is used.
    context = _tls_context(cfg) if cfg.security != "plain" else None
    client = IMAPClient(cfg.host, cfg.effective_port, ssl=cfg.security == "tls", ssl_context=context,
                        timeout=SocketTimeout(connect=seconds, read=seconds))
    if not _PROTOCOL_TRACE.isEnabledFor(logging.DEBUG):
        # IMAPClient turns on imaplib's protocol trace, and imaplib formats every line it reads
        # for it, mail and all, whatever the log level: a third of a fetch's time. The trace
        # (which would log addresses unmasked) is kept only where its logger is set to DEBUG.
        client._imap.debug = 0
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

    ``on_stored`` is called after each committed batch of a read that takes more than
    one, while the marking thread marks it and the worker reads on (see the module's
    docstring).
    """
    client = connect(cfg)
    try:
        return _poll(app, client, f"imap:{name}", cfg, on_stored)
    finally:
        close(client)


def _poll(app: App, client: IMAPClient, channel: str, cfg: ImapChannel,
          on_stored: OnStored | None) -> int:
    # EXAMINE: the read-write SELECT makes the server take every new message out of "recent"
    # (Dovecot renames each file), holding up the worker's fetches; it waits for the first mark.
    info = client.select_folder(cfg.mailbox, readonly=True)
    uidvalidity = int(info[b"UIDVALIDITY"])
    with transaction(app.sessions) as session:
        cursor = dict(channel_state(session, channel).cursor or {})
    mailbox = cursor.get("mailbox", {})
    if mailbox.get("uidvalidity") not in (None, uidvalidity):
        log.warning("%s: UIDVALIDITY of %s changed from %s to %s; re-reading the mailbox "
                    "(messages already stored are recognised by Message-ID)",
                    channel, cfg.mailbox, mailbox.get("uidvalidity"), uidvalidity)
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
    # With more than one batch the worker fetches and parses each while the one before is processed.
    worker = app.intake_worker if on_stored is not None and len(uids) > cfg.batch_size \
        and app.intake_worker.available() else None
    # Only what is to be fetched: a message stored already (and only marked now) is not read again.
    sizes = _sizes(client, channel, cfg, uidvalidity, [u for u in uids if u not in known], worker)
    plan = [Planned(batch, [u for u in batch if u not in known], sum(sizes.get(u, 0) for u in batch))
            for batch in _batches(uids, sizes, cfg.batch_size, ramp=worker is not None)]
    # Set once the worker has read ahead and waits for the daemon: a quiet moment for the server.
    worker_ahead = threading.Event()
    if worker is None:
        worker_ahead.set()
    # The marking thread and a fetch in line (the worker failed a batch) share this connection.
    in_use = threading.Lock()
    batches = _fetched_by_worker(client, in_use, channel, cfg, uidvalidity, plan, worker, worker_ahead) \
        if worker is not None else _fetched_in_line(client, plan)
    ahead = ReadAhead()
    with Marker(_marker(client, in_use, cfg, uidvalidity, worker_ahead), cfg.timeout.total_seconds(),
                threaded=worker is not None) as marker:
        for batch, mail, readings in batches:
            with collector_paused(), transaction(app.sessions) as session:
                items = _items(app, channel, prefix, mail)
                stored += store_items(session, items, keys_checked=True)
                last_uid = _save_position(session, channel, cfg.mailbox, uidvalidity, max(last_uid, batch[-1]))
            # Only after the commit: a crash before the thread marks leaves the messages
            # unmarked, and the next poll finds them stored and only marks them.
            marker.committed(batch)
            if readings is not None:
                ahead.add(channel, [item.source_key for item in items], readings)
            if on_stored is not None and len(plan) > 1:
                _run_between(channel, on_stored, ahead)
        marker.finish()
    with transaction(app.sessions) as session:
        if not uids:
            _save_position(session, channel, cfg.mailbox, uidvalidity, last_uid)
        record_success(session, channel, app.clock.now())
    return stored


class Planned(NamedTuple):
    """One batch of a poll: the UIDs to mark, those to fetch (not stored yet), and their bytes."""

    uids: list[int]
    missing: list[int]
    size: int


def _sizes(client: IMAPClient, channel: str, cfg: ImapChannel, uidvalidity: int, uids: list[int],
           worker: IntakeWorker | None) -> dict[int, int]:
    """The messages' sizes, so no batch holds more than ``BATCH_BYTES`` (mail with photos is
    megabytes each). Asked of the worker when it reads the poll (its connection opens meanwhile)."""
    if len(uids) < 2:
        return {}
    if worker is not None:
        future = worker.submit(sizes_in_worker, channel, cfg, uidvalidity, uids)
        found = answer(future, f"reading the message sizes of {channel}") if future is not None else None
        if found is not None:
            return found
    return message_sizes(client, uids)


def _batches(uids: list[int], sizes: dict[int, int], count: int, *, ramp: bool) -> list[list[int]]:
    """``uids`` in batches of at most ``count`` messages and ``BATCH_BYTES`` (a bigger message
    alone). With ``ramp`` the first ones are smaller (an eighth, a quarter, a half): the pipeline
    starts working on the first mail while the worker reads on."""
    batches: list[list[int]] = []
    step = max(1, count // 8) if ramp else count
    current: list[int] = []
    held = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if current and (len(current) >= step or held + size > BATCH_BYTES):
            batches.append(current)
            current, held = [], 0
            step = min(count, step * 2)
        current.append(uid)
        held += size
    if current:
        batches.append(current)
    return batches


Batch = tuple[list[int], list[tuple[int, bytes]], list[Reading] | None]
Fetched = tuple[list[tuple[int, bytes]], list[Reading]]  # the worker's answer: mail by UID, readings
WORKER_AHEAD = 6  # batches asked of the worker beyond the one the poll waits for
SELECT_WAIT_S = 5.0  # the longest the first mark waits for the worker to be ahead
BATCH_BYTES = 32 << 20  # the most mail one batch holds (a FETCH answer is held whole in memory)
AHEAD_BYTES = 96 << 20  # the most mail asked of the worker beyond the batch being waited for


def _fetched_in_line(client: IMAPClient, plan: list[Planned]) -> Iterator[Batch]:
    """Each batch fetched on the poll's own connection: (UIDs to mark, mail by UID, no readings)."""
    for batch, missing, _size in plan:
        # BODY.PEEK[] leaves \Seen alone: marking is a separate, later step.
        yield batch, fetch_mail(client, missing), None


def _fetched_by_worker(client: IMAPClient, in_use: threading.Lock, channel: str, cfg: ImapChannel,
                       uidvalidity: int, plan: list[Planned], worker: IntakeWorker,
                       worker_ahead: threading.Event) -> Iterator[Batch]:
    """Each batch as the worker fetched and parsed it, asked for a few batches ahead; a batch it
    fails (its connection refused by a server that allows few, a crash) is fetched on the poll's
    own connection, between the marking thread's commands (``in_use``).
    ``worker_ahead`` is set once the worker has read well ahead (see :func:`_read_ahead`)."""
    asked: dict[int, Future[Fetched] | None] = {}
    try:
        given_up = False
        for index, (batch, missing, _size) in enumerate(plan):
            future = None
            if not given_up:
                _ask_ahead(asked, plan, index, lambda wanted: worker.submit(
                    fetch_and_read, channel, cfg, uidvalidity, wanted))
                future = asked.pop(index)
                if not worker_ahead.is_set() and _read_ahead(asked, len(plan) - index - 1):
                    worker_ahead.set()
            got = answer(future, f"fetching {len(missing)} messages of {channel}") if future is not None else None
            if got is not None:
                yield batch, got[0], got[1]
                continue
            if future is not None:
                # The worker failed this batch (a refused connection, a crash, a hung server): the
                # rest of the poll is read here rather than waited on batch by batch.
                given_up = True
                _cancel(asked)
                worker_ahead.set()
            mail: list[tuple[int, bytes]] = []
            if missing:
                with in_use:
                    mail = fetch_mail(client, missing)
            yield batch, mail, None
    finally:
        _cancel(asked)  # a poll that failed midway: the rest is read at the next one
        worker.submit(release, channel)


def _ask_ahead(asked: dict[int, Future[Fetched] | None], plan: list[Planned], index: int,
               submit: Callable[[list[int]], Future[Fetched] | None]) -> None:
    """Ask for the batches from ``index`` on that are not asked for yet: at most WORKER_AHEAD
    beyond it and AHEAD_BYTES in all (the batch at ``index`` itself always)."""
    held = sum(plan[i].size for i in asked)
    for ahead in range(len(asked) + index, min(index + 1 + WORKER_AHEAD, len(plan))):
        if ahead > index and held + plan[ahead].size > AHEAD_BYTES:
            break
        wanted = plan[ahead].missing
        asked[ahead] = submit(wanted) if wanted else None
        held += plan[ahead].size


def _cancel(asked: dict[int, Future[Fetched] | None]) -> None:
    for future in asked.values():
        if future is not None:
            future.cancel()
    asked.clear()


def _read_ahead(asked: dict[int, Future[Any] | None], left: int) -> bool:
    """True when the worker has read all but one of the batches it was asked for beyond the one
    being waited for (or all that are left): the daemon has work in hand for a while, and the
    worker waits on it."""
    done = sum(1 for future in asked.values() if future is None or future.done())
    return done >= min(WORKER_AHEAD - 1, left, max(len(asked) - 1, 1))


def _marker(client: IMAPClient, in_use: threading.Lock, cfg: ImapChannel, uidvalidity: int,
            worker_ahead: threading.Event) -> Callable[[list[int]], None]:
    """What the marking thread marks a committed batch with. It opens the mailbox read-write
    first, once the worker has read ahead (or after a few seconds): Dovecot renames every new
    message then, holding up every other connection to the mailbox for as long."""
    selected = False

    def mark(uids: list[int]) -> None:
        nonlocal selected
        if not selected:
            worker_ahead.wait(min(cfg.timeout.total_seconds(), SELECT_WAIT_S))
            with in_use:
                if int(client.select_folder(cfg.mailbox)[b"UIDVALIDITY"]) != uidvalidity:
                    raise RuntimeError(f"UIDVALIDITY of {cfg.mailbox} changed during the poll; "
                                       "the stored messages are marked at the next one")
            selected = True
        with in_use:
            _mark(client, cfg, uids)

    return mark


def _run_between(channel: str, on_stored: OnStored, ahead: ReadAhead) -> None:
    """Run the caller's work on what was stored while the server marks and the next batch is fetched.

    Its failure is not the channel's: it is logged, and the caller meets it again
    when it runs the same work after the poll.
    """
    try:
        on_stored(ahead)
    except Exception:
        log.exception("%s: work on the stored mail failed between batches; left for after the poll", channel)


def _stored_uids(app: App, channel: str, prefix: str, uids: list[int]) -> set[int]:
    keys: set[str] = set()
    with transaction(app.sessions) as session:
        for start in range(0, len(uids), _LOOKUP_CHUNK):
            keys.update(session.scalars(
                select(InboundItem.source_key).where(
                    InboundItem.channel == channel,
                    InboundItem.source_key.in_([f"{prefix}{u}" for u in uids[start:start + _LOOKUP_CHUNK]]))
            ))
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
    return [NewItem(channel=channel, source_key=f"{prefix}{uid}", kind="email", raw=raw,
                    received_at=now, message_id=mail_message_id(raw))
            for uid, raw in mail]


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
