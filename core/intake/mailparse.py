"""Parsing mail as real clients send it: any charset, any transfer encoding, HTML-only too.

The standard library's modern policy mis-decodes two things Chinese mail is full of
(an RFC 2047 word split inside a multi-byte character, raw 8-bit GBK headers), so
this reads mail as the ``compat32`` parser does and decodes headers with the semantics
of :func:`email.header.decode_header`, which joins adjacent encoded words before
decoding, and reads GB2312/GBK as their superset GB18030 (mail labelled GB2312
routinely holds GBK-only characters).

The stdlib's feed parser alone costs more than all the rest of parsing, so the common shapes
(CRLF or LF line ends; one part, or multiparts a few levels deep, of parts in base64,
quoted-printable, 7bit or 8bit) are split here by hand into the very ``Message`` tree
``compat32`` builds, and the headers intake reads are decoded with fast paths for their
usual forms (plain text, base64 encoded words, "Name <addr>"). Anything else goes to the
stdlib parser: message/* (so delivery reports), digests, uuencode, a missing or repeated
boundary, another line end where it would change the tree, a header line the stdlib would
take for body, 8-bit bytes in a Content-* header; RFC 2231 or escaped parameters are read
through the ``Message``'s own methods.
tests/core/intake/test_fast_parse.py holds both paths to the same results.
"""

from __future__ import annotations

import binascii
import email
import email.message
import email.utils
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.header import Header, decode_header
from email.message import Message
from email.policy import compat32
from typing import Any

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
    except (LookupError, UnicodeDecodeError):
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
        chunks = decode_header(text)
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
            return None  # decode_header raises its own error for this
        if runs and runs[-1][0] == charset:
            runs[-1] = (charset, runs[-1][1] + data)
        else:
            runs.append((charset, data))
    return "".join(decode_bytes(data, charset or "utf-8") for charset, data in runs) + tail


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
    fast = _split(raw)
    if fast is not None:
        msg, headers, leaves = fast
        contents = _leaf_contents(leaves)
    else:
        msg = email.message_from_bytes(raw)
        headers = _HeaderMap(msg.items())
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


