"""Issue 4 points 6 and 7 over real HTTP: the signed Twilio webhook and the hotline API."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from conftest import HeatPlugin
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from kefu.app import App
from kefu.db.engine import transaction
from kefu.db.models import Case, CaseEvent, Customer, InboundItem
from kefu.http.server import HttpServer

TOKEN = "twilio-auth-token-for-tests"


@pytest.fixture
def served(make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple[App, str]]]:
    """Build an app with SMS and hotline channels and serve it on a free loopback port."""
    monkeypatch.setenv("KEFU_TWILIO_TOKEN", TOKEN)
    monkeypatch.setenv("KEFU_HOTLINE_TOKEN", "call-centre-token")
    servers: list[HttpServer] = []

    def build(public_url: str | None = None) -> tuple[App, str]:
        config = {
            "twilio": {"enabled": True, "account_sid": "AC" + "0" * 32, "auth_token_secret": "twilio_token"},
            "channels": {
                "sms": {"enabled": True, "default_kind": "heat.general"},
                "hotline": {"enabled": True, "token_secret": "hotline_token"},
            },
        }
        if public_url:
            config["http"] = {"public_url": public_url}
        app = make_app(plugins=["heat"], config=config, extra_plugins={"heat": HeatPlugin()})
        server = HttpServer(app)
        server.start()
        servers.append(server)
        return app, f"http://127.0.0.1:{server.port}"

    yield build
    for server in servers:
        server.stop()


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _sms(base: str, params: dict[str, str], *, sign_url: str | None = None, token: str = TOKEN) -> tuple[int, bytes]:
    url = base + "/channels/sms/twilio"
    signature = RequestValidator(token).compute_signature(sign_url or url, params)
    return _post(
        url,
        urllib.parse.urlencode(params).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )


def _rows(app: App, model: type) -> list:
    with transaction(app.sessions) as session:
        return list(session.scalars(select(model)))


def _params(sid: str, body: str, sender: str = "+8613812345678") -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+8610000000",
        "Body": body,
        "NumMedia": "0",
    }


def test_signed_webhook_stores_once_per_message_sid_and_answers_empty_twiml(served) -> None:
    app, base = served()
    status, body = _sms(base, _params("SM1", "暖气漏水了，3号楼"))
    assert status == 200 and body.endswith(b"<Response></Response>")
    status, _ = _sms(base, _params("SM1", "暖气漏水了，3号楼"))  # Twilio retries
    assert status == 200
    [item] = _rows(app, InboundItem)
    [case] = _rows(app, Case)
    assert (item.status, case.kind, case.data["reply_to"]) == ("processed", "heat.leak", "+8613812345678")


def test_forged_and_unsigned_webhooks_are_refused(served, caplog: pytest.LogCaptureFixture) -> None:
    app, base = served()
    assert _sms(base, _params("SM2", "漏水"), token="not-the-token")[0] == 403
    url = base + "/channels/sms/twilio"
    unsigned = _post(
        url,
        urllib.parse.urlencode(_params("SM3", "漏水")).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert unsigned[0] == 403
    assert _rows(app, InboundItem) == []
    assert "forged" in caplog.text and "unsigned" in caplog.text


def test_signature_binds_the_public_url_behind_a_proxy(served) -> None:
    public = "https://kefu.example.com/hooks"
    _app, base = served(public_url=public)
    assert _sms(base, _params("SM4", "漏水"))[0] == 403  # signed for the internal URL
    assert _sms(base, _params("SM5", "漏水"), sign_url=public + "/channels/sms/twilio")[0] == 200


def test_sms_threads_onto_the_senders_open_case(served) -> None:
    app, base = served()
    _sms(base, _params("SM6", "暖气漏水"))
    _sms(base, _params("SM7", "师傅几点到？"))
    [case] = _rows(app, Case)
    assert [e.type for e in _rows(app, CaseEvent) if e.case_id == case.id].count("customer_reply") == 1


@pytest.mark.parametrize("word", ["退订", "TD", "T", "N", "STOP", "unsubscribe"])
def test_opt_out_words_and_start_update_sms_consent(served, word: str) -> None:
    app, base = served()
    _sms(base, _params("SMa", "暖气漏水"))
    _sms(base, _params("SMb", word))
    [customer] = _rows(app, Customer)
    assert customer.sms_opt_out and customer.sms_opt_out_at is not None
    _sms(base, _params("SMc", "START"))
    [customer] = _rows(app, Customer)
    assert not customer.sms_opt_out
    assert len(_rows(app, Case)) == 1


def test_hotline_api_needs_the_bearer_token_and_opens_cases(served) -> None:
    app, base = served()
    call = {
        "call_id": "96123-0001",
        "caller": "13812345678",
        "at": "2026-11-02 08:55:00",
        "category": "跑冒滴漏",
        "address": "幸福小区3号楼2单元",
        "text": "楼道暖气管漏水",
    }
    url = base + "/channels/hotline/calls"
    body = json.dumps(call, ensure_ascii=False).encode()
    assert _post(url, body, {"Content-Type": "application/json"})[0] == 401
    assert _post(url, body, {"Authorization": "Bearer wrong"})[0] == 401
    status, answer = _post(url, body, {"Authorization": "Bearer call-centre-token"})
    assert status == 200
    [result] = json.loads(answer)["calls"]
    assert result["case"] == "HT-2026-000001" and result["status"] == "processed"
    status, again = _post(url, body, {"Authorization": "Bearer call-centre-token"})
    assert json.loads(again)["calls"][0]["case"] == "HT-2026-000001"  # idempotent
    [case] = _rows(app, Case)
    assert case.data["address"] == "幸福小区3号楼2单元" and case.data["category"] == "跑冒滴漏"
    bad = _post(
        url, json.dumps({"calls": [{"text": "no caller"}]}).encode(), {"Authorization": "Bearer call-centre-token"}
    )
    assert bad[0] == 422 and "caller" in bad[1].decode()


def test_a_call_pushed_the_next_morning_opens_its_case_at_the_call_time(served, clock) -> None:
    app, base = served()
    clock.set("2026-11-03T08:30:00+08:00")
    call = {
        "call_id": "96123-0002",
        "caller": "13812345678",
        "at": "2026-11-02 12:30:00",
        "category": "跑冒滴漏",
        "text": "楼道暖气管漏水",
    }
    status, _answer = _post(
        base + "/channels/hotline/calls",
        json.dumps(call, ensure_ascii=False).encode(),
        {"Authorization": "Bearer call-centre-token"},
    )
    assert status == 200
    [case] = _rows(app, Case)
    assert case.opened_at == datetime.fromisoformat("2026-11-02T12:30:00+08:00")


def test_numbers_come_in_as_e164_and_an_impossible_caller_is_refused_by_field(served) -> None:
    app, base = served()
    assert _sms(base, _params("SM9", "暖气漏水了", sender="8613812345670"))[0] == 200
    url = base + "/channels/hotline/calls"
    call = {
        "call_id": "96123-0009",
        "caller": "+86 139-0000-0031",
        "at": "2026-11-02 08:55:00",
        "category": "跑冒滴漏",
        "text": "楼道暖气管漏水",
    }
    assert (
        _post(url, json.dumps(call, ensure_ascii=False).encode(), {"Authorization": "Bearer call-centre-token"})[0]
        == 200
    )
    senders = sorted(i.sender for i in _rows(app, InboundItem))
    assert senders == ["+8613812345670", "+8613900000031"]
    bad = _post(
        url,
        json.dumps({**call, "call_id": "96123-0010", "caller": "12345"}).encode(),
        {"Authorization": "Bearer call-centre-token"},
    )
    assert bad[0] == 422 and "caller: '12345' is not a possible phone number" in bad[1].decode()
