"""Parsing mail as real clients send it: any charset, any transfer encoding, HTML-only too.

The standard library's modern policy mis-decodes two things Chinese mail is full of
(an RFC 2047 word split inside a multi-byte character, raw 8-bit GBK headers), so
this reads mail as the ``compat32`` parser does and decodes headers with the semantics
of :func:`email.header.decode_header`, which joins adjacent encoded words before
decoding, and reads GB2312/GBK as their superset GB18030 (mail labelled GB2312
routinely holds GBK-only characters).

The stdlib's feed parser alone costs more than all the rest of parsing, so common-shaped
mail is split by hand into the very ``Message`` tree ``compat32`` builds
(:mod:`kefu.intake.mimesplit`, which says which shapes it takes); any other goes to the
stdlib parser. The headers intake reads are decoded with fast paths for their usual forms
(plain text, base64 encoded words, "Name <addr>").
tests/core/intake/test_fast_parse.py holds both paths to the same results.
"""

from __future__ import annotations

import binascii
import email
import email.base64mime
import email.message
import email.utils
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.header import Header, decode_header
from email.message import Message
from typing import Any

from kefu.intake.htmltext import html_to_text
from kefu.intake.mimesplit import (
    BAD_PARAMETER,
    HeaderMap,
    Leaf,
    leaf_charset,
    leaf_filename,
    leaf_payload,
    message_charset,
    message_filename,
    plain_params,
    split_mail,
)

# Labels mail clients use for a charset whose superset decodes more of what they really send.
SUPERSETS = {
    "gb2312": "gb18030", "gb_2312-80": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030",
    "cp936": "gb18030", "euc-cn": "gb18030", "x-euc-cn": "gb18030", "csgb2312": "gb18030",
    "big5": "big5hkscs", "x-big5": "big5hkscs", "cp950": "big5hkscs",
    "us-ascii": "utf-8", "ascii": "utf-8", "unknown-8bit": "utf-8", "x-unknown": "utf-8",
    "ks_c_5601-1987": "cp949",
}
FALLBACKS = ("utf-8", "gb18030", "big5hkscs")
_CODECS: dict[str | None, str] = {}  # codec_for's answers


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
    first = _CODECS.get(charset)
    if first is None:
        first = codec_for(charset)
        if len(_CODECS) < 256:  # labels come from mail: keep the usual ones, not every one seen
            _CODECS[charset] = first
    try:
        return data.decode(first)
    except (LookupError, ValueError):  # ValueError: a label no codec takes ("utf\0"), bad bytes
        pass
    for codec in FALLBACKS:
        if codec == first:
            continue
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def decode_header_value(value: object) -> str:
    """Decode a header: RFC 2047 words (even split inside a character) and raw 8-bit bytes."""
    if value is None:
        return ""
    if isinstance(value, Header):
        chunks = decode_header(value)
    else:
        text = str(value)
        if text.isascii():
            if "=?" not in text:
                return _unfold(text)
            words = _decode_words(text)
            if words is not None:
                return _unfold(words)
        elif _has_surrogates(text):
            # Raw 8-bit header bytes (GBK straight from an old client): decode the bytes.
            text = decode_bytes(text.encode("ascii", "surrogateescape"), None)
            if "=?" not in text:
                return _unfold(text)
        try:
            chunks = decode_header(text)
        except HeaderParseError:
            # A base64 word that does not decode (a client cut it short) makes decode_header
            # give up on the whole header: read what such words hold instead.
            chunks = decode_header(_ENCODED_WORD.sub(_mend_b_word, text))
    parts = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            parts.append(decode_bytes(chunk, charset) if charset else decode_bytes(chunk, "utf-8"))
        else:
            parts.append(chunk)
    return _unfold("".join(parts))


_SURROGATE = re.compile("[\udc80-\udcff]")
_FOLD = re.compile(r"\r?\n[ \t]+")
# Base64 encoded words separated by white space, then maybe plain text on the same line
# ("=?utf-8?B?...?= <a@b>"): decode_header's result is then each run of words of one
# charset decoded together, and the text as it is. Q words and the rest go to decode_header.
_B_WORD = r"=\?[-\w.:+*]*\?[bB]\?[A-Za-z0-9+/=]*\?="
_B_WORDS = re.compile(rf"[ \t\r\n]*((?:{_B_WORD}[ \t\r\n]*)*{_B_WORD})([ \t][^\r\n\x0b\x0c\x1c-\x1e]*)?",
                      re.ASCII)
_B_WORD_PARTS = re.compile(r"=\?([-\w.:+*]*)\?[bB]\?([A-Za-z0-9+/=]*)\?=", re.ASCII)