class _HeaderMap:
    """A message's headers by lower-cased name, read as ``Message.get``/``get_all`` read them."""

    __slots__ = ("_values",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        values: dict[str, list[Any]] = {}
        for name, value in pairs:
            key = name.lower()
            if key in values:
                values[key].append(value)
            else:
                values[key] = [value]
        self._values = values

    def get(self, key: str, failobj: Any = None) -> Any:
        """The first value of header ``key`` (lower case), 8-bit values as compat32's Header."""
        found = self._values.get(key)
        if found is None:
            return failobj
        value = found[0]
        if isinstance(value, str) and not value.isascii():
            return compat32.header_fetch_parse(key, value)
        return value

    def get_all(self, key: str, failobj: Any = None) -> Any:
        """Every value of header ``key`` (lower case), in order."""
        found = self._values.get(key)
        if found is None:
            return failobj
        return [compat32.header_fetch_parse(key, v) if isinstance(v, str) and not v.isascii() else v
                for v in found]

    def plain(self, key: str) -> str | None:
        """A Content-* header's first value; 8-bit bytes there are unusual (stdlib path)."""
        found = self._values.get(key)
        if found is None:
            return None
        value = found[0]
        if not value.isascii():
            raise _Unusual
        return str(value)


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


def _references(headers: _HeaderMap) -> list[str]:
    seen: list[str] = []
    for header in ("in-reply-to", "references"):
        for value in headers.get_all(header, []):
            for mid in message_ids(str(value)):
                if mid not in seen:
                    seen.append(mid)
    return seen


# --- The stdlib path's parts.

def _stdlib_contents(msg: Message) -> Iterator[tuple[str, str, str, bytes, Any]]:
    """Each leaf part: content type, disposition, file name, decoded payload, charset getter."""
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = (part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
        filename = _filename(part)
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = str(part.get_payload()).encode("utf-8", "surrogateescape")
        yield ctype, disposition, filename, payload, part.get_content_charset


def _filename(part: Message) -> str:
    raw: object = part.get_filename()  # handles RFC 2231 (filename*=UTF-8''...)
    if raw is None:
        raw = part.get_param("name")
        if isinstance(raw, tuple):
            raw = email.utils.collapse_rfc2231_value(raw)
    return _clean_filename(raw)


def _clean_filename(raw: object) -> str:
    if not raw:
        return ""
    # Many Chinese clients put RFC 2047 words in file names, against the RFC.
    return decode_header_value(str(raw)).replace("/", "_").replace("\\", "_")[:400]


def _default_name(ctype: str, n: int) -> str:
    ext = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf",
           "message/rfc822": "eml"}.get(ctype, "bin")
    return f"attachment-{n}.{ext}"


# --- The fast path: the compat32 tree of a common-shaped mail, split by hand.

class _Unusual(Exception):
    """The mail has a shape the fast path leaves to the stdlib parser."""


@dataclass
class _Leaf:
    """A leaf part: its Message, and the Content-* values it is read by (None if absent)."""

    message: Message
    content_type: str
    payload: str
    content_type_value: str | None
    disposition_value: str | None
    transfer_encoding: str  # lower-cased, "" if absent



# The stdlib's header line: a name of printable ASCII but ":" (not empty here), a colon.
_FIELD = re.compile(r"([\041-\071\073-\176]+):[ \t]*(.*)")
# What follows "--boundary" on a boundary line, up to the line end (feedparser's boundaryre).
_BOUNDARY_TAIL = re.compile(r"(--)?[ \t]*(?=[\r\n]|\Z)")
_UUENCODE = ("x-uuencode", "uuencode", "uue", "x-uue")
_MAX_DEPTH = 4


def _split(raw: bytes) -> tuple[Message, _HeaderMap, list[_Leaf]] | None:
    """The compat32 tree of ``raw``, its headers and leaf parts; None for an unusual shape."""
    # The line end is the first line's. Another kind of line end matters only where the stdlib
    # splits lines that matter: in a header block, and before or in a boundary line.
    lf = raw.find(b"\n")
    nl = "\r\n" if lf > 0 and raw[lf - 1] == 13 else "\n"
    leaves: list[_Leaf] = []
    try:
        msg, headers = _entity(raw.decode("ascii", "surrogateescape"), nl, leaves, 0)
    except _Unusual:
        return None
    return msg, headers, leaves


def _entity(text: str, nl: str, leaves: list[_Leaf], depth: int) -> tuple[Message, _HeaderMap]:
    """Parse one message or body part (``depth`` > 0) the way compat32's feed parser does."""
    if text.startswith(nl):
        pairs: list[tuple[str, Any]] = []
        body = text[len(nl):]
    else:
        end = text.find(nl + nl)
        if end < 0:
            raise _Unusual
        head = text[:end]
        if _other_line_ends(head, nl):
            raise _Unusual
        pairs = _header_pairs(head, nl)
        body = text[end + 2 * len(nl):]
    msg = Message()
    for name, value in pairs:
        msg.set_raw(name, value)
    headers = _HeaderMap(pairs)
    ctype = _content_type(headers.plain("content-type"))
    if ctype.startswith("multipart/"):
        cte = headers.plain("content-transfer-encoding")
        if depth >= _MAX_DEPTH or ctype == "multipart/digest" \
                or (cte is not None and cte.lower() not in ("7bit", "8bit", "binary")):
            raise _Unusual  # digests' parts default to message/rfc822; a bad CTE is a defect
        _multipart(msg, headers, body, nl, leaves, depth)
        if depth:  # the newline before the parent's boundary is not part of the epilogue
            if msg.epilogue == "":
                msg.epilogue = None
            elif msg.epilogue is not None and msg.epilogue.endswith(nl):
                msg.epilogue = msg.epilogue[:-len(nl)]
    elif ctype.startswith("message/"):
        raise _Unusual
    else:
        cte = str(headers.plain("content-transfer-encoding") or "").lower()
        if cte in _UUENCODE:
            raise _Unusual
        if depth and body.endswith(nl):  # the newline before the boundary belongs to it
            body = body[:-len(nl)]
        msg.set_payload(body)
        leaves.append(_Leaf(msg, ctype, body, headers.plain("content-type"),
                            headers.plain("content-disposition"), cte))
    return msg, headers


def _other_line_ends(text: str, nl: str) -> bool:
    """Whether ``text`` has a line end other than ``nl`` (the stdlib splits at \\r, \\n, \\r\\n)."""
    if nl == "\n":
        return "\r" in text
    crlf = text.count("\r\n")
    return text.count("\r") != crlf or text.count("\n") != crlf


def _header_pairs(head: str, nl: str) -> list[tuple[str, Any]]:
    """(name, raw value) per header, as compat32 stores them (folds kept, line end dropped)."""
    pairs: list[tuple[str, Any]] = []
    for line in head.split(nl):
        match = _FIELD.match(line)
        if match is not None:
            pairs.append((match[1], match[2]))
        elif line[:1] in (" ", "\t") and pairs:
            name, value = pairs[-1]
            pairs[-1] = (name, value + nl + line)
        else:
            # A first line that is a continuation, or a line the stdlib would start the body with.
            raise _Unusual
    return pairs


def _content_type(value: str | None, default: str = "text/plain") -> str:
    """``Message.get_content_type`` from the header's value."""
    if value is None:
        return default
    ctype = value.partition(";")[0].strip().lower()
    return ctype if ctype.count("/") == 1 else "text/plain"


def _params(value: str) -> dict[str, str] | None:
    """``Message.get_param``'s answers for plain syntax (no RFC 2231, no escapes); else None."""
    if "\\" in value or "*" in value:
        return None
    pieces = value.split(";")
    if "=" in pieces[0] or pieces[0].count('"') % 2:
        return None
    params = {pieces[0].strip().lower(): ""}
    for piece in pieces[1:]:
        if piece.count('"') % 2:
            return None  # a quoted ";": the stdlib splits elsewhere
        name, eq, val = piece.partition("=")
        params.setdefault(name.strip().lower(), email.utils.unquote(val.strip()) if eq else "")
    return params


def _multipart(msg: Message, headers: _HeaderMap, body: str, nl: str, leaves: list[_Leaf],
               depth: int) -> None:
    value = headers.plain("content-type") or ""
    params = _params(value)
    if params is None:
        boundary = msg.get_boundary()
    else:
        found = params.get("boundary")
        boundary = None if found is None else email.utils.unquote(found).rstrip()
    if not boundary:
        raise _Unusual
    separator = "--" + boundary

    def next_boundary(pos: int) -> tuple[int, int, bool]:
        """(line start, line end, closing?) of the next boundary line from ``pos``."""
        while True:
            start = body.find(separator, pos)
            if start < 0:
                raise _Unusual  # no closing boundary
            pos = start + 1
            if start and body[start - 1] not in "\r\n":
                continue  # not at a line start
            tail = _BOUNDARY_TAIL.match(body, start + len(separator))
            if tail is None:
                continue  # a line that only starts like a boundary
            # A boundary line to the stdlib, whose lines end at \r, \n or \r\n: it must end, and
            # the line before it end, with ``nl`` for the parts around it to read alike.
            end = tail.end()
            if (start and body[start - len(nl):start] != nl) \
                    or (nl == "\n" and start >= 2 and body[start - 2] == "\r") \
                    or (end < len(body) and not body.startswith(nl, end)):
                raise _Unusual
            return start, end, tail[1] is not None

    start, end, closing = next_boundary(0)
    if closing:
        raise _Unusual
    if start:
        msg.preamble = body[:start - len(nl)]
    while not closing:
        if end >= len(body):
            raise _Unusual
        part_start = end + len(nl)
        start, end, closing = next_boundary(part_start)
        if start == part_start:
            raise _Unusual  # repeated boundary lines: the stdlib skips them
        part, _ = _entity(body[part_start:start], nl, leaves, depth + 1)
        msg.attach(part)
    msg.epilogue = body[end + len(nl):] if end < len(body) else ""


def _leaf_contents(leaves: list[_Leaf]) -> Iterator[tuple[str, str, str, bytes, Any]]:
    """As :func:`_stdlib_contents`, from the fast path's leaves."""
    for leaf in leaves:
        # No Content-Type reads as no parameters; None means parameters only the stdlib reads.
        params = {} if leaf.content_type_value is None else _params(leaf.content_type_value)
        disposition = (leaf.disposition_value or "").split(";", 1)[0].strip().lower()
        yield (leaf.content_type, disposition, _clean_filename(_leaf_filename(leaf, params)),
               _leaf_payload(leaf), lambda leaf=leaf, params=params: _leaf_charset(leaf, params))


def _leaf_filename(leaf: _Leaf, params: dict[str, str] | None) -> Any:
    """``Message.get_filename``, given the part's Content-Type ``params``."""
    found = None
    if leaf.disposition_value is not None:
        disposition = _params(leaf.disposition_value)
        if disposition is None:
            return _stdlib_filename(leaf.message)
        found = disposition.get("filename")
    if found is None:
        if params is None:
            return _stdlib_filename(leaf.message)
        found = params.get("name")
        if found is None:
            return None
    return email.utils.unquote(found).strip()


def _stdlib_filename(part: Message) -> Any:
    raw: object = part.get_filename()
    if raw is None:
        raw = part.get_param("name")
        if isinstance(raw, tuple):
            raw = email.utils.collapse_rfc2231_value(raw)
    return raw


def _leaf_charset(leaf: _Leaf, params: dict[str, str] | None) -> str | None:
    """``Message.get_content_charset``, given the part's Content-Type ``params``."""
    if params is None:
        return leaf.message.get_content_charset()
    charset = params.get("charset")
    return None if charset is None else charset.lower()


def _leaf_payload(leaf: _Leaf) -> bytes:
    """``Message.get_payload(decode=True)`` for base64, quoted-printable and the rest."""
    data = leaf.payload.encode("ascii", "surrogateescape")
    if leaf.transfer_encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    if leaf.transfer_encoding == "base64":
        return _decode_b(b"".join(data.splitlines()))
    return data


def _decode_b(encoded: bytes) -> bytes:
    """``email._encoded_words.decode_b`` without the defects: strict, then ever more lenient."""
    pad = len(encoded) % 4
    try:
        return binascii.a2b_base64(encoded + (b"==="[:4 - pad] if pad else b""), strict_mode=True)
    except binascii.Error:
        pass
    try:
        return binascii.a2b_base64(encoded)
    except binascii.Error:
        pass
    try:
        return binascii.a2b_base64(encoded + b"==")
    except binascii.Error:
        return encoded
