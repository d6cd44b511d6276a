"""HTML-only mail turned into readable text (paragraphs and line breaks kept, markup dropped).

The standard :class:`~html.parser.HTMLParser` reads the markup; the collector keeps the
text, a line break for each block element, and nothing of scripts, styles and the head.

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
_STRIP_SKIPPED = re.compile(r"<!--.*?(?:--\s*>|\Z)|<(script|style|head|title)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_STRIP_BLOCK = re.compile(rf"</?(?:{'|'.join(sorted(_BLOCK))})(?=[\s/>])[^>]*>", re.IGNORECASE)
_STRIP_TAG = re.compile(r"<[a-zA-Z/!?][^>]*>")


def _strip_tags(html: str) -> str:
    """The text of ``html`` with the tags stripped: blocks become line breaks."""
    text = _STRIP_SKIPPED.sub("", html)
    text = _STRIP_TAG.sub("", _STRIP_BLOCK.sub("\n", text))
    return unescape(text)
