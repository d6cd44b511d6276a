"""Parsing mail as real clients send it: any charset, any transfer encoding, HTML-only too.

The standard library's modern policy mis-decodes two things Chinese mail is full of
(an RFC 2047 word split inside a multi-byte character, raw 8-bit GBK headers), so mail
is read with the ``compat32`` parser and its headers decoded as
:func:`email.header.decode_header` does (:mod:`kefu.intake.headers`), GB2312/GBK read as
their superset GB18030 (mail labelled GB2312 routinely holds GBK-only characters).

Mail is measured before it is parsed (:class:`~kefu.channels.config.MailLimits`): a header
block, a header count, a MIME part count, a part's size or a nesting depth beyond the
limits raises :class:`ParseError`, so a crafted mail is quarantined with the reason instead
of holding the channel. Text that cannot be decoded (an unknown charset, broken base64 or
quoted-printable, a multipart whose parts cannot be found) is a ParseError too when no
readable text is left; a broken attachment beside readable text is kept as it came and
noted in :attr:`ParsedMail.problems`.
"""

from __future__ import annotations

import email
import email.errors
import email.message
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from email.policy import compat32
from functools import lru_cache
from typing import Any

from kefu.channels.config import MailLimits
from kefu.intake.headers import SUPERSETS, codec_for, decode_bytes, decode_header_value
from kefu.intake.htmltext import html_to_text

__all__ = [
    "SUPERSETS",
    "ParseError",
    "ParsedAttachment",
    "ParsedMail",
    "codec_for",
    "decode_bytes",
    "decode_header_value",
    "message_ids",
    "parse_mail",
]

DEFAULT_LIMITS = MailLimits()
_STRICT_FALLBACKS = ("utf-8", "gb18030", "big5hkscs")


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


class Headers:
    """A message's headers by lower-cased name, read once from :meth:`Message.items` (each
    ``Message.get`` scans every header again)."""

    __slots__ = ("_values",)

    def __init__(self, msg: Message) -> None:
        values: dict[str, list[Any]] = {}
        for name, value in msg.items():
            values.setdefault(name.lower(), []).append(value)
        self._values = values

    def get(self, name: str) -> Any:
        """The first value of header ``name`` (lower case), None if absent."""
        found = self._values.get(name)
        return found[0] if found else None

    def get_all(self, name: str) -> list[Any]:
        """Every value of header ``name`` (lower case), in order."""
        return self._values.get(name, [])

    def names(self) -> set[str]:
        """The lower-cased names of the headers present."""
        return set(self._values)


@dataclass
class ParsedMail:
    """What intake needs from one mail; ``problems`` says what of it could not be read."""

    sender: str | None
    sender_name: str
    subject: str
    text: str
    message_id: str | None
    references: list[str]
    to: list[str]
    attachments: list[ParsedAttachment] = field(default_factory=list)
    message: email.message.Message | None = None
    problems: list[str] = field(default_factory=list)
    headers: Headers | None = None


_MSGID = re.compile(r"<[^<>\s\x00]+>")


def message_ids(value: str) -> list[str]:
    """The Message-IDs in a References/In-Reply-To header, in order (with angle brackets)."""
    return _MSGID.findall(value or "")


_HEADERS_SEEN = re.compile(
    rb"^(from|sender|received|return-path|date|subject|message-id)\s*:", re.IGNORECASE | re.MULTILINE
)
_FIELD_START = re.compile(rb"^[^ \t\r\n]", re.MULTILINE)
_CONTAINER = re.compile(rb"^content-type:[ \t]*(?:\r?\n[ \t]+)?(multipart|message)/", re.IGNORECASE | re.MULTILINE)


def header_block(raw: bytes) -> bytes:
    """The top header block of a raw mail (up to the first empty line)."""
    ends = [i for i in (raw.find(b"\n\n"), raw.find(b"\r\n\r\n")) if i >= 0]
    return raw[: min(ends)] if ends else raw


