"""Inbound mail as real clients send it, for tests: any charset, any transfer encoding.

``build_mail`` writes the raw bytes by hand rather than through the email package's
generator, so a test can produce what Foxmail, Outlook or an old webmail really
send: a GB2312 label on GBK bytes, an RFC 2047 word split inside a character, raw
8-bit headers, file names in RFC 2047 words.
"""

from __future__ import annotations

import base64
import os
import quopri
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from kefu.intake.mailparse import codec_for

Attachment = tuple[str, str, bytes]  # file name, content type, content


def encoded_word(text: str, charset: str = "utf-8", *, split_inside_char: bool = False) -> str:
    """``text`` as RFC 2047 base64 word(s); optionally split in the middle of a character."""
    data = text.encode(codec_for(charset))
    if not split_inside_char or len(data) < 3:
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    # Cut at an odd byte so the first word ends inside a multi-byte character.
    cut = len(data) // 2 | 1
    first, second = data[:cut], data[cut:]
    return f"=?{charset}?B?{base64.b64encode(first).decode()}?=\r\n =?{charset}?B?{base64.b64encode(second).decode()}?="


def _body(text: str, charset: str, encoding: str) -> tuple[bytes, str]:
    data = text.replace("\n", "\r\n").encode(codec_for(charset))
    if encoding == "base64":
        encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    elif encoding == "quoted-printable":
        encoded = quopri.encodestring(data).replace(b"\n", b"\r\n")
    else:
        encoded = data + b"\r\n"
    return encoded, encoding


def build_mail(
    *,
    sender: str = "zhang@example.com",
    sender_name: str = "张先生",
    to: str = "kefu@example.com",
    subject: str = "报修",
    text: str | None = "家里暖气漏水，请尽快处理。",
    html: str | None = None,
    charset: str = "utf-8",
    subject_charset: str | None = None,
    encoding: str = "base64",
    raw_8bit_subject: bool = False,
    split_subject: bool = False,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
    attachments: Sequence[Attachment] = (),
    filename_style: str = "rfc2047",
    content_type: str | None = None,
) -> bytes:
    """One inbound mail as bytes. ``charset`` labels the body; GB2312/GBK are written as GBK bytes."""
    sub_cs = subject_charset or charset
    if raw_8bit_subject:
        subject_value = subject.encode(codec_for(sub_cs)).decode("latin-1")
    elif subject.isascii():
        subject_value = subject
    else:
        subject_value = encoded_word(subject, sub_cs, split_inside_char=split_subject)
    name = encoded_word(sender_name, sub_cs) if sender_name and not sender_name.isascii() else sender_name
    lines = [
        f"From: {name} <{sender}>" if name else f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject_value}",
        "Date: Mon, 02 Nov 2026 09:00:00 +0800",
        f"Message-ID: {message_id or f'<{uuid.uuid4().hex}@client.example.com>'}",
        "MIME-Version: 1.0",
    ]
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references:
        lines.append("References: " + "\r\n ".join(references))
    for key, value in (headers or {}).items():
        lines.append(f"{key}: {value}")
    parts: list[bytes] = []
    if text is not None:
        body, cte = _body(text, charset, encoding)
        parts.append(
            f'Content-Type: text/plain; charset="{charset}"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n'.encode() + body
        )
    if html is not None:
        body, cte = _body(html, charset, encoding)
        parts.append(
            f'Content-Type: text/html; charset="{charset}"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n'.encode() + body
        )
    for filename, ctype, content in attachments:
        if filename_style == "rfc2231" and not filename.isascii():
            from urllib.parse import quote

            disp = f"attachment; filename*=UTF-8''{quote(filename)}"
            ctline = f"{ctype}"
        else:
            shown = filename if filename.isascii() else encoded_word(filename, "utf-8")
            disp = f'attachment; filename="{shown}"'
            ctline = f'{ctype}; name="{shown}"'
        encoded = base64.encodebytes(content).replace(b"\n", b"\r\n")
        parts.append(
            f"Content-Type: {ctline}\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: {disp}\r\n\r\n".encode()
            + encoded
        )
    head = "\r\n".join(lines).encode("latin-1" if raw_8bit_subject else "ascii")
    if content_type is None and len(parts) == 1:
        part_head, _, part_body = parts[0].partition(b"\r\n\r\n")
        return head + b"\r\n" + part_head + b"\r\n\r\n" + part_body
    boundary = f"=_kefu_{uuid.uuid4().hex}"
    kind = content_type or (
        "multipart/alternative" if html is not None and text is not None and not attachments else "multipart/mixed"
    )
    out = head + f'\r\nContent-Type: {kind}; boundary="{boundary}"\r\n\r\n'.encode()
    for part in parts:
        out += f"--{boundary}\r\n".encode() + part + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def build_bounce(
    *,
    recipient: str,
    original_message_id: str,
    reporter: str = "example.com",
    diagnostic: str = "550 5.1.1 user unknown",
) -> bytes:
    """A standard delivery-status report (RFC 3464) for a message of ours that could not be delivered."""
    boundary = f"=_dsn_{uuid.uuid4().hex}"
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@{reporter}>\r\n"
        f"To: kefu@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@{reporter}>\r\nAuto-Submitted: auto-replied\r\n"
        f"MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; {reporter}\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: kefu@example.com\r\nTo: {recipient}\r\nSubject: case\r\n"
        f"Message-ID: {original_message_id}\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode("ascii")


_delivered = [0]


def deliver_to_maildir(root: Path, raw: bytes) -> Path:
    """Deliver one message into ``root/new`` the way an MDA does (write in tmp/, then rename)."""
    _delivered[0] += 1
    name = f"1700000000.M{_delivered[0]:08d}P{os.getpid()}.kefu-test"  # sorts in delivery order
    tmp = root / "tmp" / name
    tmp.write_bytes(raw)
    target = root / "new" / name
    tmp.rename(target)
    return target
