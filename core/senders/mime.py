"""Building our emails: UTF-8 MIME, RFC 2047 headers, our Message-ID, Auto-Submitted."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from kefu.senders.base import Outgoing


def build_email(
    message: Outgoing,
    *,
    from_address: str,
    from_name: str,
    now: datetime,
    transfer_encoding: str = "base64",
) -> EmailMessage:
    """The MIME message for ``message``.

    Non-ASCII subjects and names are RFC 2047 encoded by the ``SMTP`` policy; the
    body is UTF-8 in ``transfer_encoding`` (base64 passes every relay; the spool
    writes 8bit so people can read the file).
    """
    mail = EmailMessage(policy=SMTP)
    local, _, domain = from_address.partition("@")
    mail["From"] = Address(display_name=from_name, username=local, domain=domain or "localhost")
    mail["To"] = _address(message.recipient, message.recipient_name)
    mail["Subject"] = message.subject or ""
    mail["Date"] = format_datetime(now)
    if message.message_id:
        mail["Message-ID"] = message.message_id
    if message.auto:
        # RFC 3834: tells well-behaved auto-responders not to answer us (no mail loops).
        mail["Auto-Submitted"] = "auto-generated"
        mail["X-Auto-Response-Suppress"] = "All"
    if message.case_number:
        mail["X-Kefu-Case"] = message.case_number
    mail.set_content(message.body, charset="utf-8", cte=transfer_encoding)
    for item in message.attachments:
        maintype, _, subtype = item.mime_type.partition("/")
        mail.add_attachment(item.content, maintype=maintype, subtype=subtype, filename=item.filename)
    return mail


def _address(addr: str, name: str | None) -> Address:
    local, _, domain = addr.strip().partition("@")
    if not local or not domain:
        raise ValueError(f"{addr!r} is not an email address")
    return Address(display_name=name or "", username=local, domain=domain)
