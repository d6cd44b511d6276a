"""The plain object intake makes of an inbound item, and a plugin's classification of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class InboundMessage:
    """An inbound item parsed once: who sent it, what it says, where it came from.

    ``channel`` is the channel's full name (``imap:repairs``, ``maildir:demo``,
    ``sms``, ``hotline``); ``kind`` is email, sms or hotline. ``in_reply_to`` holds
    every Message-ID the item refers to (In-Reply-To first, then References).
    ``noise`` is ``auto_reply``, ``list`` or ``bounce`` for mail that must never be
    acknowledged, with ``noise_reason`` saying which header showed it. ``occurred_at`` is
    when the customer acted, when the channel knows it and it is earlier than receipt (a
    hotline call's time, 来电时间): the case opens at that time. ``customer_of`` names the
    plugins the sender is a known customer of (a customer they imported, with its
    reference: a household, a home's owner), filled in before the plugins are asked.
    """

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
    sender_name: str = ""
    phone: str | None = None
    to: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    noise: str | None = None
    noise_reason: str | None = None
    category: str | None = None
    address: str | None = None
    account: str | None = None
    inbox: str | None = None
    occurred_at: datetime | None = None
    customer_of: tuple[str, ...] = ()

    @property
    def body(self) -> str:
        """Subject and text together, the haystack keyword rules search."""
        return f"{self.subject}\n{self.text}" if self.subject else self.text


@dataclass(frozen=True)
class Classification:
    """A plugin's claim on an inbound item: the case kind, urgency and the customer it concerns.

    ``score`` says how well the item matches (the highest answer wins); a tie goes to the
    plugin asked first: the inbox's default kind's plugin, then ``[plugins] enabled``
    order. Plugins that do not weigh their answers keep 1.0.
    """

    kind: str
    urgent: bool = False
    customer_ref: str | None = None
    title: str | None = None
    unit: str | None = None
    score: float = 1.0
