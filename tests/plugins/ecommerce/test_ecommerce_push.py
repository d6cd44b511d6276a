"""``POST /ecommerce/orders`` on the real listener: HMAC-SHA256 over timestamp + body per shop, the key
from kefu's secrets; unsigned, wrongly signed and replayed pushes get 401 and are logged (masked)."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from kefu.app import App
from kefu.http.server import HttpServer
from kefu.plugins.ecommerce.api import sign
from kefu.plugins.ecommerce.models import Order

KEY = "push-key-of-the-main-shop-for-tests"
NO = "3391234567890123451"


@pytest.fixture
def served(ecommerce_app, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], tuple[App, str]]]:
    monkeypatch.setenv("KEFU_SHOP_MAIN_PUSH", KEY)
    servers: list[HttpServer] = []

    def build() -> tuple[App, str]:
        app = ecommerce_app(ecommerce={"shops": {"main": {"name": "某某旗舰店", "push_secret": "shop_main_push"}}})
        server = HttpServer(app)
        server.start()
        servers.append(server)
        return app, f"http://127.0.0.1:{server.port}"

    yield build
    for server in servers:
        server.stop()


def _post(base: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    req = urllib.request.Request(
        f"{base}/ecommerce/orders", data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _signed(body: bytes, stamp: int, key: str = KEY, shop: str = "main") -> dict[str, str]:
    return {"X-Kefu-Shop": shop, "X-Kefu-Timestamp": str(stamp), "X-Kefu-Signature": sign(key, str(stamp), body)}


def _order(app: App) -> Order | None:
    with app.sessions() as s:
        found = s.scalars(select(Order).where(Order.order_no == NO)).one_or_none()
        s.expunge_all()
        return found


def test_signed_push_is_accepted_and_a_repeat_updates_without_duplicating(served, clock) -> None:
    app, base = served()
    stamp = int(clock.now().timestamp())
    body = json.dumps(
        {"orders": [{"order_no": NO, "status": "WaitConfirm", "paid_at": "2026-12-01T15:59:00", "buyer": "tb_lily"}]}
    ).encode()
    assert _post(base, body, _signed(body, stamp)) == (200, {"created": 1, "updated": 0, "unchanged": 0})
    later = json.dumps({"order_no": NO, "print_state": "已打单"}).encode()
    assert _post(base, later, _signed(later, stamp + 1)) == (200, {"created": 0, "updated": 1, "unchanged": 0})
    order = _order(app)
    assert order is not None and order.print_state == "已打单" and order.source == "push"
    with app.sessions() as s:
        assert len(list(s.scalars(select(Order)))) == 1


def test_unsigned_wrongly_signed_and_replayed_pushes_get_401_and_are_logged(served, clock, caplog) -> None:
    _app, base = served()
    stamp = int(clock.now().timestamp())
    body = json.dumps({"order_no": NO, "status": "WaitConfirm", "phone": "13900001111"}).encode()
    caplog.set_level(logging.WARNING)
    assert _post(base, body, {"X-Kefu-Shop": "main"})[0] == 401
    assert _post(base, body, _signed(body, stamp, key="not-the-key"))[0] == 401
    old = stamp - int(timedelta(minutes=6).total_seconds())
    assert _post(base, body, _signed(body, old))[0] == 401  # replay older than 5 minutes
    good = _signed(body, stamp)
    assert _post(base, body, good)[0] == 200
    assert _post(base, body, good)[0] == 401  # the same signed request again
    assert _post(base, body, _signed(body, stamp, shop="other"))[0] == 401
    refusals = [r.getMessage() for r in caplog.records if "order push" in r.getMessage()]
    assert len(refusals) == 5
    assert any("unsigned" in m for m in refusals) and any("wrong signature" in m for m in refusals)
    assert any("replayed or stale" in m for m in refusals) and any("already used" in m for m in refusals)
    assert not any("13900001111" in m or KEY in m for m in caplog.messages)


def test_a_bad_item_is_a_400_naming_it(served, clock) -> None:
    app, base = served()
    body = json.dumps({"order_no": NO, "status": "发呆中"}).encode()
    status, answer = _post(base, body, _signed(body, int(clock.now().timestamp())))
    assert status == 400 and "发呆中" in answer["error"] and _order(app) is None
