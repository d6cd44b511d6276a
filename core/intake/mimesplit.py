"""The ``compat32`` ``Message`` tree of a common-shaped mail, split by hand.

The stdlib's feed parser (``email.message_from_bytes``) alone costs more than all the rest
of reading a mail, so :func:`split_mail` builds the very tree ``compat32`` builds for the
common shapes: CRLF or LF line ends; one part, or multiparts a few levels deep, of parts in
base64, quoted-printable, 7bit or 8bit. The tree is identical (raw header values with their
folds, payloads, preambles and epilogues), so everything that reads the ``Message`` later
(noise detection, bounce reading) sees no difference; the leaves' Content-* parameters in
plain syntax are read here too, without the ``Message``'s slower methods.

For any other shape :func:`split_mail` returns None and the caller runs the stdlib parser:
message/* (so delivery reports), digests, uuencode, a missing or repeated boundary, another
line end where it would change the tree, a header line the stdlib would take for body, 8-bit
bytes in a Content-* header, nesting deeper than four levels. RFC 2231 or escaped parameters
are read through the ``Message``'s own methods.
tests/core/intake/test_fast_parse.py holds both paths to identical results.
"""

from __future__ import annotations

import binascii
import email.utils
import re
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32
from typing import Any


class _Unusual(Exception):
    """The mail has a shape the fast path leaves to the stdlib parser."""


# What the ``Message``'s parameter readers raise for some malformed RFC 2231 parameters: a
# charset label holding a NUL (ValueError), "name*0*" next to "name*" (TypeError).
BAD_PARAMETER = (ValueError, TypeError)


class HeaderMap:
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


@dataclass
class Leaf:
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


def split_mail(raw: bytes) -> tuple[Message, HeaderMap, list[Leaf]] | None:
    """The compat32 tree of ``raw``, its headers and leaf parts; None for an unusual shape."""
    # The line end is the first line's. Another kind of line end matters only where the stdlib
    # splits lines that matter: in a header block, and before or in a boundary line.
    lf = raw.find(b"\n")
    nl = "\r\n" if lf > 0 and raw[lf - 1] == 13 else "\n"
    leaves: list[Leaf] = []
    try:
        msg, headers = _entity(raw.decode("ascii", "surrogateescape"), nl, leaves, 0)
    except _Unusual:
        return None
    return msg, headers, leaves


def _entity(text: str, nl: str, leaves: list[Leaf], depth: int) -> tuple[Message, HeaderMap]:
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
    headers = HeaderMap(pairs)
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
        leaves.append(Leaf(msg, ctype, body, headers.plain("content-type"),
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


def plain_params(value: str) -> dict[str, str] | None:
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


def _multipart(msg: Message, headers: HeaderMap, body: str, nl: str, leaves: list[Leaf],
               depth: int) -> None:
    value = headers.plain("content-type") or ""
    params = plain_params(value)
    if params is None:
        try:
            boundary = msg.get_boundary()
        except BAD_PARAMETER:
            raise _Unusual from None  # the stdlib parser's own reading raises alike
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


# --- What a leaf is read by, as the Message's own methods read it.

def leaf_filename(leaf: Leaf, params: dict[str, str] | None) -> Any:
    """``Message.get_filename``, given the part's Content-Type ``params`` (None: not plain)."""
    found = None
    if leaf.disposition_value is not None:
        disposition = plain_params(leaf.disposition_value)
        if disposition is None:
            return message_filename(leaf.message)
        found = disposition.get("filename")
    if found is None:
        if params is None:
            return message_filename(leaf.message)
        found = params.get("name")
        if found is None:
            return None
    return email.utils.unquote(found).strip()


def message_filename(part: Message) -> str | None:
    """``Message.get_filename`` (Content-Disposition's filename, else the type's name).

    A file name the ``Message`` cannot read (:data:`BAD_PARAMETER`) reads as absent: the
    attachment is kept under a made-up name.
    """
    try:
        return part.get_filename()  # handles RFC 2231 (filename*=UTF-8''...)
    except BAD_PARAMETER:
        return None


def message_charset(part: Message) -> str | None:
    """``Message.get_content_charset``; a charset it cannot read reads as absent."""
    try:
        return part.get_content_charset()
    except BAD_PARAMETER:
        return None


def leaf_charset(leaf: Leaf, params: dict[str, str] | None) -> str | None:
    """``Message.get_content_charset``, given the part's Content-Type ``params``."""
    if params is None:
        return message_charset(leaf.message)
    charset = params.get("charset")
    return None if charset is None else charset.lower()


def leaf_payload(leaf: Leaf) -> bytes:
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
