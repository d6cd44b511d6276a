"""The plain object intake makes of an inbound item, and a plugin's classification of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class InboundMessage:
    """An inbound item parsed once: who sent it, what it says, where it came from."""

    item_id: int
    channel: str
    kind: str
    received_at: datetime
    sender: str | None
    subject: str
    text: str
    default_kind: str | None = None
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    auto_reply: bool = False


@dataclass(frozen=True)
class Classification:
    """A plugin's claim on an inbound item: the case kind, urgency and the customer it concerns."""

    kind: str
    urgent: bool = False
    customer_ref: str | None = None
    title: str | None = None
    unit: str | None = None