def _has_surrogates(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def _unfold(text: str) -> str:
    if "\n" not in text:
        return text.strip()
    return _FOLD.sub(" ", text).strip()


def _decode_words(text: str) -> str | None:
    """``text`` decoded as decode_header does, for the common shape; None for any other."""
    match = _B_WORDS.fullmatch(text)
    if match is None:
        return None
    tail = match.group(2) or ""
    if "=?" in tail:
        return None
    runs: list[tuple[str, bytes]] = []
    for charset, encoded in _B_WORD_PARTS.findall(match.group(1)):
        charset = charset.lower()
        if len(encoded) % 4:
            encoded += "==="[:4 - len(encoded) % 4]
        try:
            data = binascii.a2b_base64(encoded)
        except binascii.Error:
            return None  # decode_header_value mends such a word
        if runs and runs[-1][0] == charset:
            runs[-1] = (charset, runs[-1][1] + data)
        else:
            runs.append((charset, data))
    return "".join(decode_bytes(data, charset or "utf-8") for charset, data in runs) + tail


# An encoded word as decode_header finds it (email.header.ecre, not in its public API).
_ENCODED_WORD = re.compile(r"=\?(?P<charset>[^?]*?)\?(?P<encoding>[qQbB])\?(?P<encoded>.*?)\?=")
_BASE64_CHARS = re.compile(r"[A-Za-z0-9+/]+")


def _mend_b_word(word: re.Match[str]) -> str:
    """An encoded word of ``decode_header``'s, as a base64 word that decodes to the bytes it holds."""
    encoded = word["encoded"]
    if word["encoding"] in "qQ":
        return word[0]
    try:
        email.base64mime.decode(encoded + "==="[:-len(encoded) % 4])  # padded as decode_header does
        return word[0]
    except binascii.Error:
        pass
    # Non-strict base64 skips other characters; a lone last character holds no whole byte.
    chars = "".join(_BASE64_CHARS.findall(encoded))
    if len(chars) % 4 == 1:
        chars = chars[:-1]
    data = binascii.a2b_base64(chars + "==="[:-len(chars) % 4])
    return f"=?{word['charset']}?B?{binascii.b2a_base64(data, newline=False).decode()}?="


_MSGID = re.compile(r"<[^<>\s]+>")


def message_ids(value: str) -> list[str]:
    """The Message-IDs in a References/In-Reply-To header, in order (with angle brackets)."""
    return _MSGID.findall(value or "")


_HEADERS_SEEN = re.compile(rb"^(from|sender|received|return-path|date|subject|message-id)\s*:",
                           re.IGNORECASE | re.MULTILINE)


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse one mail. Raises :class:`ParseError` when it is not a mail at all."""
    if not raw or raw.isspace():
        raise ParseError("empty message")
    head = raw[:65536]
    end = head.find(b"\n\n")
    if end >= 0:
        head = head[:end]
    end = head.find(b"\r\n\r\n")
    if end >= 0:
        head = head[:end]
    if not _HEADERS_SEEN.search(head):
        raise ParseError("no mail headers found (not an RFC 5322 message)")
    fast = split_mail(raw)
    if fast is not None:
        msg, headers, leaves = fast
        contents = _leaf_contents(leaves)
    else:
        try:
            msg = email.message_from_bytes(raw)
        except BAD_PARAMETER as exc:  # the parser reads each multipart's boundary parameter
            raise ParseError("malformed RFC 2231 boundary parameter in a Content-Type "
                             f"({type(exc).__name__}: {exc})") from exc
        except RecursionError as exc:  # the parser recurses once per level of nesting
            raise ParseError("MIME parts nested too deeply to read") from exc
        headers = HeaderMap(msg.items())
        contents = _stdlib_contents(msg)
    from_value = decode_header_value(headers.get("from") or headers.get("sender")
                                     or headers.get("return-path"))
    name, parsed_address = _address(from_value) or email.utils.parseaddr(from_value)
    address: str | None = parsed_address.strip().lower() or None
    if address is not None and "@" not in address:
        address = None
    if address is None and not from_value:
        raise ParseError("no sender: the message has neither From nor Sender")
    text_plain: list[str] = []
    text_html: list[str] = []
    attachments: list[ParsedAttachment] = []
    for ctype, disposition, filename, payload, charset in contents:
        if disposition == "attachment" or filename or not ctype.startswith("text/"):
            if ctype in ("message/delivery-status", "text/rfc822-headers") and not filename:
                continue
            attachments.append(ParsedAttachment(
                filename=filename or _default_name(ctype, len(attachments) + 1),
                content_type=ctype, content=payload,
            ))
            continue
        body = decode_bytes(payload, charset())
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
        subject=decode_header_value(headers.get("subject")),
        text=text.replace("\r\n", "\n").strip(),
        message_id=next(iter(message_ids(str(headers.get("message-id") or ""))), None),
        references=_references(headers),
        to=_recipients([decode_header_value(v)
                        for v in headers.get_all("to", []) + headers.get_all("cc", [])]),
        attachments=attachments,
        message=msg,
    )


# --- Addresses: the usual "addr", "Name <addr>" forms without email.utils' full parser.

# Unicode white space too: email.utils drops an atom of only that from a local part.
_ATOM = r"[^()<>@,:;.\"\[\]\s]+"
_ADDR_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*"
# A phrase's atoms may hold dots; runs of folding white space between them become one space.
_SIMPLE_ADDRESS = re.compile(
    rf"[ \t\r\n]*(?:({_ADDR_SPEC})|([^()<>@,:;\"\[\]\r\n]*?)[ \t\r\n]*<({_ADDR_SPEC})>)[ \t\r\n]*")
_FWS = re.compile(r"[ \t\r\n]+")


def _address(value: str) -> tuple[str, str] | None:
    """``email.utils.parseaddr(value)`` for a lone simple address; None for anything else."""
    match = _SIMPLE_ADDRESS.fullmatch(value)
    if match is None:
        return None
    bare, phrase, bracketed = match.groups()
    if bare is not None:
        return "", bare
    return " ".join(w for w in _FWS.split(phrase) if w), bracketed


def _recipients(values: list[str]) -> list[str]:
    """The lower-cased addresses in decoded To/Cc values (``email.utils.getaddresses``)."""
    found = []
    for piece in ", ".join(values).split(","):
        simple = _address(piece)
        if simple is not None:
            found.append(simple[1].lower())
        elif _FWS.sub("", piece):
            return [a.lower() for _n, a in email.utils.getaddresses(values) if a]
    return found


def _references(headers: HeaderMap) -> list[str]:
    seen: list[str] = []
    for header in ("in-reply-to", "references"):
        for value in headers.get_all(header, []):
            for mid in message_ids(str(value)):
                if mid not in seen:
                    seen.append(mid)
    return seen


# --- Each leaf part's contents, from either path.

def _stdlib_contents(msg: Message) -> Iterator[tuple[str, str, str, bytes, Any]]:
    """Each leaf part: content type, disposition, file name, decoded payload, charset getter."""
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        params = _decoded_params(part)
        disposition = (params.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
        filename = _clean_filename(message_filename(params))
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = str(part.get_payload()).encode("utf-8", "surrogateescape")
        yield ctype, disposition, filename, payload, lambda params=params: message_charset(params)


def _decoded_params(part: Message) -> Message:
    """``part``, or its Content-Type and -Disposition decoded if they hold raw 8-bit bytes.

    compat32 hands 8-bit values out as a :class:`Header`, whose parameters the ``Message``
    reads with U+FFFD for every byte (an old client's GBK file name would be lost).
    """
    ctype, disposition = part.get("Content-Type"), part.get("Content-Disposition")
    if not isinstance(ctype, Header) and not isinstance(disposition, Header):
        return part
    decoded = Message()
    for name, value in (("Content-Type", ctype), ("Content-Disposition", disposition)):
        if value is not None:
            decoded[name] = decode_header_value(value) if isinstance(value, Header) else value
    return decoded


def _clean_filename(raw: object) -> str:
    if not raw:
        return ""
    # Many Chinese clients put RFC 2047 words in file names, against the RFC.
    return decode_header_value(str(raw)).replace("/", "_").replace("\\", "_")[:400]


def _leaf_contents(leaves: list[Leaf]) -> Iterator[tuple[str, str, str, bytes, Any]]:
    """As :func:`_stdlib_contents`, from the fast path's leaves."""
    for leaf in leaves:
        # No Content-Type reads as no parameters; None means parameters only the stdlib reads.
        params = {} if leaf.content_type_value is None else plain_params(leaf.content_type_value)
        disposition = (leaf.disposition_value or "").split(";", 1)[0].strip().lower()
        yield (leaf.content_type, disposition, _clean_filename(leaf_filename(leaf, params)),
               leaf_payload(leaf), lambda leaf=leaf, params=params: leaf_charset(leaf, params))


def _default_name(ctype: str, n: int) -> str:
    ext = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf",
           "message/rfc822": "eml"}.get(ctype, "bin")
    return f"attachment-{n}.{ext}"
