"""Email through a real SMTP server (aiosmtpd): MIME, threading ids, reuse, 4xx/5xx, auth."""

from __future__ import annotations

from email.header import decode_header, make_header

from kefu.testing.outbox import (
    add_customer,
    case_events,
    customer,
    open_example_case,
    outbox_rows,
    queue,
)
from kefu.testing.smtp import SMTP_PASSWORD, SMTP_USER


def test_proper_mime_with_case_number_message_id_and_auto_submitted(
    outbound_app, run_pass, smtp_server, monkeypatch
) -> None:
    monkeypatch.setenv("KEFU_LINK_SECRET", "s3cret")
    app = outbound_app(outbound=smtp_server.config(), kefu={"link_secret": "link_secret"})
    cid = add_customer(app, name="张三", email="zs@example.com")
    number = open_example_case(app, cid)
    queue(
        app,
        number,
        cid,
        key="m",
        channel="email",
        recipient="zs@example.com",
        recipient_name="张三",
        template="example/ack.txt",
    )
    run_pass(app)
    row = outbox_rows(app)[0]
    (got,) = smtp_server.messages
    mail = got.parsed()
    subject = str(make_header(decode_header(mail["Subject"])))
    assert subject == f"[{number}] 您的来信已受理"
    assert "=?utf-8?" in mail["Subject"]  # RFC 2047 on the wire
    assert mail["Message-ID"].strip() == row.message_id and row.message_id.startswith(f"<kefu.{number}.")
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_charset() == "utf-8"
    assert "张三您好" in mail.get_payload(decode=True).decode("utf-8")
    assert (row.state, row.provider_id) == ("sent", got.queue_id)
    from kefu.channels.threading_ids import parse_message_id

    assert parse_message_id(row.message_id, "s3cret") == number  # replies thread onto the case


def test_one_connection_is_reused_for_many_messages(outbound_app, run_pass, smtp_server) -> None:
    app = outbound_app(outbound=smtp_server.config())
    for i in range(5):
        queue(
            app,
            key=f"r{i}",
            channel="email",
            recipient=f"u{i}@example.com",
            template="example/notice.txt",
            context={"text": "停水"},
        )
    run_pass(app)
    assert len(smtp_server.messages) == 5
    assert len({m.session_id for m in smtp_server.messages}) == 1


def test_5xx_is_permanent_and_recorded_on_customer_and_case(outbound_app, run_pass, smtp_server) -> None:
    app = outbound_app(outbound=smtp_server.config())
    smtp_server.refuse["gone@example.com"] = "550 5.1.1 no such user"
    cid = add_customer(app, name="李四", email="gone@example.com")
    number = open_example_case(app, cid)
    queue(app, number, cid, key="x", channel="email", recipient="gone@example.com", template="example/ack.txt")
    queue(
        app,
        number,
        cid,
        key="y",
        channel="email",
        recipient="ok@example.com",
        template="example/notice.txt",
        context={"text": "x"},
    )
    run_pass(app)
    bad, good = outbox_rows(app)
    assert (bad.state, bad.attempts) == ("failed", 1) and "550" in bad.last_error
    assert good.state == "sent"  # the connection survived the refusal
    assert customer(app, cid).email_undeliverable
    assert any(e.type == "notification_failed" and "550" in e.reason for e in case_events(app, number))


def test_4xx_is_retried_later(outbound_app, run_pass, smtp_server, clock) -> None:
    app = outbound_app(outbound={**smtp_server.config(), "retry": {"first_delay": "5m", "jitter": 0}})
    smtp_server.refuse["busy@example.com"] = "451 4.3.0 mailbox busy"
    queue(
        app,
        key="b",
        channel="email",
        recipient="busy@example.com",
        template="example/notice.txt",
        context={"text": "x"},
    )
    run_pass(app)
    row = outbox_rows(app)[0]
    assert row.state == "queued" and "451" in row.last_error
    del smtp_server.refuse["busy@example.com"]
    clock.advance(minutes=5)
    run_pass(app)
    assert outbox_rows(app)[0].state == "sent" and len(smtp_server.messages) == 1


def test_auth_login_and_a_server_that_is_down(outbound_app, run_pass, smtp_server, monkeypatch) -> None:
    monkeypatch.setenv("KEFU_SMTP_PASSWORD", SMTP_PASSWORD)
    app = outbound_app(outbound=smtp_server.config(user=SMTP_USER, password_secret="smtp_password"))
    queue(
        app, key="a", channel="email", recipient="a@example.com", template="example/notice.txt", context={"text": "x"}
    )
    run_pass(app)
    assert outbox_rows(app)[0].state == "sent"
    smtp_server.stop()
    queue(
        app, key="b", channel="email", recipient="b@example.com", template="example/notice.txt", context={"text": "x"}
    )
    run_pass(app)
    down = outbox_rows(app, idem_key="b")[0]
    assert down.state == "queued" and "cannot connect" in down.last_error
