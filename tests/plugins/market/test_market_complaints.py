"""Purchasers' complaints by SMS (signed Twilio webhook): to the shop's floor manager, reply 24 h, callback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from kefu.api import imports as pipeline
from kefu.app import App
from kefu.db.models import Case
from kefu.http.server import HttpServer
from kefu.plugins.market import imports
from kefu.testing.files import write_csv
from kefu.testing.twilio_api import incoming_sms

from .conftest import SHOP_HEADER, in_tx, outbox, shop_rows

TWILIO = "twilio-auth-token-for-market-complaints"
BUYER = "+8613700000001"


@pytest.fixture
def served(market_app, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[], tuple[App, str]]]:
    monkeypatch.setenv("KEFU_TWILIO_TOKEN", TWILIO)
    servers: list[HttpServer] = []

    def build() -> tuple[App, str]:
        app = market_app(
            config={
                "twilio": {
                    "enabled": True,
                    "account_sid": "AC" + "0" * 32,
                    "auth_token_secret": "twilio_token",
                },
                "channels": {"sms": {"enabled": True}},
            }
        )
        shops = write_csv(tmp_path / "s.csv", SHOP_HEADER, shop_rows(3))
        in_tx(app, lambda ctx: pipeline.run(ctx, imports.ShopImport(ctx), shops))
        server = HttpServer(app)
        server.start()
        servers.append(server)
        return app, f"http://127.0.0.1:{server.port}"

    yield build
    for server in servers:
        server.stop()


def _case(app: App) -> Case:
    with app.sessions() as s:
        case = s.scalars(select(Case).where(Case.kind == "market.complaint")).one()
        case.events  # noqa: B018
        s.expunge_all()
        return case


def _resolve(app: App, number: str) -> None:
    in_tx(app, lambda ctx: ctx.resolve(ctx.find_case(number), actor="f3", reason="已退货"))


def test_complaint_goes_to_the_tenants_floor_manager_and_is_called_back_until_satisfied(
    served, clock, run_pass
) -> None:
    app, base = served()
    assert incoming_sms(base, TWILIO, "SM1", BUYER, "投诉 3F-002 卖假货，不给退") == 200
    run_pass(app)
    case = _case(app)
    assert (case.unit, case.owner) == ("3F", "f3")
    (ack,) = [m for m in outbox(app, recipient=BUYER) if "/ack/" in m.idem_key]
    assert case.number in ack.body and "24" in ack.body
    assert "f3@market.test" in {m.recipient for m in outbox(app, audience="staff")}
    _resolve(app, case.number)
    run_pass(app)
    assert _case(app).state == "callback"
    assert incoming_sms(base, TWILIO, "SM2", BUYER, "2") == 200  # not satisfied: reopened
    run_pass(app)
    assert _case(app).state not in ("callback", "closed", "resolved")
    clock.advance(minutes=5)
    _resolve(app, case.number)
    run_pass(app)
    assert incoming_sms(base, TWILIO, "SM3", BUYER, "满意") == 200
    run_pass(app)
    assert _case(app).state == "closed"
    assert len([m for m in outbox(app, recipient=BUYER) if "/callback" in m.idem_key]) == 2


def test_complaint_without_a_reply_in_24h_escalates_to_the_floor_manager_then_the_market_manager(
    served, clock, run_pass
) -> None:
    app, base = served()
    assert incoming_sms(base, TWILIO, "SM1", BUYER, "投诉3F-001缺斤短两") == 200
    run_pass(app)
    number = _case(app).number
    clock.advance(hours=24, minutes=1)
    run_pass(app)
    clock.advance(hours=2)
    run_pass(app)
    told = [m.recipient for m in outbox(app, audience="staff") if m.idem_key.startswith(f"{number}/reply/")]
    assert "f3@market.test" in told and "mm@market.test" in told
    assert told.index("f3@market.test") < told.index("mm@market.test")
