"""Issue 4 point 3: sender, subject and text from any charset and transfer encoding."""

from __future__ import annotations

import pytest

from kefu.intake.mailparse import ParseError, parse_mail
from kefu.testing.mail import build_mail

GBK_ONLY = "朱镕基喆堃"  # not in GB2312: clients labelling GB2312 send these as GBK bytes


def test_gb2312_subject_with_gbk_body() -> None:
    raw = build_mail(subject="暖气不热", subject_charset="gb2312", charset="gbk", text=f"住户{GBK_ONLY}反映暖气不热")
    parsed = parse_mail(raw)
    assert parsed.subject == "暖气不热"
    assert parsed.text == f"住户{GBK_ONLY}反映暖气不热"
    assert parsed.sender == "zhang@example.com"
    assert parsed.sender_name == "张先生"


def test_gb2312_label_on_gbk_only_characters_decodes_as_gb18030() -> None:
    raw = build_mail(subject=f"投诉{GBK_ONLY}", charset="gb2312", text=f"{GBK_ONLY}家漏水")
    parsed = parse_mail(raw)
    assert parsed.subject == f"投诉{GBK_ONLY}"
    assert parsed.text == f"{GBK_ONLY}家漏水"


@pytest.mark.parametrize("charset", ["utf-8", "gb18030", "gbk", "big5"])
@pytest.mark.parametrize("encoding", ["base64", "quoted-printable", "8bit"])
def test_every_charset_and_transfer_encoding(charset: str, encoding: str) -> None:
    text = "暖氣漏水，請儘快處理" if charset == "big5" else "暖气漏水，请尽快处理"
    name = "陳先生" if charset == "big5" else "张先生"
    raw = build_mail(subject=text[:4], sender_name=name, charset=charset, encoding=encoding, text=text)
    parsed = parse_mail(raw)
    assert parsed.subject == text[:4]
    assert parsed.text == text


def test_encoded_word_split_inside_a_character() -> None:
    raw = build_mail(subject="楼上卫生间漏水到我家", subject_charset="gb2312", split_subject=True)
    assert parse_mail(raw).subject == "楼上卫生间漏水到我家"


def test_raw_8bit_gbk_subject() -> None:
    raw = build_mail(subject="暖气不热", subject_charset="gbk", raw_8bit_subject=True)
    assert parse_mail(raw).subject == "暖气不热"


def test_html_only_mail_becomes_text() -> None:
    raw = build_mail(
        text=None,
        html="<html><head><style>p{}</style></head><body><p>暖气&nbsp;漏水</p>"
        "<div>地址：<b>3号楼</b></div><script>x()</script></body></html>",
    )
    assert parse_mail(raw).text == "暖气 漏水\n\n地址：3号楼"


@pytest.mark.parametrize("style", ["rfc2047", "rfc2231"])
def test_attachment_kept_with_its_chinese_name(style: str) -> None:
    photo = bytes(range(256)) * 10
    raw = build_mail(attachments=[("漏水照片.jpg", "image/jpeg", photo)], filename_style=style)
    parsed = parse_mail(raw)
    assert [(a.filename, a.content_type, a.content) for a in parsed.attachments] == [
        ("漏水照片.jpg", "image/jpeg", photo)
    ]
    assert parsed.text == "家里暖气漏水，请尽快处理。"


def test_references_in_order_in_reply_to_first() -> None:
    raw = build_mail(in_reply_to="<b@x>", references=["<a@x>", "<b@x>"])
    assert parse_mail(raw).references == ["<b@x>", "<a@x>"]


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"", "empty"),
        (b"\x00\x01\x02 binary junk \xff\xfe", "no mail headers"),
        (b"Subject: hi\r\n\r\nno sender at all\r\n", "no sender"),
    ],
)
def test_unparseable_input_names_the_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_mail(raw)
