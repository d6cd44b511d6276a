"""Parsing mail as real clients send it: any charset, any transfer encoding, HTML-only too.

The standard library's modern policy mis-decodes two things Chinese mail is full of
(an RFC 2047 word split inside a multi-byte character, raw 8-bit GBK headers), so
this uses the ``compat32`` parser with :func:`email.header.decode_header`, which
joins adjacent encoded words before decoding, and reads GB2312/GBK as their
superset GB18030 (mail labelled GB2312 routinely holds GBK-only characters).
"""

from __future__ import annotations

import email
import email.message
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email.header import decode_header

from kefu.intake.htmltext import html_to_text

# Labels mail clients use for a charset whose superset decodes more of what they really send.
SUPERSETS = {
    "gb2312": "gb18030", "gb_2312-80": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030",
    "cp936": "gb18030", "euc-cn": "gb18030", "x-euc-cn": "gb18030", "csgb2312": "gb18030",
    "big5": "big5hkscs", "x-big5": "big5hkscs", "cp950": "big5hkscs",
    "us-ascii": "utf-8", "ascii": "utf-8", "unknown-8bit": "utf-8", "x-unknown": "utf-8",
    "ks_c_5601-1987": "cp949",
}
FALLBACKS = ("utf-8", "gb18030", "big5hkscs")


class ParseError(ValueError):
    """The item cannot be understood; it is quarantined with this reason."""


@dataclass
class ParsedAttachment:
    """A file that came with a message."""

    filename: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        """The content's SHA-256 (evidence integrity)."""
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class ParsedMail:
    """What intake needs from one mail."""

    sender: str | None
    sender_name: str
    subject: str
    text: str
    message_id: str | None
    references: list[str]
    to: list[str]
    attachments: list[ParsedAttachment] = field(default_factory=list)
    message: email.message.Message | None = None


def codec_for(charset: str | None) -> str:
    """The Python codec to decode text labelled ``charset`` with (supersets applied)."""
    label = (charset or "utf-8").strip().strip('"').lower()
    return SUPERSETS.get(label, label)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode ``data`` labelled ``charset``; wrong or unknown labels fall back to UTF-8, GB18030, Big5."""
    tried = []
    for codec in (codec_for(charset), *FALLBACKS):
        if codec in tried:
            continue
        tried.append(codec)
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def decode_header_value(value: object) -> str:
    """Decode a header: RFC 2047 words (even split inside a character) and raw 8-bit bytes."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        chunks = decode_header(value)
    else:
        text = str(value)
        raw8 = text.encode("ascii", "surrogateescape") if _has_surrogates(text) else None
        if raw8 is not None:
            # Raw 8-bit header bytes (GBK straight from an old client): decode the bytes.
            text = decode_bytes(raw8, None)
            if "=?" not in text:
                return _unfold(text)
        chunks = decode_header(text)
    parts = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            parts.append(decode_bytes(chunk, charset) if charset else decode_bytes(chunk, "utf-8"))
        else:
            parts.append(chunk)
    return _unfold("".join(parts))


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _unfold(text: str) -> str:
    return re.sub(r"\r?\n[ \t]+", " ", text).strip()


_MSGID = re.compile(r"<[^<>\s]+>")


def message_ids(value: str) -> list[str]:
    """The Message-IDs in a References/In-Reply-To header, in order (with angle brackets)."""
    return _MSGID.findall(value or "")


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse one mail. Raises :class:`ParseError` when it is not a mail at all."""
    if not raw or not raw.strip():
        raise ParseError("empty message")
    head = raw[:65536].split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    if not re.search(rb"^(from|sender|received|return-path|date|subject|message-id)\s*:", head,
                     re.IGNORECASE | re.MULTILINE):
        raise ParseError("no mail headers found (not an RFC 5322 message)")
    msg = email.message_from_bytes(raw)
    from_value = decode_header_value(msg.get("From") or msg.get("Sender") or msg.get("Return-Path"))
    name, parsed_address = email.utils.parseaddr(from_value)
    address: str | None = parsed_address.strip().lower() or None
    if address is not None and "@" not in address:
        address = None
    if address is None and not from_value:
        raise ParseError("no sender: the message has neither From nor Sender")
    text_plain: list[str] = []
    text_html: list[str] = []
    attachments: list[ParsedAttachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = (part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
        filename = _filename(part)
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = str(part.get_payload()).encode("utf-8", "surrogateescape")
        if disposition == "attachment" or filename or not ctype.startswith("text/"):
            if ctype in ("message/delivery-status", "text/rfc822-headers") and not filename:
                continue
            attachments.append(ParsedAttachment(
                filename=filename or _default_name(ctype, len(attachments) + 1),
                content_type=ctype, content=payload,
            ))
            continue
        body = decode_bytes(payload, part.get_content_charset())
        if ctype == "text/html":
            text_html.append(body)
        else:
            text_plain.append(body)
    if text_plain:
        text = "\n\n".join(t.strip() for t in text_plain if t.strip())
    else:
        text = "\n\n".join(html_to_text(h) for h in text_html)
    return ParsedMail(
        sender=address,
        sender_name=name.strip(),
        subject=decode_header_value(msg.get("Subject")),
        text=text.replace("\r\n", "\n").strip(),
        message_id=next(iter(message_ids(str(msg.get("Message-ID") or ""))), None),
        references=_references(msg),
        to=[a.lower() for _n, a in email.utils.getaddresses(
            [decode_header_value(v) for v in msg.get_all("To", []) + msg.get_all("Cc", [])]) if a],
        attachments=attachments,
        message=msg,
    )


def _references(msg: email.message.Message) -> list[str]:
    seen: list[str] = []
    for header in ("In-Reply-To", "References"):
        for value in msg.get_all(header, []):
            for mid in message_ids(str(value)):
                if mid not in seen:
                    seen.append(mid)
    return seen


def _filename(part: email.message.Message) -> str:
    raw: object = part.get_filename()  # handles RFC 2231 (filename*=UTF-8''...)
    if raw is None:
        raw = part.get_param("name")
        if isinstance(raw, tuple):
            raw = email.utils.collapse_rfc2231_value(raw)
    if not raw:
        return ""
    # Many Chinese clients put RFC 2047 words in file names, against the RFC.
    return decode_header_value(str(raw)).replace("/", "_").replace("\\", "_")[:400]


def _default_name(ctype: str, n: int) -> str:
    ext = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf",
           "message/rfc822": "eml"}.get(ctype, "bin")
    return f"attachment-{n}.{ext}"
