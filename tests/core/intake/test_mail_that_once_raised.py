"""A readable mail is read; input that is no mail gets a ParseError; nothing else escapes.

Each mail below once made parse_mail or detect_noise raise something else (found by
fuzzing), so the item was quarantined as "processing failed" though a person could read it.
The last test mutates a few mails at random and holds parse_mail to returning or raising
ParseError.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from kefu.intake.mailparse import ParsedMail, ParseError, parse_mail
from kefu.intake.noise import Noise, detect_noise, read_bounce
from kefu.testing.mail import build_bounce, build_mail

Parse = Callable[[bytes], ParsedMail]


@pytest.fixture
def parse() -> Parse:
    """parse_mail (one path: the stdlib's compat32 parser)."""
    return parse_mail


def _noise(parse: Parse, raw: bytes) -> Noise | None:
    parsed = parse(raw)
    assert parsed.message is not None
    return detect_noise(parsed.message, parsed.sender)


def test_8bit_file_name_in_content_disposition_is_read(parse: Parse) -> None:
    raw = build_mail(attachments=[("a.jpg", "image/jpeg", b"x")]).replace(
        b'filename="a.jpg"', 'filename="照片.jpg"'.encode("gbk")
    )
    parsed = parse(raw)
    assert [(a.filename, a.content_type, a.content) for a in parsed.attachments] == [("照片.jpg", "image/jpeg", b"x")]
    assert parsed.text == "家里暖气漏水，请尽快处理。"


def test_8bit_file_name_in_content_type_is_read(parse: Parse) -> None:
    raw = (
        build_mail(attachments=[("a.jpg", "image/jpeg", b"x")])
        .replace(b'attachment; filename="a.jpg"', b"attachment")
        .replace(b'name="a.jpg"', 'name="照片.jpg"'.encode("gbk"))
    )
    assert [a.filename for a in parse(raw).attachments] == ["照片.jpg"]


@pytest.mark.parametrize(
    "header, value, noise",
    [
        ("Auto-Submitted", "auto-replied（休假）", Noise("auto_reply", "Auto-Submitted: auto-replied（休假）")),
        ("X-Autoreply", "是", Noise("auto_reply", "X-Autoreply: 是")),
        ("Precedence", "群发", None),
        ("List-Id", "暖气 <heat.example.com>", Noise("list", "List-Id: 暖气 <heat.example.com>")),
    ],
)
def test_8bit_noise_headers_are_read(parse: Parse, header: str, value: str, noise: Noise | None) -> None:
    raw = build_mail(headers={header: "x"}).replace(f"{header}: x".encode(), f"{header}: {value}".encode("gbk"))
    assert _noise(parse, raw) == noise


def test_8bit_fields_in_a_delivery_report_are_read(parse: Parse) -> None:
    raw = (
        build_bounce(recipient="lost@example.com", original_message_id="<ours@kefu>")
        .replace(b"Action: failed", b"Action: failed \xff")
        .replace(b"user unknown", "用户不存在".encode("gbk"))
    )
    parsed = parse(raw)
    assert parsed.message is not None
    bounce = read_bounce(parsed.message)
    assert bounce.original_ids == ["<ours@kefu>"]
    assert bounce.diagnostic == "smtp; 550 5.1.1 用户不存在"


def test_html_with_a_marked_section_html_parser_rejects_is_read(parse: Parse) -> None:
    raw = build_mail(text=None, html="<p>暖气</p><![foo]><p>漏水</p>")
    assert parse(raw).text == "暖气\n\n漏水"


def test_base64_words_cut_short_are_read_for_what_they_hold(parse: Parse) -> None:
    # The last character of a cut word holds no whole byte; a word of one character holds none.
    raw = build_mail(subject="x").replace(b"Subject: x", b"Subject: =?utf-8?B?5pqW5rCU5?= =?utf-8?B?A?=")
    assert parse(raw).subject == "暖气"


def test_charset_label_no_codec_takes_reads_as_absent(parse: Parse) -> None:
    raw = build_mail(encoding="8bit").replace(b'charset="utf-8"', b"charset*=utf\x00-8''utf-8", 1)
    assert parse(raw).text == "家里暖气漏水，请尽快处理。"


def test_unreadable_rfc2231_file_name_keeps_the_attachment(parse: Parse) -> None:
    raw = (
        build_mail(attachments=[("a.pdf", "application/pdf", b"%PDF")])
        .replace(b'filename="a.pdf"', b"filename*0*=utf-8''%E6; filename*=a.pdf")
        .replace(b'; name="a.pdf"', b"")
    )
    assert [(a.filename, a.content) for a in parse(raw).attachments] == [("attachment-1.pdf", b"%PDF")]


@pytest.mark.parametrize("boundary", [b"boundary*=a\x00b''b0und", b"boundary*0*=us-ascii''b0; boundary*=und"])
def test_boundary_parameter_the_parser_cannot_read_is_a_parse_error(parse: Parse, boundary: bytes) -> None:
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: multipart/mixed; "
        + boundary
        + b"\r\n\r\n--b0und\r\n\r\nhi\r\n--b0und--\r\n"
    )
    with pytest.raises(ParseError, match="boundary parameter"):
        parse(raw)


