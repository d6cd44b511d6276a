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

from sqlalchemy import Insert, Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu.db.base import table_of
from kefu.db.models import InboundItem, InboundRaw

_MSGID_HEADER = re.compile(rb"^message-id:\s*(<[^<>\s\x00]{1,500}>)", re.IGNORECASE | re.MULTILINE)
_CHUNK = 400  # stay under SQLite's bound-parameter limit with the IN lists
_ITEMS = table_of(InboundItem)
_RAWS = table_of(InboundRaw)


def _insert_items(dialect: str) -> Insert:
    """The items' INSERT: one another daemon stored first (same channel and key) is skipped."""
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table: Table = _ITEMS
    return (
        build(table)
        .on_conflict_do_nothing(index_elements=["channel", "source_key"])
        .returning(table.c.id, table.c.channel, table.c.source_key)
    )


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
    # Mail from IMAP ends its header with CRLF CRLF; a bare LF LF can only end it earlier,
    # so the second scan stops there instead of running through the whole body.
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        end = len(raw)
    bare = raw.find(b"\n\n", 0, end)
    found = _MSGID_HEADER.search(raw, 0, bare if bare >= 0 else end)
    return found.group(1).decode("ascii", "replace") if found else None


def store_items(session: Session, items: list[NewItem], *, keys_checked: bool = False) -> int:
    """Store the items not stored yet; return how many rows were inserted (duplicates included).

    ``keys_checked``: the caller has just made sure that none of the items'
    (channel, source key) is stored — IMAP UIDs above the channel's cursor, or
    looked up a moment ago — so the query for them is skipped. One stored since
    by another daemon is still skipped by the insert's conflict guard.
    """
    if not items:
        return 0
    known_keys = set() if keys_checked else _stored_keys(session, items)
    ids = [i.message_id for i in items if i.message_id]
    known_ids: dict[str, int] = {}
    for chunk in _chunks(ids):
        known_ids.update(
            (mid, item_id)
            for mid, item_id in session.execute(
                select(InboundItem.message_id, InboundItem.id).where(
                    InboundItem.message_id.in_(chunk), InboundItem.status != "duplicate"
                )
            )
            if mid is not None
        )
    rows, raws = [], []
    batch_ids: set[str] = set()
    for item in items:
        key = (item.channel, item.source_key)
        if key in known_keys:
            continue
        known_keys.add(key)
        status, reason = "pending", None
        if item.message_id and (item.message_id in known_ids or item.message_id in batch_ids):
            status = "duplicate"
            first = known_ids.get(item.message_id)
            reason = f"same Message-ID as item {first}" if first else "same Message-ID earlier in this batch"
        elif item.message_id:
            batch_ids.add(item.message_id)
        rows.append(
            {
                "channel": item.channel,
                "source_key": item.source_key,
                "message_id": item.message_id,
                "kind": item.kind,
                "received_at": item.received_at,
                "status": status,
                "reason": reason,
                "sender": _no_nul(item.sender),
                "subject": _no_nul(item.subject),
                "data": item.data,
            }
        )
        raws.append(item.raw)
    if not rows:
        return 0
    # One executemany each (SQLAlchemy's "insertmanyvalues"): the rows, then the raw bytes beside
    # each row this insert made; an item another daemon stored first keeps the bytes it came with.
    stored = session.execute(_insert_items(session.connection().dialect.name), rows).all()
    raw_of = {(row["channel"], row["source_key"]): raw for row, raw in zip(rows, raws, strict=True)}
    if stored:  # a Core executemany on the table: the ORM's bulk path adds nothing here
        session.connection().execute(
            insert(_RAWS),
            [{"item_id": item_id, "raw": raw_of[(channel, key)]} for item_id, channel, key in stored],
        )
    return len(stored)


def _no_nul(text: str | None) -> str | None:
    # No text column holds NUL (PostgreSQL refuses it); the raw bytes keep it.
    return text.replace("\x00", "") if text and "\x00" in text else text


def _stored_keys(session: Session, items: list[NewItem]) -> set[tuple[str, str]]:
    by_channel: dict[str, list[str]] = {}
    for item in items:
        by_channel.setdefault(item.channel, []).append(item.source_key)
    known: set[tuple[str, str]] = set()
    for channel, keys in by_channel.items():
        # One channel per query: SQLite scans the whole unique index for a (channel, key) IN list.
        for chunk in _chunks(keys):
            known.update(
                (channel, key)
                for key in session.scalars(
                    select(InboundItem.source_key).where(
                        InboundItem.channel == channel, InboundItem.source_key.in_(chunk)
                    )
                )
            )
    return known


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]
