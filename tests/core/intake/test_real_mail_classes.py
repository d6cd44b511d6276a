"""Issue 14 items 1-4 and issue 15 item 7 through the Maildir channel, on SQLite and PostgreSQL.

Each class of real mail with mail of our own making: bounces per address (standard and
the Chinese providers' and Exchange's own notices), noise that threads and noise that does
not, text that cannot be decoded, and NUL bytes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kefu.app import App
from kefu.channels.threading_ids import make_message_id
from kefu.cli.main import cli
from kefu.db.engine import transaction
from kefu.db.models import (
    Attachment,
    Case,
    CaseEvent,
    Contact,
    Customer,
    Deadline,
    InboundItem,
    InboundRaw,
    OutboxMessage,
)
from kefu.intake.mailparse import parse_mail
from kefu.intake.noise import detect_noise, read_bounce
from kefu.intake.runner import run_intake
from kefu.testing.bounces import PROVIDERS
from kefu.testing.mail import build_mail, encoded_word
from kefu.testing.mail import deliver_to_maildir as deliver

SECRET = "site-secret"
STAFF = {
    "staff": {"people": {"wang": {"name": "王工", "email": "wang@heat.example.com"}}},
    "kefu": {"link_secret": "link"},
}


def _all(app: App, model: type) -> list[Any]:
    with transaction(app.sessions) as session:
        return list(session.scalars(select(model).order_by(model.id)))


def _read(raw: bytes) -> Any:
    parsed = parse_mail(raw)
    assert parsed.message is not None
    return parsed, detect_noise(parsed.message, parsed.sender, parsed.headers)


# --- 14.3: every provider's notice names the failed recipient and the original -------------


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_each_providers_notice_names_the_failed_recipient_and_the_original(provider: str) -> None:
    ours = "<HT-2026-000001.a1b2@heat.example.com>"
    parsed, noise = _read(PROVIDERS[provider]("old.addr@mail.example.net", ours))
    assert noise is not None and noise.kind == "bounce"
    bounce = read_bounce(parsed.message, {"kefu@heat.example.com"})
    assert bounce.recipients == ["old.addr@mail.example.net"]
    if provider != "qq":  # QQ's notice carries no original; the customer's live case is used
        assert bounce.original_ids == [ours]
    # Never an id (<client-1@mail.example.net> is in every quoted original) nor our own address.
    assert "client-1@mail.example.net" not in bounce.recipients
    assert "kefu@heat.example.com" not in bounce.recipients


def test_no_message_id_or_header_line_is_taken_for_an_address() -> None:
    raw = (
        b"From: postmaster@corp.example.cn\r\nTo: kefu@heat.example.com\r\n"
        b"Subject: =?utf-8?B?57O757uf6YCA5L+h?=\r\nMessage-ID: <n1@corp.example.cn>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        + "邮件投递失败。\r\nMessage-ID: <abc@mail.example.net>\r\nReferences: <def@mail.example.net>\r\n"
        "In-Reply-To: <ghi@mail.example.net>\r\n".encode()
    )
    parsed, noise = _read(raw)
    assert noise is not None and noise.kind == "bounce"
    bounce = read_bounce(parsed.message)
    assert bounce.recipients == []
    assert bounce.original_ids == ["<abc@mail.example.net>"]


def test_a_person_writing_about_a_bounce_is_a_person() -> None:
    _parsed, noise = _read(build_mail(subject="关于退信的问题", text="我给你们发的邮件被退信了，怎么回事？"))
    assert noise is None


# --- 14.1 and 14.3 end to end: the address, not the customer; the owner told --------------


def _case_with_contact(app: App, maildir: Path) -> Case:
    deliver(maildir, build_mail(text="暖气漏水", sender="zhang@example.com"))
    run_intake(app)
    with transaction(app.sessions) as session:
        case = session.scalars(select(Case)).one()
        case.owner = "wang"
        customer = session.get(Customer, case.customer_id)
        assert customer is not None
        customer.phone = "+8613800000001"
        session.add(Contact(customer_id=customer.id, kind="email", value="old.addr@mail.example.net"))
        session.flush()
        session.expunge(case)
        return case


@pytest.mark.parametrize("provider", ["netease", "qq", "exchange_cn"])
def test_a_chinese_bounce_marks_that_address_only_and_tells_the_owner(
    heat_app: Callable[..., App], maildir: Path, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    monkeypatch.setenv("KEFU_LINK", SECRET)
    app = heat_app(config=STAFF)
    case = _case_with_contact(app, maildir)
    ours = make_message_id(case.number, SECRET, "kefu.example.com")
    deliver(maildir, PROVIDERS[provider]("old.addr@mail.example.net", ours))
    run_intake(app)
    assert len(_all(app, Case)) == 1  # a bounce opens no case
    [customer] = _all(app, Customer)
    assert customer.email_undeliverable is False  # the main address still works
    assert customer.data["undeliverable_emails"] == ["old.addr@mail.example.net"]
    [bounced] = [e for e in _all(app, CaseEvent) if e.type == "email_bounced"]
    assert bounced.case_id == case.id
    staff = [o for o in _all(app, OutboxMessage) if o.audience == "staff"]
    assert [(o.recipient, o.case_id) for o in staff] == [("wang@heat.example.com", case.id)]
    assert "退回" in (staff[0].subject or "") or "退信" in (staff[0].subject or "")
    # The customer's main address and phone still get acknowledgements.
    deliver(maildir, build_mail(text="又漏水了", sender="zhang@example.com"))
    run_intake(app)
    acks = [o.recipient for o in _all(app, OutboxMessage) if o.audience == "customer"]
    assert acks == ["zhang@example.com", "zhang@example.com"]


def test_the_dispatcher_refuses_only_the_address_that_bounced(outbound_app: Callable[..., App], run_pass: Any) -> None:
    from kefu.intake.bounces import mark_undeliverable
    from kefu.testing.outbox import add_customer, open_example_case, outbox_rows, queue

    app = outbound_app()
    cid = add_customer(app, name="张三", email="zhang@example.com", phone="+8613800000001")
    number = open_example_case(app, cid)
    with transaction(app.sessions) as session:
        customer = session.get(Customer, cid)
        assert customer is not None
        mark_undeliverable(customer, "old.addr@mail.example.net", "550 user unknown")
    queue(
        app,
        number,
        cid,
        key="a",
        channel="email",
        recipient="zhang@example.com",
        template="example/notice.txt",
        context={"text": "停水"},
    )
    queue(
        app,
        number,
        cid,
        key="b",
        channel="email",
        recipient="old.addr@mail.example.net",
        template="example/notice.txt",
        context={"text": "停水"},
    )
    queue(app, number, cid, key="c", channel="sms", recipient="+8613800000001", template="example/ack.sms.txt")
    run_pass(app)
    states = {row.recipient: row.state for row in outbox_rows(app) if row.audience == "customer"}
    assert states == {"zhang@example.com": "sent", "old.addr@mail.example.net": "skipped", "+8613800000001": "sent"}


# --- 14.2: noise --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, kind",
    [
        ({"Auto-Submitted": "auto-replied"}, "auto_reply"),
        ({"X-Autoreply": "yes"}, "auto_reply"),
        ({"X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent"}, "auto_reply"),
        ({"X-Auto-Response-Suppress": "All"}, "auto_reply"),
        ({"Precedence": "auto_reply"}, "auto_reply"),
        ({"Precedence": "bulk"}, "list"),
        ({"Precedence": "junk"}, "list"),
        ({"Precedence": "list"}, "list"),
        ({"List-Id": "<news.example.com>"}, "list"),
        ({"X-Auto-Response-Suppress": "DR, RN, NRN"}, None),  # Outlook on a person's mail
    ],
)
def test_noise_headers(headers: dict[str, str], kind: str | None) -> None:
    _parsed, noise = _read(build_mail(headers=headers))
    assert (noise.kind if noise else None) == kind


def test_out_of_office_reply_to_an_open_case_is_a_note(
    heat_app: Callable[..., App], maildir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEFU_LINK", SECRET)
    app = heat_app(config=STAFF)
    case = _case_with_contact(app, maildir)
    deadlines = [(d.name, d.due_at, d.state) for d in _all(app, Deadline)]
    outbox = len(_all(app, OutboxMessage))
    ours = make_message_id(case.number, SECRET, "kefu.example.com")
    deliver(
        maildir,
        build_mail(
            subject="自动答复: 您的来信已受理",
            text="我正在休假，11月9日回来。",
            in_reply_to=ours,
            headers={
                "X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent",
                "X-Auto-Response-Suppress": "All",
            },
        ),
    )
    run_intake(app)
    [after] = _all(app, Case)
    assert after.state == case.state
    events = [e.type for e in _all(app, CaseEvent) if e.case_id == case.id]
    assert "noise_noted" in events and "customer_reply" not in events
    assert [(d.name, d.due_at, d.state) for d in _all(app, Deadline)] == deadlines  # its clock untouched
    assert len(_all(app, OutboxMessage)) == outbox  # nobody told
    item = _all(app, InboundItem)[-1]
    assert (item.status, item.case_id) == ("processed", case.id)


def test_a_newsletter_to_an_inbox_with_a_default_kind_opens_no_case(
    heat_app: Callable[..., App], maildir: Path
) -> None:
    app = heat_app(default_kind="heat.general")
    deliver(
        maildir,
        build_mail(
            sender="news@list.example.com",
            subject="十一月暖气漏水专题",
            headers={
                "List-Id": f"{encoded_word('供暖资讯')} <news.list.example.com>",
                "List-Unsubscribe": "<mailto:unsub@list.example.com>",
            },
        ),
    )
    deliver(
        maildir,
        build_mail(
            sender="bot@example.com", subject="自动回复", text="已收到", headers={"Auto-Submitted": "auto-replied"}
        ),
    )
    run_intake(app)
    assert _all(app, Case) == [] and _all(app, OutboxMessage) == []
    items = _all(app, InboundItem)
    assert [i.status for i in items] == ["noise", "noise"]
    result = CliRunner().invoke(cli, ["inbound", "list", "--noise", "--json"], obj={"app": app}, catch_exceptions=False)
    listed = json.loads(result.stdout)
    assert sorted(row["id"] for row in listed) == [i.id for i in items]
    assert all(row["status"] == "noise" for row in listed)


# --- 14.4: text that cannot be decoded -----------------------------------------------------


def _single(body: bytes, ctype: str, cte: str) -> bytes:
    return (
        b"From: zhang@example.com\r\nTo: kefu@example.com\r\nSubject: =?utf-8?B?5pqW5rCU5ryP5rC0?=\r\n"
        b"Message-ID: <u1@client>\r\nMIME-Version: 1.0\r\nContent-Type: "
        + ctype.encode()
        + b"\r\nContent-Transfer-Encoding: "
        + cte.encode()
        + b"\r\n\r\n"
        + body
    )


UNDECODABLE = {
    "broken base64": (
        _single(b"5pqW5rCU5ryP5rC0!!!\r\n@@@\r\nnot*base64*at*all*\r\n5", "text/plain; charset=utf-8", "base64"),
        "broken base64",
    ),
    "unknown charset": (
        _single("暖气漏水请尽快处理".encode("gbk"), "text/plain; charset=x-klingon", "8bit"),
        "unknown charset",
    ),
    "broken quoted-printable": (
        _single(b"=E6=9A=96=E6=B0" + b"=FF=FE=81=" * 20 + b"\r\n", "text/plain; charset=utf-8", "quoted-printable"),
        "not text",
    ),
    "unterminated multipart": (
        _single(b"no boundary ever comes\r\n5pqW5rCU5ryP5rC0\r\n", 'multipart/mixed; boundary="never-there"', "7bit"),
        "boundary",
    ),
}


@pytest.mark.parametrize("name", sorted(UNDECODABLE))
def test_undecodable_text_is_quarantined_with_the_reason(
    heat_app: Callable[..., App], maildir: Path, name: str
) -> None:
    raw, reason = UNDECODABLE[name]
    app = heat_app(default_kind="heat.general")
    deliver(maildir, raw)
    run_intake(app)
    [item] = _all(app, InboundItem)
    assert item.status == "quarantined" and reason in (item.reason or ""), item.reason
    assert _all(app, Case) == [] and _all(app, OutboxMessage) == []
    with transaction(app.sessions) as session:
        assert session.get(InboundRaw, item.id).raw == raw  # bytes kept as they came
    result = CliRunner().invoke(
        cli, ["inbound", "list", "--quarantined", "--json"], obj={"app": app}, catch_exceptions=False
    )
    assert [row["id"] for row in json.loads(result.stdout)] == [item.id]


def test_one_broken_attachment_beside_readable_text_still_opens_the_case(
    heat_app: Callable[..., App], maildir: Path
) -> None:
    raw = build_mail(text="暖气漏水，照片见附件", attachments=[("漏水.jpg", "image/jpeg", b"\xff\xd8" * 50)])
    good = base64.encodebytes(b"\xff\xd8" * 50).replace(b"\n", b"\r\n")
    raw = raw.replace(good, b"/9j/4AAQ!!!\r\n5")  # the photo's base64 cut short by a gateway
    app = heat_app()
    deliver(maildir, raw)
    run_intake(app)
    [item] = _all(app, InboundItem)
    [case] = _all(app, Case)
    assert item.status == "processed" and item.text == "暖气漏水，照片见附件"
    assert any("漏水.jpg" in p and "base64" in p for p in item.data["problems"])
    [att] = _all(app, Attachment)
    assert att.case_id == case.id and att.filename == "漏水.jpg"
    assert [o.recipient for o in _all(app, OutboxMessage)] == ["zhang@example.com"]  # acknowledged


# --- 15.7: NUL bytes, the same on both engines ---------------------------------------------


def test_nul_bytes_never_reach_a_text_column_and_stay_in_the_raw_bytes(
    heat_app: Callable[..., App], maildir: Path
) -> None:
    raw = build_mail(subject="x", text="暖气\x00漏水", encoding="8bit", headers={"Auto-Submitted": "no"}).replace(
        b"Subject: x", b"Subject: \x00\xe6\xbc\x8f"
    )
    app = heat_app()
    deliver(maildir, raw)
    assert run_intake(app) == 1
    [item] = _all(app, InboundItem)
    [case] = _all(app, Case)
    assert item.status == "processed" and item.case_id == case.id
    assert item.text == "暖气漏水" and "\x00" not in (item.subject or "") and "\x00" not in case.title
    # A NUL in a noise header is no text either: the list mail is stored, its reason without it.
    deliver(maildir, build_mail(sender="news@example.com", headers={"List-Id": "<a\x00b.example.com>"}))
    run_intake(app)
    noise = _all(app, InboundItem)[-1]
    assert noise.status == "noise" and "\x00" not in noise.data["noise_reason"]
    with transaction(app.sessions) as session:
        assert b"\x00" in session.get(InboundRaw, item.id).raw
