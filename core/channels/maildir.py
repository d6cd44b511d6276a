"""A local Maildir read like a mailbox: the embedded default, no mail server needed.

New mail is read from ``new/`` (and from ``cur/`` when a mail program moved it
there without the Seen flag), stored, and only after the commit moved to
``cur/`` with the Seen flag. A process killed in between leaves the file where it
was; the next poll finds it already stored and only moves it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from kefu.app import App
from kefu.channels.config import MaildirChannel
from kefu.channels.state import record_success
from kefu.db.engine import transaction
from kefu.db.models import ChannelState
from kefu.intake.store import NewItem, mail_message_id, store_items

if TYPE_CHECKING:  # polling imports this module to read the channel
    from kefu.channels.polling import OnStored

log = logging.getLogger("kefu.channels.maildir")


def split_name(filename: str) -> tuple[str, str]:
    """A Maildir file name's unique part and its flags (``1.2.host:2,S`` → ``1.2.host``, ``S``)."""
    base, sep, info = filename.partition(":2,")
    return base, info if sep else ""


def unread_files(root: Path) -> list[Path]:
    """Files waiting in ``new/``, and files in ``cur/`` not yet flagged Seen, oldest name first."""
    found: list[Path] = []
    for sub in ("new", "cur"):
        folder = root / sub
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            if not entry.is_file() or entry.name.startswith("."):
                continue
            if sub == "cur" and "S" in split_name(entry.name)[1]:
                continue
            found.append(Path(entry.path))
    return sorted(found, key=lambda p: p.name)


def poll_maildir(app: App, name: str, cfg: MaildirChannel, *, on_stored: OnStored | None = None) -> int:
    """Store every unread message of the Maildir, then flag it; return how many were stored.

    ``on_stored`` is called after each batch is stored and flagged.
    """
    root = Path(cfg.path)
    channel = f"maildir:{name}"
    if not (root / "new").is_dir():
        _create_or_refuse(app, name, channel, cfg, root)
    files = unread_files(root)
    stored = 0
    for start in range(0, len(files), cfg.batch_size):
        batch = files[start : start + cfg.batch_size]
        items, readable = [], []
        now = app.clock.now()
        for path in batch:
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                continue  # moved by a mail program meanwhile; found again in cur/
            readable.append(path)
            items.append(
                NewItem(
                    channel=channel,
                    source_key=split_name(path.name)[0],
                    kind="email",
                    raw=raw,
                    received_at=now,
                    message_id=mail_message_id(raw),
                )
            )
        with transaction(app.sessions) as session:
            stored += store_items(session, items)
        for path in readable:
            _mark_seen(root, path)
        if on_stored is not None:
            on_stored()
    with transaction(app.sessions) as session:
        record_success(session, channel, app.clock.now())
    return stored


def _create_or_refuse(app: App, name: str, channel: str, cfg: MaildirChannel, root: Path) -> None:
    """Create a Maildir that was never read; a Maildir that was read and is gone is an error.

    Recreating a vanished folder (an unmounted disk, a renamed mailbox) would hide that
    mail now lands elsewhere; only a channel that never had a successful read may set
    up its own folder, which is what the embedded default needs on a fresh machine.
    """
    with app.sessions() as session:
        state = session.get(ChannelState, channel)
        ever_read = state is not None and state.last_success_at is not None
    if cfg.create and not ever_read:
        for sub in ("tmp", "new", "cur"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        return
    why = "it was read before and is gone now" if ever_read else "create it or set create = true"
    raise FileNotFoundError(f"[channels.maildir.{name}] path {root} is not a Maildir (no new/ folder): {why}")


def _mark_seen(root: Path, path: Path) -> None:
    base, flags = split_name(path.name)
    target = root / "cur" / f"{base}:2,{''.join(sorted(set(flags + 'S')))}"
    try:
        os.replace(path, target)
    except FileNotFoundError:
        log.debug("maildir file %s vanished before it could be flagged", path.name)
