"""Storing inbound items raw, once: the first thing that happens to anything that comes in.

A batch of items is inserted in the caller's transaction. An item whose
(channel, source key) is already stored is skipped (a re-read after a crash
between store and mark); an item whose Message-ID is already stored — the same
mail delivered again, to a second inbox, or under a new UIDVALIDITY — is stored
as ``duplicate`` so it never makes a second case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu.db.models import InboundItem

_MSGID_HEADER = re.compile(rb"^message-id:\s*(<[^<>\s]{1,500}>)", re.IGNORECASE | re.MULTILINE)
_CHUNK = 400  # stay under SQLite's bound-parameter limit with the IN lists


@dataclass
class NewItem:
    """Something a channel received, before it is stored."""

    channel: str
    source_key: str
    kind: str
    raw: bytes
    received_at: datetime
    message_id: str | None = None
    sender: str | None = None
    subject: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def mail_message_id(raw: bytes) -> str | None:
    """The Message-ID of a raw mail, read from its header block without parsing the rest."""
    end = raw.find(b"\n\n")
    end2 = raw.find(b"\r\n\r\n")
    cut = min(e for e in (end, end2, len(raw)) if e >= 0)
    found = _MSGID_HEADER.search(raw[:cut])
    return found.group(1).decode("ascii", "replace") if found else None


def store_items(session: Session, items: list[NewItem]) -> int:
    """Store the items not stored yet; return how many rows were inserted (duplicates included)."""
    if not items:
        return 0
    known_keys: set[tuple[str, str]] = set()
    for chunk in _chunks([(i.channel, i.source_key) for i in items]):
        known_keys.update(
            (c, k) for c, k in session.execute(
                select(InboundItem.channel, InboundItem.source_key)
                .where(tuple_(InboundItem.channel, InboundItem.source_key).in_(chunk))
            )
        )
    ids = [i.message_id for i in items if i.message_id]
    known_ids: dict[str, int] = {}
    for chunk in _chunks(ids):
        known_ids.update(
            (mid, item_id) for mid, item_id in session.execute(
                select(InboundItem.message_id, InboundItem.id)
                .where(InboundItem.message_id.in_(chunk), InboundItem.status != "duplicate")
            )
        )
    rows = []
    batch_ids: set[str] = set()
    for item in items:
        if (item.channel, item.source_key) in known_keys:
            continue
        known_keys.add((item.channel, item.source_key))
        status, reason = "pending", None
        if item.message_id and (item.message_id in known_ids or item.message_id in batch_ids):
            status = "duplicate"
            first = known_ids.get(item.message_id)
            reason = f"same Message-ID as item {first}" if first else "same Message-ID earlier in this batch"
        elif item.message_id:
            batch_ids.add(item.message_id)
        rows.append({
            "channel": item.channel, "source_key": item.source_key, "message_id": item.message_id,
            "kind": item.kind, "received_at": item.received_at, "raw": item.raw, "status": status,
            "reason": reason, "sender": item.sender, "subject": item.subject, "data": item.data,
        })
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Another daemon on the same PostgreSQL may store the same item at the same moment.
    stmt = insert(InboundItem).on_conflict_do_nothing(index_elements=["channel", "source_key"])
    session.execute(stmt, rows)
    return len(rows)


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i:i + _CHUNK] for i in range(0, len(values), _CHUNK)]