def check_limits(raw: bytes, limits: MailLimits) -> None:
    """Raise :class:`ParseError` when ``raw`` is beyond ``limits``, before anything parses it.

    Only linear scans: the size, the header block and its fields, and the lines that declare a
    container part (multipart or message), which bound the parser's nesting and part count.
    """
    if len(raw) > limits.max_message_bytes:
        raise ParseError(
            f"message of {len(raw)} bytes exceeds the limit of {limits.max_message_bytes} "
            "([channels.limits] max_message_bytes)"
        )
    head = header_block(raw)
    if len(head) > limits.max_header_bytes:
        raise ParseError(
            f"header block of {len(head)} bytes exceeds the limit of {limits.max_header_bytes} "
            "([channels.limits] max_header_bytes)"
        )
    # A field starts a line: a block of few lines has few fields, and only the others are counted.
    if head.count(b"\n") >= limits.max_headers:
        fields = len(_FIELD_START.findall(head))
        if fields > limits.max_headers:
            raise ParseError(
                f"{fields} header fields exceed the limit of {limits.max_headers} ([channels.limits] max_headers)"
            )
    # Every container part declares itself in a Content-Type line: a mail with few such lines
    # (fewer colons, even) cannot be beyond the limit, and the exact (slower) count is only made
    # for the others.
    if raw.count(b":") <= limits.max_parts or raw.lower().count(b"content-type:") <= limits.max_parts:
        return
    containers = len(_CONTAINER.findall(raw))
    if containers > limits.max_parts:
        raise ParseError(
            f"MIME parts nested too deeply or too many: {containers} multipart/message parts "
            f"exceed the limit of {limits.max_parts} ([channels.limits] max_parts)"
        )


def _walk(msg: Message, limits: MailLimits) -> list[Message]:
    """The leaf parts of ``msg`` in order; ParseError beyond the part count or nesting depth."""
    leaves: list[Message] = []
    count = 0
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        count += 1
        if count > limits.max_parts:
            raise ParseError(f"more than {limits.max_parts} MIME parts ([channels.limits] max_parts)")
        if depth > limits.max_depth:
            raise ParseError(
                f"MIME parts nested too deeply: more than {limits.max_depth} levels ([channels.limits] max_depth)"
            )
        children = part.get_payload() if part.is_multipart() else None
        if isinstance(children, list):
            stack.extend((child, depth + 1) for child in reversed(children) if isinstance(child, Message))
        else:
            leaves.append(part)
    return leaves


def parse_mail(raw: bytes, limits: MailLimits = DEFAULT_LIMITS) -> ParsedMail:
    """Parse one mail. Raises :class:`ParseError` when it is not a mail, exceeds ``limits``, or
    holds no text that can be decoded."""
    if not raw or raw.isspace():
        raise ParseError("empty message")
    if not _HEADERS_SEEN.search(header_block(raw[:65536])):
        raise ParseError("no mail headers found (not an RFC 5322 message)")
    check_limits(raw, limits)
    try:
        msg = email.message_from_bytes(raw, policy=compat32)
        leaves = _walk(msg, limits)
    except (ValueError, TypeError) as exc:  # the parser reads each multipart's boundary parameter
        raise ParseError(
            f"malformed RFC 2231 boundary parameter in a Content-Type ({type(exc).__name__}: {exc})"
        ) from exc
    except RecursionError as exc:  # the parser recurses once per level of nesting
        raise ParseError("MIME parts nested too deeply to read") from exc
    headers = Headers(msg)
    from_value = decode_header_value(headers.get("from") or headers.get("sender") or headers.get("return-path"))
    name, address = _sender(from_value)
    if address is None and not from_value:
        raise ParseError("no sender: the message has neither From nor Sender")
    body = _Body(limits)
    for index, part in enumerate(leaves, 1):
        body.read(part, index)
    text = body.text()
    return ParsedMail(
        sender=address,
        sender_name=name,
        subject=decode_header_value(headers.get("subject")),
        text=text,
        message_id=next(iter(message_ids(str(headers.get("message-id") or ""))), None),
        references=_references(headers),
        to=list(_recipients(tuple(decode_header_value(v) for v in headers.get_all("to") + headers.get_all("cc")))),
        attachments=body.attachments,
        message=msg,
        problems=body.problems,
        headers=headers,
    )


