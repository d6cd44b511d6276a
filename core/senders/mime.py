"""Building our emails: UTF-8 MIME, RFC 2047 headers, our Message-ID, Auto-Submitted.

:func:`email_bytes` writes the bytes of a plain-text message directly (what every
notification is): the ``email`` package's header policy machinery costs several
milliseconds a message, more than the SMTP round trips themselves. A message with
attachments (a letter as PDF) goes through :func:`build_email`.
"""

from __future__ import annotations

import base64
from datetime import datetime, tzinfo
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from functools import lru_cache

from kefu.senders.base import Outgoing

# An encoded word may be 75 characters: "=?utf-8?b?" + base64 of at most 45 bytes (60) + "?=".
_WORD_BYTES = 45
# What a plain address must not hold (quotes, spaces, brackets, separators, line breaks).
_SPECIALS = frozenset(' \t\r\n<>()[]\\,;:"')


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


def email_bytes(
    message: Outgoing,
    *,
    from_address: str,
    from_name: str,
    now: datetime,
    transfer_encoding: str = "base64",
) -> bytes:
    """The message as bytes with CRLF line ends, ready for ``smtplib``'s DATA.

    The same headers as :func:`build_email`; raises ValueError for an impossible
    recipient address, like it.
    """
    if message.attachments or transfer_encoding not in ("base64", "8bit"):
        return build_email(
            message, from_address=from_address, from_name=from_name, now=now, transfer_encoding=transfer_encoding
        ).as_bytes()
    local, _, domain = message.recipient.strip().partition("@")
    if not local or not domain or not _plain_address(message.recipient.strip()):
        raise ValueError(f"{message.recipient!r} is not an email address")
    lines = [
        _from_header(from_name, from_address),
        "To: " + _mailbox(message.recipient_name or "", message.recipient.strip()),
        "Subject: " + encode_header(message.subject or "", len("Subject: ")),
        _date_header(now.replace(microsecond=0), now.tzinfo),
    ]
    if message.message_id:
        lines.append("Message-ID: " + _one_line(message.message_id))
    if message.auto:
        # RFC 3834: tells well-behaved auto-responders not to answer us (no mail loops).
        lines += ["Auto-Submitted: auto-generated", "X-Auto-Response-Suppress: All"]
    if message.case_number:
        lines.append("X-Kefu-Case: " + _one_line(message.case_number))
    body = message.body if message.body.endswith("\n") else message.body + "\n"
    lines += [
        'Content-Type: text/plain; charset="utf-8"',
        f"Content-Transfer-Encoding: {transfer_encoding}",
        "MIME-Version: 1.0",
        "",
        "",
    ]
    head = "\r\n".join(lines).encode("ascii")
    text = body.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")  # text's canonical form: CRLF
    if transfer_encoding == "base64":
        # encodebytes wraps at 76 characters with \n; SMTP wants CRLF.
        return head + base64.encodebytes(text).replace(b"\n", b"\r\n")
    return head + text


def encode_header(value: str, offset: int = 0) -> str:
    """``value`` as a header value: ASCII as is, else the text from the first non-ASCII word
    as RFC 2047 ``=?utf-8?b?…?=`` words, folded onto continuation lines.

    ``offset`` is the length of ``Name: `` before it (for the first line's length).
    """
    value = _one_line(value)
    if value.isascii():
        return value
    words = value.split(" ")
    first = next(i for i, word in enumerate(words) if not word.isascii())
    plain = " ".join(words[:first])
    rest = " ".join(words[first:])
    encoded: list[str] = []
    chunk: list[str] = []
    size = 0
    if len(rest.encode("utf-8")) <= _WORD_BYTES:  # one word (most subjects and names): no split
        rest, encoded = "", [_word(rest)]
    for char in rest:
        width = len(char.encode("utf-8"))
        if size + width > _WORD_BYTES:
            encoded.append(_word("".join(chunk)))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    if chunk:
        encoded.append(_word("".join(chunk)))
    head = plain + " " if plain else ""
    if offset + len(head) + len(encoded[0]) > 78 and head:
        return head.rstrip() + "\r\n " + "\r\n ".join(encoded)
    return head + "\r\n ".join(encoded)


@lru_cache(maxsize=8)
def _from_header(from_name: str, from_address: str) -> str:
    # The same for every message of a dispatch run: encoded once, not once a message.
    local, _, domain = from_address.partition("@")
    return "From: " + _mailbox(from_name, f"{local}@{domain or 'localhost'}")


@lru_cache(maxsize=4)
def _date_header(now: datetime, zone: tzinfo | None) -> str:
    # A run sends many messages within one second; the header has no finer resolution.
    # ``zone`` is in the key because datetimes of one instant in two zones compare equal.
    return "Date: " + format_datetime(now)


def _word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def _mailbox(name: str, addr: str) -> str:
    name = _one_line(name)
    if not name:
        return addr
    if name.isascii():
        if any(c in name for c in '()<>[]:;@\\,."'):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name} <{addr}>"
    return f"{encode_header(name, 4)} <{addr}>"


def _plain_address(addr: str) -> bool:
    # What the fast path writes as is; anything else (quotes, spaces, non-ASCII) is refused.
    return addr.isascii() and _SPECIALS.isdisjoint(addr) and addr.count("@") == 1


def _one_line(value: str) -> str:
    # A header value never carries a line break of its own (header injection).
    return " ".join(value.split()) if ("\n" in value or "\r" in value) else value


def _address(addr: str, name: str | None) -> Address:
    local, _, domain = addr.strip().partition("@")
    if not local or not domain:
        raise ValueError(f"{addr!r} is not an email address")
    return Address(display_name=name or "", username=local, domain=domain)
