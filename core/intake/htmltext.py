"""HTML-only mail turned into readable text (paragraphs and line breaks kept, markup dropped).

The standard :class:`~html.parser.HTMLParser` defines what the text is. It spends most of
its time on each tag's attributes, which the text never needs, so the plain constructs mail
is made of (text, tags with plain attributes, script and style bodies, comments, a doctype)
are tokenised here and fed to the same collector; anything else (Office's ``<![if ...]>``,
a stray ``<``, an unclosed tag or comment...) is read by HTMLParser from the start.
tests/core/intake/test_html_text.py holds both ways to the same text.

HTMLParser can raise on input it does not know (a marked section such as ``<![foo]>`` is an
AssertionError up to Python 3.13); the text of a mail must never fail to come out, so then
the tags are simply stripped.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre"}
_SKIP = {"script", "style", "head", "title"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """The visible text of ``html``: blocks become lines, whitespace runs collapse."""
    collector = _TextCollector()
    if not _fast_feed(html, collector):
        collector = _TextCollector()
        try:
            collector.feed(html)
            collector.close()
        except Exception:  # any: a mail whose HTML HTMLParser rejects must still be read
            return _tidy(_strip_tags(html))
    return _tidy("".join(collector.parts))


def _tidy(text: str) -> str:
    """Collapse white space runs in lines and runs of blank lines."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\xa0", " ").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# The plain tag-strip: the collector's readings of blocks and skipped elements, by pattern.
_STRIP_SKIPPED = re.compile(r"<!--.*?(?:--\s*>|\Z)|<(script|style|head|title)\b.*?</\1\s*>",
                            re.IGNORECASE | re.DOTALL)
_STRIP_BLOCK = re.compile(rf"</?(?:{'|'.join(sorted(_BLOCK))})(?=[\s/>])[^>]*>", re.IGNORECASE)
_STRIP_TAG = re.compile(r"<[a-zA-Z/!?][^>]*>")


def _strip_tags(html: str) -> str:
    """The text of ``html`` with the tags stripped: blocks become line breaks."""
    text = _STRIP_SKIPPED.sub("", html)
    text = _STRIP_TAG.sub("", _STRIP_BLOCK.sub("\n", text))
    return unescape(text)


# HTMLParser's readings of the plain constructs. White space in tags is only the ASCII kind
# (HTMLParser's tokens end at any Unicode space), names are ASCII, a quoted value holds no
# "<" or ">", and an unquoted one no space, quote, "=", "<", ">" or "`". An unquoted value
# takes a trailing "/" as HTMLParser does: <a href=x/> is a start tag, not an empty one.
_WS = r"[ \t\n\r\f]"
_START_TAG = re.compile(
    rf"<([a-zA-Z][-.a-zA-Z0-9:_]*)"
    rf"(?:{_WS}+[a-zA-Z_:][-.a-zA-Z0-9_:]*(?:{_WS}*={_WS}*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s\"'=<>`]+))?)*"
    rf"{_WS}*(/?)>")
_END_TAG = re.compile(rf"</([a-zA-Z][-.a-zA-Z0-9:_]*){_WS}*>")
_COMMENT_END = re.compile(r"--\s*>")  # as html.parser's
_RAW_TEXT_END = {tag: re.compile(rf"</\s*{tag}\s*>", re.IGNORECASE)  # HTMLParser.set_cdata_mode's
                 for tag in HTMLParser.CDATA_CONTENT_ELEMENTS}


def _fast_feed(html: str, collector: _TextCollector) -> bool:
    """Feed ``collector`` what HTMLParser would; False (part fed) at anything it reads otherwise."""
    pos, end = 0, len(html)
    while pos < end:
        lt = html.find("<", pos)
        if lt < 0:
            lt = end
        if pos < lt:
            collector.handle_data(unescape(html[pos:lt]))
            pos = lt
            if pos == end:
                break
        tag = _START_TAG.match(html, pos)
        if tag is not None:
            name = tag[1].lower()
            collector.handle_starttag(name, [])
            pos = tag.end()
            if tag[2]:
                collector.handle_endtag(name)
            elif name in _RAW_TEXT_END:  # its body is not markup; script and style are skipped
                close = _RAW_TEXT_END[name].search(html, pos)
                if close is None:
                    return False
                collector.handle_endtag(name)
                pos = close.end()
            continue
        if html.startswith("</", pos):
            tag = _END_TAG.match(html, pos)
            if tag is None:
                return False
            collector.handle_endtag(tag[1].lower())
            pos = tag.end()
        elif html.startswith("<!--", pos):
            close = _COMMENT_END.search(html, pos + 4)
            if close is None:
                return False
            pos = close.end()
        elif html[pos:pos + 9].lower() == "<!doctype":
            gt = html.find(">", pos + 9)
            if gt < 0:
                return False
            pos = gt + 1
        else:
            return False  # <?, <![, other <! and a lone < or <x the start-tag pattern refused
    return True