# The address parser is the slowest step after the MIME parser, and the same sender and
# inbox headers come back mail after mail: its answers are kept for the strings seen last.
@lru_cache(maxsize=4096)
def _sender(from_value: str) -> tuple[str, str | None]:
    """The display name and lower-cased address of a From value (None without an ``@``)."""
    name, parsed = email.utils.parseaddr(from_value)
    address = parsed.strip().lower() or None
    return name.strip(), address if address is not None and "@" in address else None


@lru_cache(maxsize=4096)
def _recipients(values: tuple[str, ...]) -> tuple[str, ...]:
    """The lower-cased addresses of To and Cc values, in order."""
    return tuple(a.lower() for _n, a in email.utils.getaddresses(list(values)) if a)


class _Body:
    """The text and attachments of a mail's leaf parts, and what could not be read of them."""

    def __init__(self, limits: MailLimits) -> None:
        self.limits = limits
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[ParsedAttachment] = []
        self.problems: list[str] = []
        self.unreadable_text: list[str] = []

    def read(self, part: Message, index: int) -> None:
        """Read one leaf part into text or an attachment."""
        ctype = part.get_content_type()
        disposition = str(part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
        filename = _filename(part)
        payload, broken = _payload(part)
        if len(payload) > self.limits.max_part_bytes:
            raise ParseError(
                f"part {index} ({ctype}) of {len(payload)} bytes exceeds the limit of "
                f"{self.limits.max_part_bytes} ([channels.limits] max_part_bytes)"
            )
        if ctype.startswith("multipart/"):
            # A multipart whose boundary never occurs: its parts cannot be told apart.
            self.unreadable_text.append(f"{ctype} without the boundary it declares: its parts cannot be found")
            return
        if disposition == "attachment" or filename or not ctype.startswith("text/"):
            if ctype in ("message/delivery-status", "text/rfc822-headers") and not filename:
                return
            name = filename or _default_name(ctype, len(self.attachments) + 1)
            if broken:
                self.problems.append(f"attachment {name}: {broken}; kept as received")
            self.attachments.append(ParsedAttachment(filename=name, content_type=ctype, content=payload))
            return
        charset = _charset(part)
        decoded = None if broken else _decode_text(payload, charset)
        if decoded is None:
            why = broken or _why_undecodable(payload, charset)
            self.unreadable_text.append(f"text part {index} ({ctype}): {why}")
            return
        (self.html if ctype == "text/html" else self.plain).append(decoded)

    def text(self) -> str:
        """The mail's text: its plain parts, else its HTML as text. ParseError if none is readable."""
        if self.plain:
            text = "\n\n".join(t.strip() for t in self.plain if t.strip())
        else:
            text = "\n\n".join(html_to_text(h) for h in self.html)
        if self.unreadable_text:
            if not self.plain and not self.html:
                raise ParseError("undecodable text: " + "; ".join(self.unreadable_text)[:1500])
            self.problems.extend(self.unreadable_text)
        return text.replace("\r\n", "\n").strip()


_BROKEN_BASE64 = (
    email.errors.InvalidBase64LengthDefect,
    email.errors.InvalidBase64CharactersDefect,
    email.errors.InvalidBase64PaddingDefect,
)


def _payload(part: Message) -> tuple[bytes, str | None]:
    """The part's decoded bytes, and why they are not what was sent (None when they are)."""
    before = len(part.defects)
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = b""
    defects = part.defects[before:]
    if any(isinstance(d, email.errors.InvalidBase64LengthDefect) for d in defects):
        return data, "broken base64"  # the parser hands back the encoded text as it came
    if any(isinstance(d, _BROKEN_BASE64) for d in defects):
        return data, _damaged_base64(data, part)
    return data, None


def _damaged_base64(data: bytes, part: Message) -> str | None:
    """Lenient base64 decoding skipped bad characters: the bytes still count if they are text
    in the part's charset (a stray character in a line), not if they are not."""
    if part.get_content_maintype() != "text":
        return "base64 with invalid characters"
    return None if _decode_strict(data, _charset(part)) is not None else "broken base64"


def _charset(part: Message) -> str | None:
    """The part's charset label; None for a label that cannot be read (RFC 2231 with a NUL)."""
    try:
        return part.get_content_charset()
    except (ValueError, TypeError, LookupError):
        return None


def _decode_strict(data: bytes, charset: str | None) -> str | None:
    try:
        return data.decode(codec_for(charset))
    except (LookupError, ValueError):
        return None


def _decode_text(data: bytes, charset: str | None) -> str | None:
    """The text ``data`` holds: in its charset, or (a wrong label) in one real mail uses; a few
    bad bytes become U+FFFD. None when it is no text in any of them."""
    found = _decode_strict(data, charset)
    if found is not None:
        return found
    known = _known_codec(charset)
    for codec in _STRICT_FALLBACKS if known else ("utf-8",):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    if not known:
        return None
    # Mostly readable: a damaged byte here and there (a gateway that cut a line) is not lost text.
    lenient = data.decode(codec_for(charset), errors="replace")
    bad = lenient.count("\ufffd")
    return lenient if bad <= max(2, len(lenient) // 100) else None


def _known_codec(charset: str | None) -> bool:
    try:
        "".encode(codec_for(charset))
        return True
    except (LookupError, ValueError):
        return False


def _why_undecodable(data: bytes, charset: str | None) -> str:
    if not _known_codec(charset):
        return f"unknown charset {charset!r} and the bytes are not UTF-8"
    return f"the bytes are not text in {charset or 'us-ascii'!r} (broken quoted-printable or base64?)"


def _filename(part: Message) -> str:
    """The part's file name (RFC 2231, or the RFC 2047 words many Chinese clients put there)."""
    if part.get("Content-Disposition") is None and "name" not in str(part.get("Content-Type") or "").lower():
        return ""  # where get_filename would look, nothing names a file
    try:
        raw = part.get_filename()
    except (ValueError, TypeError, LookupError):  # a malformed RFC 2231 parameter
        raw = None
    if not raw:
        return ""
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        raw = decode_bytes(raw.encode("ascii", "surrogateescape"), None)
    elif "\ufffd" in raw:
        # compat32 reads the parameters of an 8-bit header with U+FFFD for each byte: read the bytes.
        raw = _filename_from_bytes(part) or raw
    return decode_header_value(raw).replace("/", "_").replace("\\", "_").replace("\x00", "")[:400]


_NAME_PARAM = re.compile(r'(?:file)?name\s*=\s*"?([^";]+)"?', re.IGNORECASE)


def _filename_from_bytes(part: Message) -> str | None:
    for header in ("Content-Disposition", "Content-Type"):
        for name, value in part.raw_items():
            if name.lower() == header.lower():
                text = decode_header_value(value)
                found = _NAME_PARAM.search(text)
                if found:
                    return found.group(1)
    return None


def _references(headers: Headers) -> list[str]:
    seen: list[str] = []
    for header in ("in-reply-to", "references"):
        for value in headers.get_all(header):
            for mid in message_ids(str(value)):
                if mid not in seen:
                    seen.append(mid)
    return seen


def _default_name(ctype: str, n: int) -> str:
    ext = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf", "message/rfc822": "eml"}.get(ctype, "bin")
    return f"attachment-{n}.{ext}"