def test_parts_nested_too_deeply_are_a_parse_error(parse: Parse) -> None:
    depth = 3000  # the stdlib parser recurses once per level
    raw = b"From: a@example.com\r\nSubject: x\r\n"
    raw += b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(depth))
    raw += b"\r\nhi\r\n" + b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    with pytest.raises(ParseError, match="nested too deeply"):
        parse(raw)


# --- Random mutations of a few mails: parse_mail returns or raises ParseError, nothing else.

SEEDS = [
    build_mail(subject="暖气漏水", text="3号楼2单元暖气漏水"),
    build_mail(
        subject="暖气不热", subject_charset="gb2312", charset="gbk", encoding="quoted-printable", text="家里暖气不热"
    ),
    build_mail(text="纯文本", html="<p>超<b>文本</b></p>", headers={"Auto-Submitted": "auto-replied"}),
    build_mail(text="见附件", attachments=[("照片.jpg", "image/jpeg", bytes(range(256)))], filename_style="rfc2231"),
    build_bounce(recipient="lost@example.com", original_message_id="<ours@kefu>"),
]
# Bytes real clients and broken gateways put where they do not belong.
SNIPPETS = [
    "暖气".encode("gbk"),
    b"\xff",
    b"\x00",
    b"<![foo]>",
    b"=?utf-8?B?A?=",
    b"=?gbk?B?xOO6?=",
    b"=?x?Q?=ZZ?=",
    b";",
    b'"',
    b"\\",
    b"*",
    b"'",
    b"=",
    b"\r\n",
    b"\n",
    b"\r",
    b"\r\n\r\n",
    b"--",
    b"<",
    b">",
    b":",
    b",",
    b"; charset*=x\x00''utf-8",
    b"; filename*0*=utf-8''%E6; filename*=x",
    b"; name*=\x00''x",
    b"message/rfc822",
    b"Content-Type: multipart/mixed; boundary=x\r\n",
    b"Precedence: \xc8\xba\r\n",
    b"x-uuencode",
    b"&#xD800;",
]


def _mutate(rnd: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rnd.randint(1, 4)):
        pos, roll = rnd.randint(0, len(data)), rnd.random()
        if roll < 0.4:
            data[pos:pos] = rnd.choice(SNIPPETS)
        elif roll < 0.7:  # into a header value
            colon = data.find(b": ", pos)
            if colon >= 0:
                data[colon + 2 : colon + 2] = rnd.choice(SNIPPETS)
        elif roll < 0.85 and data:
            data[min(pos, len(data) - 1)] = rnd.randrange(256)
        else:
            del data[pos : pos + rnd.randint(1, 20)]
    return bytes(data)


def test_mutated_mails_are_read_or_a_parse_error(parse: Parse) -> None:
    rnd = random.Random(20261102)
    for _ in range(300):
        raw = _mutate(rnd, rnd.choice(SEEDS))
        try:
            parsed = parse(raw)
        except ParseError:
            continue
        assert parsed.message is not None
        noise = detect_noise(parsed.message, parsed.sender)
        if noise is not None and noise.kind == "bounce":
            read_bounce(parsed.message)
        # Everything read must be storable as UTF-8 text (no surrogates of undecoded bytes).
        for text in [
            parsed.subject,
            parsed.text,
            parsed.sender_name,
            *parsed.to,
            noise.reason if noise else "",
            *(a.filename for a in parsed.attachments),
        ]:
            text.encode("utf-8")
