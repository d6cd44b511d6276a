"""The outbox: every notification, written in the transaction of the change that caused it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base


class OutboxMessage(Base):
    """One message to one recipient on one channel.

    ``idem_key`` (case, rule, step, recipient, channel) is unique: the same
    notification is never queued twice, and a restart never sends it twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "state", "not_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idem_key: Mapped[str] = mapped_column(String(512), unique=True)
    plugin: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16), doc="email, sms, letter")
    audience: Mapped[str] = mapped_column(String(16), default="customer", doc="customer or staff")
    recipient: Mapped[str] = mapped_column(String(320))
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(1000))
    body: Mapped[str] = mapped_column(Text, default="")
    urgent: Mapped[bool] = mapped_column(default=False)
    marketing: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), default="queued", doc="queued, sending, sent, failed, dead, skipped")
    created_at: Mapped[datetime]
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(200), index=True)
    message_id: Mapped[str | None] = mapped_column(String(512), index=True)
    sent_at: Mapped[datetime | None]
    delivery_status: Mapped[str | None] = mapped_column(String(32))
    claimed_by: Mapped[str | None] = mapped_column(
        String(255), doc="identity of the process sending it (state 'sending'), see kefu.identity"
    )
    claimed_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None] = mapped_column(
        doc="the claim holds until then; the sender renews it, another takes the row over only after"
    )
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Letter(Base):
    """A letter (PDF) archived with its case; letters to post list until the EMS number is recorded."""

    __tablename__ = "letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)
    plugin: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default="")
    to_post: Mapped[bool] = mapped_column(default=True, doc="printed and posted (else only emailed)")
    template: Mapped[str] = mapped_column(String(200))
    recipient_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]
    ems_number: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
