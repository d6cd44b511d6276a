"""Issue 15 item 2: linear header decoding, limits checked before parsing, and a fuzz test.

Timing is measured by bench/parse.py, not here; these tests hold the behaviour: what exceeds
a limit is refused with a reason naming the limit, what is within them is read, and no
mutated mail makes the parser raise anything but ParseError.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.channels.config import MailLimits
from kefu.intake.headers import decode_header_value
from kefu.intake.mailparse import ParseError, parse_mail
from kefu.intake.noise import detect_noise, read_bounce
from kefu.testing.mail import build_bounce, build_mail, encoded_word


def test_many_encoded_words_decode_as_one_text() -> None:
    words = " ".join(encoded_word(f"第{i}段") for i in range(3000))
    assert decode_header_value(words) == "".join(f"第{i}段" for i in range(3000))


def test_encoded_words_never_closed_are_kept_as_text() -> None:
    value = "=?utf-8?q?abc " * 5000  # took seconds per 84 KB with a scan to the end for each
    assert decode_header_value(value) == value.strip()


def test_a_word_split_inside_a_character_joins_its_neighbour_even_after_a_fold() -> None:
    data = "楼上漏水".encode("gb2312")
    value = f"=?gb2312?B?{base64.b64encode(data[:3]).decode()}?=\r\n =?gb2312?B?{base64.b64encode(data[3:]).decode()}?="
    assert decode_header_value(value) == "楼上漏水"


def test_text_between_words_is_kept_and_white_space_between_words_dropped() -> None:
    assert (
        decode_header_value(f"Re: {encoded_word('暖气')} {encoded_word('漏水')} [HT-2026-000001]")
        == "Re: 暖气漏水 [HT-2026-000001]"
    )


@pytest.mark.parametrize(
    "limit, raw, reason",
    [
        ("max_headers", build_mail(headers={f"X-Junk-{i}": "x" for i in range(50)}), "header fields exceed"),
        ("max_header_bytes", build_mail(headers={"X-Junk": "x" * 5000}), "header block of"),
        (
            "max_message_bytes",
            build_mail(attachments=[("a.bin", "application/octet-stream", b"x" * 6000)]),
            "exceeds the limit",
        ),
        ("max_parts", build_mail(attachments=[(f"{i}.txt", "text/plain", b"x") for i in range(5)]), "more than"),
        ("max_part_bytes", build_mail(attachments=[("a.bin", "application/octet-stream", b"x" * 3000)]), "part 2"),
    ],
)
def test_mail_beyond_a_limit_is_refused_naming_it(limit: str, raw: bytes, reason: str) -> None:
    small = {
        "max_headers": 20,
        "max_header_bytes": 2048,
        "max_message_bytes": 4096,
        "max_parts": 4,
        "max_part_bytes": 2048,
    }
    with pytest.raises(ParseError, match=reason) as caught:
        parse_mail(raw, MailLimits(**{limit: small[limit]}))
    assert f"[channels.limits] {limit}" in str(caught.value)
    parse_mail(raw)  # within the defaults it is read


def test_nesting_beyond_the_depth_limit_is_refused() -> None:
    depth = 30
    raw = b"From: a@example.com\r\nSubject: x\r\n"
    raw += b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(depth))
    raw += b"\r\nhi\r\n" + b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    with pytest.raises(ParseError, match="max_depth"):
        parse_mail(raw)
    assert parse_mail(raw, MailLimits(max_depth=40)).text == "hi"


def test_the_limits_are_config(make_app) -> None:
    app = make_app(plugins=[], config={"channels": {"limits": {"max_parts": 50, "max_depth": 5}}})
    assert (app.settings.channels.limits.max_parts, app.settings.channels.limits.max_depth) == (50, 5)


SEEDS = [
    build_mail(subject="暖气漏水", text="3号楼2单元暖气漏水"),
    build_mail(
        subject="暖气不热", subject_charset="gb2312", charset="gbk", encoding="quoted-printable", text="家里暖气不热"
    ),
    build_mail(text="纯文本", html="<p>超<b>文本</b></p>", headers={"Auto-Submitted": "auto-replied"}),
    build_mail(text="见附件", attachments=[("照片.jpg", "image/jpeg", bytes(range(256)))], filename_style="rfc2231"),
    build_bounce(recipient="lost@example.com", original_message_id="<ours@kefu>"),
]
SNIPPETS = [
    b"=?utf-8?B?A?=",
    b"=?gbk?B?xOO6?=",
    b"=?x?Q?=ZZ?=",
    b"\x00",
    b"\xff",
    b"\r\n",
    b"\r\n\r\n",
    b"--",
    b"Content-Type: multipart/mixed; boundary=x\r\n",
    b"message/rfc822",
    b"; charset*=x\x00''utf-8",
    b"Content-Transfer-Encoding: base64\r\n",
    b"=?",
    b"?=",
    b"<",
    b">",
    b"@",
    "退信".encode("gbk"),
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 5))):
        pos = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "byte", "delete"]))
        if action == "insert":
            data[pos:pos] = draw(st.sampled_from(SNIPPETS) | st.binary(max_size=12))
        elif action == "byte" and data:
            data[min(pos, len(data) - 1)] = draw(st.integers(0, 255))
        else:
            del data[pos : pos + draw(st.integers(1, 30))]
    return bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_mail_is_read_or_refused_with_a_reason(raw: bytes) -> None:
    try:
        parsed = parse_mail(raw)
    except ParseError as exc:
        assert str(exc)
        return
    assert parsed.message is not None
    noise = detect_noise(parsed.message, parsed.sender, parsed.headers)
    if noise is not None and noise.kind == "bounce":
        read_bounce(parsed.message)
    for text in [
        parsed.subject,
        parsed.text,
        parsed.sender_name,
        *parsed.to,
        *(a.filename for a in parsed.attachments),
    ]:
        text.encode("utf-8")  # storable: no surrogate of undecoded bytes
