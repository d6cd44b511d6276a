"""Queueing many outbox rows at once: campaigns (fee reminders, warranty notices).

:func:`queue_many` queues exactly the rows :func:`kefu.outbound.outbox.queue_message`
would (same rendering, refusals, quiet hours, Message-IDs, failed rows for broken
templates), in the caller's transaction, but without an ORM object per row: the
keys already queued are looked up in chunks, the new rows are written by one Core
``INSERT … ON CONFLICT (idem_key) DO NOTHING`` per chunk (SQLite and PostgreSQL),
so a concurrent writer that queued the same key first simply wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Insert, select

from kefu.context import app_of
from kefu.db.base import table_of
from kefu.db.engine import is_postgres
from kefu.db.models import Case, Customer, OutboxMessage
from kefu.outbound.outbox import _KEYS, CHANNELS, base_context, row_values

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kefu.context import PluginContext

_TABLE = table_of(OutboxMessage)
# Rows per INSERT statement and keys per lookup: well under SQLite's 32,766 bound parameters.
CHUNK = 500


@dataclass(frozen=True)
class OutboxItem:
    """One message for :func:`queue_many`: the keyword arguments of ``queue_message``."""

    key: str
    channel: str
    recipient: str
    template: str
    context: dict[str, Any] | None = None
    case: Case | None = None
    customer: Customer | None = None
    audience: str = "customer"
    recipient_name: str | None = None
    urgent: bool = False
    marketing: bool = False
    not_before: datetime | None = None
    letter: str | None = None
    address: str | None = None
    auto: bool = True


_FIELDS = frozenset(f.name for f in fields(OutboxItem))


def queue_many(ctx: PluginContext, items: Iterable[OutboxItem | Mapping[str, Any]]) -> list[str]:
    """Queue every item whose idempotency key is new; return the keys queued, in order.

    An item is an :class:`OutboxItem` or a mapping with ``queue_message``'s keyword
    arguments. Keys already in the outbox (or twice in ``items``: the first wins)
    are skipped without rendering, so re-running a campaign costs one lookup per
    500 keys. Runs in the caller's transaction like ``queue_message``: an unknown
    channel or audience raises ValueError, and the caller's transaction (with the
    rows of earlier chunks) rolls back.
    """
    session = ctx.db()
    session.flush()  # rows queue_message added in this transaction must be visible to the lookup
    pending: set[str] = session.info.get(_KEYS, set())
    queued: list[str] = []
    seen: set[str] = set()
    for chunk in _chunks((_item(x) for x in items), CHUNK):
        fresh: list[OutboxItem] = []
        for item in chunk:
            if item.key not in seen and item.key not in pending:
                fresh.append(item)
            seen.add(item.key)
        fresh = _drop_existing(session, fresh)
        if not fresh:
            continue
        now = ctx.now()
        base = base_context(app_of(ctx), now)
        rows = [values for item in fresh if (values := _values(ctx, now, base, item)) is not None]
        if rows:
            result = session.connection().execute(_insert(session).returning(_TABLE.c.idem_key), rows)
            inserted = set(result.scalars().all())
            queued.extend(r["idem_key"] for r in rows if r["idem_key"] in inserted)
    return queued


def _item(raw: OutboxItem | Mapping[str, Any]) -> OutboxItem:
    if isinstance(raw, OutboxItem):
        item = raw
    else:
        unknown = set(raw) - _FIELDS
        if unknown:
            raise ValueError(
                f"queue_many: unknown field(s) {', '.join(sorted(unknown))}; expected queue_message's keyword arguments"
            )
        item = OutboxItem(**raw)
    if item.channel not in CHANNELS:
        raise ValueError(f"unknown channel {item.channel!r} (key {item.key}); expected one of {', '.join(CHANNELS)}")
    if item.audience not in ("customer", "staff"):
        raise ValueError(f"unknown audience {item.audience!r} (key {item.key}); expected 'customer' or 'staff'")
    return item


def _values(ctx: PluginContext, now: datetime, base: dict[str, Any], item: OutboxItem) -> dict[str, Any] | None:
    return row_values(
        ctx,
        now,
        key=item.key,
        channel=item.channel,
        recipient=item.recipient,
        template=item.template,
        context=item.context,
        case=item.case,
        customer=item.customer,
        audience=item.audience,
        recipient_name=item.recipient_name,
        urgent=item.urgent,
        marketing=item.marketing,
        not_before=item.not_before,
        letter=item.letter,
        address=item.address,
        auto=item.auto,
        base=base,
    )


def _drop_existing(session: Session, items: list[OutboxItem]) -> list[OutboxItem]:
    if not items:
        return items
    keys = [i.key for i in items]
    found = set(session.connection().execute(select(_TABLE.c.idem_key).where(_TABLE.c.idem_key.in_(keys))).scalars())
    return [i for i in items if i.key not in found] if found else items


def _insert(session: Session) -> Insert:
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(_TABLE).on_conflict_do_nothing(index_elements=["idem_key"])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(_TABLE).on_conflict_do_nothing(index_elements=["idem_key"])


def _chunks(items: Iterable[OutboxItem], size: int) -> Iterator[list[OutboxItem]]:
    chunk: list[OutboxItem] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
