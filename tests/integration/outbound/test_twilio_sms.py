"""SMS through the official twilio client against a local Twilio-compatible endpoint."""

from __future__ import annotations

from kefu.http.server import HttpServer
from kefu.senders.twilio_client import make_client
from kefu.testing.outbox import (
    add_customer,
    case_events,
    customer,
    open_example_case,
    outbox_rows,
    queue,
)
from kefu.testing.smtp import free_port

GOOD, INVALID, UNSUB = "+8613800000001", "+8610000", "+8613800000002"


def twilio_app(outbound_app, twilio_api, callback: str | None = None):
    return outbound_app(
        outbound={"sms_sender": "twilio"},
        twilio=twilio_api.config(**({"status_callback": callback} if callback else {})),
    )


def test_make_client_talks_to_the_configured_api_base(outbound_app, twilio_api) -> None:
    app = twilio_app(outbound_app, twilio_api)
    client = make_client(app.settings)
    created = client.messages.create(to=GOOD, from_="+8610690000", body="【客服中心】测试")
    assert created.sid.startswith("SM") and created.status == "queued"
    assert [m.sid for m in client.messages.list()] == [created.sid]


def test_sms_goes_out_with_signature_and_the_sid_is_recorded(outbound_app, run_pass, twilio_api) -> None:
    app = twilio_app(outbound_app, twilio_api)
    number = open_example_case(app)
    queue(app, number, key="s", channel="sms", recipient=GOOD, template="example/ack.txt")
    run_pass(app)
    (sent,) = twilio_api.messages
    row = outbox_rows(app)[0]
    assert sent["body"].startswith("【客服中心】") and number in sent["body"]
    assert (row.state, row.provider_id) == ("sent", sent["sid"])


def test_messaging_service_sid_is_used_when_configured(outbound_app, run_pass, twilio_api) -> None:
    app = outbound_app(
        outbound={"sms_sender": "twilio"},
        twilio=twilio_api.config(messaging_service_sid="MG" + "a" * 32, from_number=None),
    )
    queue(
        app, key="s", channel="sms", recipient=GOOD, urgent=True, template="example/notice.txt", context={"text": "x"}
    )
    run_pass(app)
    assert twilio_api.messages[0]["messaging_service_sid"] == "MG" + "a" * 32


def test_invalid_and_unsubscribed_numbers_are_permanent_and_flag_the_customer(
    outbound_app, run_pass, twilio_api
) -> None:
    app = twilio_app(outbound_app, twilio_api)
    twilio_api.invalid.add(INVALID)
    twilio_api.unsubscribed.add(UNSUB)
    bad = add_customer(app, name="甲", phone=INVALID)
    gone = add_customer(app, name="乙", phone=UNSUB)
    number = open_example_case(app, bad)
    queue(app, number, bad, key="i", channel="sms", recipient=INVALID, urgent=True, template="example/ack.txt")
    queue(
        app,
        None,
        gone,
        key="u",
        channel="sms",
        recipient=UNSUB,
        urgent=True,
        template="example/notice.txt",
        context={"text": "x"},
    )
    run_pass(app)
    rows = {r.idem_key: r for r in outbox_rows(app)}
    assert rows["i"].state == "failed" and "21211" in rows["i"].last_error and rows["i"].attempts == 1
    assert rows["u"].state == "failed" and "21610" in rows["u"].last_error
    assert customer(app, bad).phone_invalid and customer(app, gone).sms_opt_out
    assert any(e.type == "notification_failed" and "21211" in e.reason for e in case_events(app, number))


def test_429_is_retried(outbound_app, run_pass, twilio_api, clock) -> None:
    app = outbound_app(
        outbound={"sms_sender": "twilio", "retry": {"first_delay": "1m", "jitter": 0}}, twilio=twilio_api.config()
    )
    twilio_api.throttle = 1
    queue(
        app, key="t", channel="sms", recipient=GOOD, urgent=True, template="example/notice.txt", context={"text": "x"}
    )
    run_pass(app)
    assert outbox_rows(app)[0].state == "queued" and "429" in outbox_rows(app)[0].last_error
    clock.advance(minutes=1)
    run_pass(app)
    assert outbox_rows(app)[0].state == "sent" and len(twilio_api.messages) == 1


def test_status_callbacks_show_that_each_household_got_the_outage_sms(
    outbound_app, run_pass, twilio_api, tmp_path
) -> None:
    port = free_port()
    callback = f"http://127.0.0.1:{port}/twilio/status"
    app = outbound_app(
        outbound={"sms_sender": "twilio"}, http={"port": port}, twilio=twilio_api.config(status_callback=callback)
    )
    server = HttpServer(app)
    server.start()
    try:
        cid = add_customer(app, name="丙", phone=UNSUB)
        number = open_example_case(app, cid)
        queue(
            app,
            number,
            key="a",
            channel="sms",
            recipient=GOOD,
            urgent=True,
            template="example/notice.txt",
            context={"text": "停热"},
        )
        queue(
            app,
            number,
            cid,
            key="b",
            channel="sms",
            recipient=UNSUB,
            urgent=True,
            template="example/notice.txt",
            context={"text": "停热"},
        )
        run_pass(app)
        first, second = twilio_api.messages
        assert first["status_callback"] == callback
        assert twilio_api.deliver(first["sid"], "sent") == 204
        assert twilio_api.deliver(first["sid"], "delivered") == 204
        assert twilio_api.deliver(first["sid"], "sent") == 204  # late and out of order: ignored
        assert twilio_api.deliver(second["sid"], "undelivered", error_code=30005) == 204
        a, b = outbox_rows(app)
        assert a.delivery_status == "delivered" and [d["status"] for d in a.data["delivery"]] == ["sent", "delivered"]
        assert b.delivery_status == "undelivered" and "30005" in b.last_error
        assert customer(app, cid).phone_invalid
        assert any(e.type == "notification_undelivered" for e in case_events(app, number))
        # A forged report (wrong token) changes nothing.
        twilio_api.auth_token = "forged"
        assert twilio_api.deliver(second["sid"], "delivered") == 403
        assert outbox_rows(app)[1].delivery_status == "undelivered"
    finally:
        server.stop()


def test_to_is_sent_in_e164_whatever_form_the_number_was_stored_in(outbound_app, run_pass, twilio_api) -> None:
    app = twilio_app(outbound_app, twilio_api)
    queue(
        app,
        key="a",
        channel="sms",
        recipient="139 0000 0031",
        urgent=True,
        template="example/notice.txt",
        context={"text": "x"},
    )
    queue(
        app,
        key="b",
        channel="sms",
        recipient="not a number",
        urgent=True,
        template="example/notice.txt",
        context={"text": "x"},
    )
    run_pass(app)
    assert [m["to"] for m in twilio_api.messages] == ["+8613900000031"]
    rows = {r.idem_key: r for r in outbox_rows(app)}
    assert rows["a"].state == "sent"
    assert rows["b"].state == "failed" and "E.164" in rows["b"].last_error
