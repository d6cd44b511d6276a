"""email_bytes: the fast MIME writer says what build_email says, in lines SMTP accepts."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.policy import compat32, default

import pytest

from kefu.senders.base import Attachment, Outgoing
from kefu.senders.mime import build_email, email_bytes, encode_header

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
LONG = "[EX-2026-000001] 停水通知：因主管道维修，明日上午九点至下午五点全小区停水，请提前储水，谢谢合作"


def outgoing(**kw) -> Outgoing:
    base = dict(
        id=1,
        key="k",
        channel="email",
        audience="customer",
        recipient="h1@example.com",
        recipient_name="住户 张三",
        subject=LONG,
        body="住户1：明日停水。\n.以点开头的一行\n",
        message_id="<a1@kefu.example>",
        case_number="EX-2026-000001",
    )
    return Outgoing(**{**base, **kw})


def both(message: Outgoing, cte: str = "base64") -> tuple[email.message.Message, email.message.Message]:
    fast = email_bytes(message, from_address="kefu@kefu.example", from_name="客服中心", now=NOW, transfer_encoding=cte)
    slow = build_email(
        message, from_address="kefu@kefu.example", from_name="客服中心", now=NOW, transfer_encoding=cte
    ).as_bytes()
    assert all(len(line) <= 78 for line in fast.split(b"\r\n")), fast
    assert b"\n" not in fast.replace(b"\r\n", b"")  # CRLF only
    return email.message_from_bytes(fast, policy=default), email.message_from_bytes(slow, policy=default)


@pytest.mark.parametrize("cte", ["base64", "8bit"])
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"recipient_name": None, "subject": "Plain ASCII", "auto": False, "case_number": None, "message_id": None},
        {"recipient_name": 'Wang, "Jr."', "subject": ""},
    ],
)
def test_same_headers_and_body_as_the_email_package(changes, cte) -> None:
    fast, slow = both(outgoing(**changes), cte)
    for name in (
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
        "X-Kefu-Case",
        "MIME-Version",
    ):
        assert str(fast.get(name)) == str(slow.get(name)), name
    assert fast.get_content_type() == "text/plain" and fast.get_content_charset() == "utf-8"
    assert fast["Content-Transfer-Encoding"] == cte
    assert fast.get_content() == slow.get_content()


def test_subject_is_rfc2047_on_the_wire_and_keeps_the_case_number_readable() -> None:
    raw = email_bytes(outgoing(), from_address="kefu@kefu.example", from_name="客服中心", now=NOW)
    parsed = email.message_from_bytes(raw, policy=compat32)
    assert "=?utf-8?b?" in parsed["Subject"] and parsed["Subject"].startswith("[EX-2026-000001]")
    assert str(make_header(decode_header(parsed["Subject"]))) == LONG


def test_line_breaks_in_header_values_cannot_inject_headers() -> None:
    raw = email_bytes(
        outgoing(subject="hi\r\nBcc: evil@example.com", recipient_name="A\nB"),
        from_address="kefu@kefu.example",
        from_name="客服中心",
        now=NOW,
    )
    parsed = email.message_from_bytes(raw, policy=default)
    assert parsed["Bcc"] is None and parsed["Subject"] == "hi Bcc: evil@example.com"


@pytest.mark.parametrize("bad", ["no-at-sign", "a b@example.com", "x@", "<x@example.com>"])
def test_impossible_addresses_are_refused(bad) -> None:
    with pytest.raises(ValueError, match="not an email address"):
        email_bytes(outgoing(recipient=bad), from_address="kefu@kefu.example", from_name="客服中心", now=NOW)


def test_attachments_go_through_the_email_package() -> None:
    pdf = Attachment("工程维修通知单.pdf", b"%PDF-1.4 fake")
    raw = email_bytes(outgoing(attachments=(pdf,)), from_address="kefu@kefu.example", from_name="客服中心", now=NOW)
    parsed = email.message_from_bytes(raw, policy=default)
    assert parsed.is_multipart()
    assert [p.get_filename() for p in parsed.iter_attachments()] == ["工程维修通知单.pdf"]


def test_encode_header_leaves_ascii_alone() -> None:
    assert encode_header("Re: [HT-2026-000123] ok") == "Re: [HT-2026-000123] ok"
