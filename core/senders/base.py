"""What the dispatcher hands a sender, what it gets back, and how a sender says it failed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Attachment:
    """A file attached to an email (a letter as PDF)."""

    filename: str
    content: bytes
    mime_type: str = "application/pdf"


@dataclass(frozen=True)
class Outgoing:
    """One claimed outbox row, detached from the database while it is being sent."""

    id: int
    key: str
    channel: str
    audience: str
    recipient: str
    recipient_name: str | None
    subject: str | None
    body: str
    message_id: str | None
    case_number: str | None
    auto: bool = True
    marketing: bool = False
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class SendResult:
    """The provider's id for the message (SMTP queue id, Twilio SID, spool file)."""

    provider_id: str
    sent_at: datetime | None = None


class SendFailure(Exception):
    """Sending failed; ``code`` is the provider's (SMTP reply code, Twilio error code)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientFailure(SendFailure):
    """Worth retrying later: 4xx SMTP replies, timeouts, lost connections, HTTP 429/5xx."""


class PermanentFailure(SendFailure):
    """Never retried: invalid number, unsubscribed recipient, 5xx SMTP reply.

    ``flag`` names the customer field it proves (``phone_invalid``, ``sms_opt_out``,
    ``email_undeliverable``) or is None when the address itself is not at fault.
    """

    def __init__(self, message: str, code: int | None = None, flag: str | None = None) -> None:
        super().__init__(message, code)
        self.flag = flag


class Sender(Protocol):
    """Sends one channel's messages; may keep a connection open until :meth:`close`.

    A sender whose class sets ``lends_wait = True`` also takes ``send(message,
    meanwhile=...)`` and calls ``meanwhile`` while it waits for the peer, before
    any of the message can be delivered (the SMTP sender, during MAIL FROM).
    """

    def send(self, message: Outgoing) -> SendResult:
        """Send ``message`` or raise :class:`TransientFailure` / :class:`PermanentFailure`."""
        ...

    def close(self) -> None:
        """Release connections (called at the end of each dispatch run)."""
        ...


class WaitLendingSender(Sender, Protocol):
    """A :class:`Sender` whose class sets ``lends_wait = True``: its ``send`` takes ``meanwhile``."""

    def send(self, message: Outgoing, meanwhile: Callable[[], object] | None = None) -> SendResult:
        """Send ``message``, calling ``meanwhile`` once while the peer answers, before any of it
        can be delivered; raise :class:`TransientFailure` / :class:`PermanentFailure`.

        When ``meanwhile`` raises, nothing of ``message`` is delivered and its exception propagates.
        """
        ...
