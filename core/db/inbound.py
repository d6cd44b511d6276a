"""Inbound items (raw bytes first), their attachments, and each channel's position."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.db.base import Base


class InboundItem(Base):
    """Something that came in, stored raw before anything else happens.

    ``source_key`` is the channel's own identity of the item (mailbox +
    UIDVALIDITY + UID, a Maildir file name, a Twilio MessageSid, a hotline call
    id), unique per channel; ``message_id`` catches the same mail delivered twice.
    The raw bytes are kept in a table of their own (:class:`InboundRaw`), read through
    :attr:`raw`.
    """

    __tablename__ = "inbound_items"
    __table_args__ = (
        UniqueConstraint("channel", "source_key"),
        Index(None, "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    source_key: Mapped[str] = mapped_column(String(512))
    message_id: Mapped[str | None] = mapped_column(String(512), index=True)
    kind: Mapped[str] = mapped_column(String(16), doc="email, sms, hotline, import")
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(
        String(16),
        default="pending",
        doc="pending, processed, duplicate, noise, unclaimed, quarantined, ignored (set aside by staff)",
    )
    reason: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(1000))
    text: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raw_row: Mapped[InboundRaw] = relationship(lazy="select", uselist=False, viewonly=True)

    @property
    def raw(self) -> bytes:
        """The item exactly as it came in (loaded when first read, unless the query loaded it)."""
        return self.raw_row.raw


class InboundRaw(Base):
    """The raw bytes of an inbound item, written once when it is stored and never changed.

    Not a column of :class:`InboundItem`: processing writes each item's row again (its
    status, sender, case), and a database rewrites the whole row on update, a mail of
    many kilobytes with it; apart, only the small row is written again.
    """

    __tablename__ = "inbound_raw"

    item_id: Mapped[int] = mapped_column(ForeignKey("inbound_items.id"), primary_key=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)


class Attachment(Base):
    """A file that came with an inbound item (a photo of a leak is evidence: never deleted)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inbound_items.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    filename: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ChannelState(Base):
    """Each channel's position (UIDVALIDITY, last UID, last Twilio SID) and last success."""

    __tablename__ = "channel_state"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    cursor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
