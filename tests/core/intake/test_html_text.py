"""html_to_text: the text of HTML-only mail as HTMLParser reads it, and never a failure."""

from __future__ import annotations

import random

import pytest

from kefu.intake import htmltext
from kefu.intake.htmltext import html_to_text

OUTLOOK = (
    '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
    '<meta http-equiv=Content-Type content="text/html; charset=gb2312"><title>x</title>'
    "<style><!-- p.MsoNormal {margin:0cm;} a:link {color:blue} --></style></head>"
    "<body lang=ZH-CN style='text-justify-trim:punctuation'><div class=WordSection1>"
    "<p class=MsoNormal><span style='font-family:宋体'>暖气不热&nbsp;&nbsp;请尽快处理。"
    "<span lang=EN-US><o:p></o:p></span></span></p><p class=MsoNormal>地址：3号楼<br/>电话&#65306;123</p>"
    "</div></body></html>"
)

# Documents of the constructs mail is made of.
FAST = {
    "paragraphs": "<p>楼道<b>跑水</b>了</p><p>谢谢</p>\r\n",
    "style, script, head": "<html><head><style>p{}</style></head><body><p>暖气&nbsp;漏水</p>"
    "<div>地址：<b>3号楼</b></div><script>if (a<b) x()</script></body></html>",
    "outlook-like": OUTLOOK,
    "doctype and comments": "<!DOCTYPE html><!-- a -- b --  ><p>x</p><!---->y",
    "self-closing and unquoted slash": "a<br/>b<br />c<a href=x/>d</a><script/>e<img src='p.png' alt=\"\"/>",
    "upper case and odd spacing": "<P CLASS=MsoNormal\n  ALIGN = center >x</P ><BR>y</Style>z",
    "raw text end in any case": "<STYLE type=text/css>a<b{}</style ><p>ok<SCRIPT>x</SCRIPT  >",
    "entities at the very end": "x&amp;y&nbsp",
    "text only": "just text &lt;3 &#x4f60;&#22909;",
    "empty": "",
    "lists and tables": "<table><tr><td>a</td><td>b</td></tr></table><ul><li>1<li>2</ul><pre>  x\n\n\n\ny</pre>",
}

# Documents of the odd constructs HTMLParser reads too.
SLOW = {
    "office conditional": "<p>a</p><![if !supportLists]>1.<![endif]><p>b</p>",
    "processing instruction": "<?xml version='1.0'?><p>x</p>",
    "stray less-than": "a < b and <3 <中",
    "unclosed comment": "<p>x</p><!-- never closed <p>y</p>",
    "unclosed style": "<style>p{} <p>y</p>",
    "unclosed tag": "<p>x</p><div class='a",
    "odd attributes": '<a b="c"d>x</a><a b==c>y</a><a/b>z',
    "unicode space in a tag": "<p\u3000class=x>y</p>",
    "bogus end tag": "</ p>x</>y",
}

PIECES = [
    *FAST.values(),
    "<p>",
    "</p>",
    "<br>",
    "<br/>",
    "<b>",
    "</b>",
    "<style>",
    "</style>",
    "<script>",
    "</script>",
    "<head>",
    "</head>",
    "<!-- c -->",
    "&nbsp;",
    "&amp;",
    "&",
    "&#20320;",
    "<",
    ">",
    "'",
    '"',
    "=",
    "/",
    " ",
    "\n",
    "\xa0",
    "暖气",
    "text",
    "<![endif]>",
    "<a href=x/>",
    "<td nowrap>",
    "<x y=z=w>",
]


@pytest.mark.parametrize("name", sorted(FAST))
def test_every_document_gives_its_text_without_markup(name: str) -> None:
    assert "<p" not in html_to_text(FAST[name]).lower()


def test_outlook_text() -> None:
    # <br/> is a start and an end tag to HTMLParser: two line breaks, as </p><p> gives.
    assert html_to_text(OUTLOOK) == "暖气不热 请尽快处理。\n\n地址：3号楼\n\n电话：123"


# HTMLParser raises on these (an AssertionError up to Python 3.13): the tags are stripped instead.
REJECTED = {
    "unknown marked section": "<p>暖气</p><![foo]><p>不热 &amp; 漏水</p>",
    "marked section without a name": "<div>a<![ ]>b</div>",
    "outlook conditional with a number": "<![9]><style>p{}</style><p>x<br>y</p><!-- c -->",
}


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_html_parser_rejects_these(name: str) -> None:
    with pytest.raises(AssertionError):
        htmltext._TextCollector().feed(REJECTED[name])


def test_html_the_parser_rejects_is_read_by_stripping_tags() -> None:
    assert html_to_text(REJECTED["unknown marked section"]) == "暖气\n\n不热 & 漏水"
    assert html_to_text(REJECTED["marked section without a name"]) == "ab"
    assert html_to_text(REJECTED["outlook conditional with a number"]) == "x\ny"


def test_html_to_text_never_fails() -> None:
    rnd = random.Random(7)
    pieces = [*PIECES, "<![foo]>", "<![ ]>", "<![if x]>", "<![", "<!", "<?", "<![CDATA[", "]]>", "<!doctype"]
    for _ in range(1000):
        html = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12)))
        assert isinstance(html_to_text(html), str), html
