"""Header values as text: RFC 2047 encoded words, raw 8-bit bytes, folds; in linear time.

:func:`email.header.decode_header` has the semantics Chinese mail needs (adjacent
encoded words of one charset are joined before decoding, so a word split inside a
multi-byte character still reads), but it joins them by growing one bytes object,
which is quadratic in the number of words: a crafted header of a megabyte of words
would hold the channel for minutes. So a header is cut into its encoded words and the
text between them with one linear scan, each word is decoded by ``decode_header``
alone, and runs of one charset are joined once. GB2312/GBK are read as GB18030.
"""

from __future__ import annotations

import binascii
import re
from email.errors import HeaderParseError
from email.header import Header, decode_header
from functools import lru_cache

# Labels mail clients use for a charset whose superset decodes more of what they really send.
SUPERSETS = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "csgb2312": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "ks_c_5601-1987": "cp949",
}
FALLBACKS = ("utf-8", "gb18030", "big5hkscs")

# An encoded word: its parts hold neither "?" nor white space (RFC 2047 section 2), so each
# attempt to match stops at the next "?" and the scan is linear in the header's length.
_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n[ \t]+")
_BASE64_CHARS = re.compile(r"[A-Za-z0-9+/]+")


@lru_cache(maxsize=256)
def codec_for(charset: str | None) -> str:
    """The Python codec to decode text labelled ``charset`` with (supersets applied)."""
    label = (charset or "utf-8").strip().strip('"').lower().partition("*")[0]  # RFC 2231 language
    return SUPERSETS.get(label, label)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode ``data`` labelled ``charset``; wrong or unknown labels fall back to UTF-8, GB18030, Big5."""
    first = codec_for(charset)
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
    """A header's value as one line of text: encoded words decoded, raw 8-bit bytes read, folds undone."""
    if value is None:
        return ""
    if isinstance(value, Header):
        # compat32 hands out a header holding raw 8-bit bytes as a Header of "unknown-8bit".
        text = "".join(
            decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
            for chunk, charset in decode_header(value)
        )
    else:
        text = str(value)
        if not text.isascii() and any("\udc80" <= ch <= "\udcff" for ch in text):
            text = decode_bytes(text.encode("ascii", "surrogateescape"), None)
    if "=?" in text:
        text = _decode_words(text)
    if "\n" in text:
        text = _FOLD.sub(" ", text)
    return text.strip()


def _decode_words(text: str) -> str:
    """``text`` with its encoded words decoded: white space between two words dropped, each run
    of adjacent words of one charset decoded as one, the text around them kept."""
    out: list[str] = []
    run: list[bytes] = []
    run_charset = ""
    pos = 0
    after_word = False
    for word in _WORD.finditer(text):
        between = text[pos : word.start()]
        pos = word.end()
        joins = after_word and (not between or between.isspace())
        charset = codec_for(word[1])
        if run and not (joins and charset == run_charset):
            out.append(decode_bytes(b"".join(run), run_charset))
            run = []
        if not joins:
            out.append(between)
        run.append(_word_bytes(word[0], word[2], word[3]))
        run_charset, after_word = charset, True
    if run:
        out.append(decode_bytes(b"".join(run), run_charset))
    out.append(text[pos:])
    return "".join(out)


@lru_cache(maxsize=4096)
def _word_bytes(word: str, encoding: str, encoded: str) -> bytes:
    """The bytes one encoded word holds, as ``decode_header`` reads them; a base64 word a
    client cut short gives the whole bytes it holds."""
    try:
        for chunk, _charset in decode_header(word):
            if isinstance(chunk, bytes):
                return chunk
        return b""
    except (HeaderParseError, ValueError):
        pass
    if encoding in "qQ":
        return binascii.a2b_qp(encoded.encode("ascii", "replace"), header=True)
    chars = "".join(_BASE64_CHARS.findall(encoded))
    if len(chars) % 4 == 1:  # a lone last character holds no whole byte
        chars = chars[:-1]
    try:
        return binascii.a2b_base64(chars + "=" * (-len(chars) % 4))
    except binascii.Error:
        return b""
