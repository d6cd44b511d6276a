"""Issue 4 point 6, polling mode: inbound SMS listed from a local Twilio API, stored once by MessageSid."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from conftest import HeatPlugin
from sqlalchemy import select

from kefu.app import App
from kefu.db.engine import transaction
from kefu.db.models import Case, ChannelState, Customer, InboundItem
from kefu.intake.runner import run_intake
from kefu.testing.twilio_api import TwilioApi

OUR_NUMBER = "+8610690000"
SENT = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing, the FakeClock's start


def _app(make_app: Callable[..., App], api: TwilioApi) -> App:
    """An app polling ``api`` for SMS to OUR_NUMBER (a new one is a daemon restart: same database)."""
    return make_app(
        plugins=["heat"],
        extra_plugins={"heat": HeatPlugin()},
        config={
            "twilio": api.config(),
            "channels": {
                "sms": {
                    "enabled": True,
                    "mode": "poll",
                    "numbers": [OUR_NUMBER],
                    "poll_interval": "0s",
                    "default_kind": "heat.general",
                }
            },
        },
    )


def _all(app: App, model: type) -> list:
    key = model.name if model is ChannelState else model.id
    with transaction(app.sessions) as session:
        return list(session.scalars(select(model).order_by(key)))


def test_polling_stores_each_message_once_and_threads_like_the_webhook(
    make_app: Callable[..., App], twilio_api: TwilioApi
) -> None:
    app = _app(make_app, twilio_api)
    first = twilio_api.receive("+8613800000001", "3号楼暖气漏水", to=OUR_NUMBER, date_sent=SENT)
    second = twilio_api.receive("+8613800000001", "还在漏", to=OUR_NUMBER, date_sent=SENT + timedelta(minutes=5))
    twilio_api.receive("+8613800000009", "发给别的号码", to="+8610690001", date_sent=SENT)  # not ours
    twilio_api.create({"To": "+8613800000001", "From": OUR_NUMBER, "Body": "我们发出的回复"})  # outbound
    assert run_intake(app) == 2
    items = _all(app, InboundItem)
    assert [i.source_key for i in items] == [first, second]
    [case] = _all(app, Case)
    assert (case.kind, case.urgent) == ("heat.leak", True)
    assert items[1].case_id == case.id and "sender's open case" in (items[1].reason or "")
    # The list still returns both (Twilio filters by day): nothing is stored twice.
    assert run_intake(app) == 0
    assert len(_all(app, InboundItem)) == 2


def test_polling_resumes_after_the_last_message_seen_across_restarts(
    make_app: Callable[..., App], twilio_api: TwilioApi
) -> None:
    app = _app(make_app, twilio_api)
    twilio_api.receive("+8613800000001", "暖气不热", to=OUR_NUMBER, date_sent=SENT)
    assert run_intake(app) == 1
    [state] = _all(app, ChannelState)
    assert datetime.fromisoformat(state.cursor["last_date_sent"]) == SENT
    app.dispose()

    restarted = _app(make_app, twilio_api)
    # Sent days before the last one seen: a poll that resumes from its cursor does not list it.
    twilio_api.receive("+8613800000002", "旧消息", to=OUR_NUMBER, date_sent=SENT - timedelta(days=3))
    newer = twilio_api.receive("+8613800000003", "暖气不热", to=OUR_NUMBER, date_sent=SENT + timedelta(hours=2))
    assert run_intake(restarted) == 1
    assert _all(restarted, InboundItem)[-1].source_key == newer
    [state] = _all(restarted, ChannelState)
    assert datetime.fromisoformat(state.cursor["last_date_sent"]) == SENT + timedelta(hours=2)


def test_polled_opt_out_and_opt_in_words_change_consent(make_app: Callable[..., App], twilio_api: TwilioApi) -> None:
    app = _app(make_app, twilio_api)
    twilio_api.receive("+8613800000001", "暖气不热", to=OUR_NUMBER, date_sent=SENT)
    twilio_api.receive("+8613800000001", "退订", to=OUR_NUMBER, date_sent=SENT + timedelta(minutes=1))
    assert run_intake(app) == 2
    [customer] = _all(app, Customer)
    assert customer.sms_opt_out is True
    assert len(_all(app, Case)) == 1  # the opt-out word is not a complaint
    twilio_api.receive("+8613800000001", "START", to=OUR_NUMBER, date_sent=SENT + timedelta(minutes=2))
    assert run_intake(app) == 1
    [customer] = _all(app, Customer)
    assert customer.sms_opt_out is False
