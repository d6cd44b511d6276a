"""One timeline of a case: what came in (with its files), what went out (with its delivery), every event."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.console.access import Viewer
from kefu.console.render import CHANNELS, EVENT_NAMES, OUTBOX_STATES, state_label
from kefu.db.models import Attachment, Case, CaseEvent, InboundItem, OutboxMessage

if TYPE_CHECKING:
    from kefu.console.web import Console

_IMAGES = ("image/jpeg", "image/png", "image/gif", "image/webp")
LETTER_TEXT = "信件 PDF：生成后列在上方“信件”中（预览、打印、记录寄出）"


def timeline(session: Session, case: Case, viewer: Viewer, console: Console) -> list[dict[str, Any]]:
    """Every entry of ``case`` in time order, each a dict the case page draws."""
    entries: list[tuple[datetime, int, dict[str, Any]]] = []
    files: dict[int, list[dict[str, Any]]] = {}
    for att in session.scalars(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)):
        files.setdefault(att.item_id, []).append(
            {
                "id": att.id,
                "name": att.filename,
                "size": att.size,
                "image": att.content_type in _IMAGES,
                "url": f"/case/{case.number}/file/{att.id}",
            }
        )
    for item in session.scalars(select(InboundItem).where(InboundItem.case_id == case.id).order_by(InboundItem.id)):
        entries.append(
            (
                item.received_at,
                0,
                {
                    "type": "in",
                    "at": console.fmt(item.received_at),
                    "channel": CHANNELS.get(item.kind, item.kind),
                    "who": viewer.customer_text(item.sender) if item.channel != "console" else item.sender or "",
                    "subject": item.subject or "",
                    "text": (item.text or "")[:4000],
                    "files": files.get(item.id, []),
                },
            )
        )
    for msg in session.scalars(
        select(OutboxMessage).where(OutboxMessage.case_id == case.id).order_by(OutboxMessage.id)
    ):
        state = msg.delivery_status if msg.state == "sent" and msg.delivery_status else msg.state
        entries.append(
            (
                msg.created_at,
                1,
                {
                    "type": "out",
                    "at": console.fmt(msg.created_at),
                    "channel": CHANNELS.get(msg.channel, msg.channel),
                    "who": viewer.customer_text(msg.recipient) if msg.audience == "customer" else msg.recipient,
                    "audience": "客户" if msg.audience == "customer" else "员工",
                    "subject": msg.subject or "",
                    # A letter's body is the HTML its PDF is made from: the PDF is listed under 信件.
                    "text": LETTER_TEXT if msg.channel == "letter" else msg.body[:4000],
                    "state": OUTBOX_STATES.get(state, state),
                    "state_class": "late"
                    if msg.state in ("failed", "dead")
                    else "ok"
                    if msg.state == "sent"
                    else "soon",
                    "sent": console.fmt(msg.sent_at) if msg.sent_at else "",
                    "error": (msg.last_error or "")[:300],
                },
            )
        )
    for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)):
        entries.append(
            (
                event.at,
                2,
                {
                    "type": "event",
                    "at": console.fmt(event.at),
                    "name": EVENT_NAMES.get(event.type, event.type),
                    "actor": console._person(event.actor) if event.actor != "system" else "系统",
                    "move": f"{state_label(event.from_state)} → {state_label(event.to_state)}"
                    if event.to_state and event.from_state
                    else "",
                    "reason": event.reason or "",
                    "note": event.type == "note",
                },
            )
        )
    entries.sort(key=lambda e: (e[0], e[1]))
    return [e[2] for e in entries]
