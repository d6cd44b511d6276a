"""Staff triage of inbound items intake could not place: process one again, or set it aside.

A quarantined item (a mail that could not be decoded, a plugin that failed on it) or an
unclaimed one (no plugin wanted it, the inbox has no default kind) waits for a person.
Once the cause is dealt with (a charset alias added, a plugin fixed, a ``default_kind``
set), :func:`retry_items` puts it back in line: the intake's next pass processes it as if
it had just arrived, from the bytes kept as they came. :func:`dismiss_items` records that
a person looked and decided it needs nothing (spam, a test mail): status ``ignored``.
Either way the item's ``data["triage"]`` keeps who did what, when, and what it was before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kefu.db.models import Attachment, InboundItem

WAITING = ("quarantined", "unclaimed")


class TriageError(ValueError):
    """An item that cannot be triaged as asked (unknown, or not waiting for a person)."""


def _waiting(session: Session, ids: Sequence[int]) -> list[InboundItem]:
    items = {item.id: item for item in session.scalars(select(InboundItem).where(InboundItem.id.in_(ids)))}
    missing = [str(i) for i in ids if i not in items]
    if missing:
        raise TriageError(f"no inbound item {', '.join(missing)}")
    done = [f"{i} ({items[i].status})" for i in ids if items[i].status not in WAITING]
    if done:
        raise TriageError(f"item {', '.join(done)} is not waiting for triage (only quarantined or unclaimed are)")
    return [items[i] for i in ids]


def _note(item: InboundItem, action: str, actor: str, now: datetime, why: str | None = None) -> None:
    entry: dict[str, Any] = {"action": action, "actor": actor, "at": now.isoformat(), "was": item.status}
    if item.reason:
        entry["reason_was"] = item.reason[:500]
    if why:
        entry["why"] = why[:500]
    data = dict(item.data or {})
    data["triage"] = [*data.get("triage", []), entry]
    item.data = data


def retry_items(session: Session, ids: Sequence[int], *, actor: str, now: datetime) -> list[InboundItem]:
    """Put quarantined or unclaimed items back in line for the intake's next pass; all or none."""
    items = _waiting(session, ids)
    # An unclaimed mail kept its attachments without a case; processing it again keeps them anew.
    session.execute(delete(Attachment).where(Attachment.item_id.in_(ids)))
    for item in items:
        _note(item, "retry", actor, now)
        item.status, item.reason, item.case_id, item.processed_at = "pending", None, None, None
    return items


def dismiss_items(session: Session, ids: Sequence[int], *, actor: str, reason: str, now: datetime) -> list[InboundItem]:
    """Set quarantined or unclaimed items aside (``ignored``) with the person's reason; all or none."""
    if not reason.strip():
        raise TriageError("say why the item needs nothing (spam, a test mail …)")
    items = _waiting(session, ids)
    for item in items:
        _note(item, "dismiss", actor, now, reason.strip())
        item.status, item.reason = "ignored", f"set aside by {actor}: {reason.strip()}"[:2000]
    return items
