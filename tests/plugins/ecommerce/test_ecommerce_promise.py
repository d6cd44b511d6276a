"""The shipping promise (售前 ⑨): in stock and paid before 16:00 on a shipping day → today, else the
next shipping day; the buyer is told on the channel used; a missed promise escalates."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select

from kefu.api import imports as pipeline
from kefu.db.models import Case
from kefu.plugins.ecommerce import imports, jobs, rules
from kefu.plugins.ecommerce.models import Order
from kefu.testing.files import write_csv
from kefu.testing.mail import build_mail, deliver_to_maildir

from .conftest import TAOBAO_HEADER, in_tx, outbox, taobao_row

DEMO = Path(__file__).resolve().parents[3] / "plugins" / "ecommerce" / "demo"
ON_TIME, AFTER_CUTOFF = "3391234567890123451", "3391234567890123452"


def _weekdays(day: date) -> bool:
    return day.weekday() < 5


@pytest.mark.parametrize(
    ("paid", "stock", "promised"),
    [
        ("2026-12-01 15:59", True, date(2026, 12, 1)),
        ("2026-12-01 16:00", True, date(2026, 12, 2)),
        ("2026-12-01 16:01", True, date(2026, 12, 2)),
        ("2026-12-01 09:00", False, date(2026, 12, 2)),
        ("2026-12-04 16:01", True, date(2026, 12, 7)),  # Friday after the cutoff → Monday
        ("2026-12-05 10:00", True, date(2026, 12, 7)),  # paid on Saturday
    ],
)
def test_promised_day_rule(paid: str, stock: bool, promised: date) -> None:
    assert rules.promised_day(datetime.fromisoformat(paid), stock, time(16, 0), _weekdays) == promised


@pytest.fixture
def shop(ecommerce_app, clock, tmp_path: Path):
    box = tmp_path / "buyers"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    app = ecommerce_app(config={"channels": {"maildir": {"buyers": {"path": str(box)}}}})
    clock.set(datetime.fromisoformat("2026-12-01T17:00:00+08:00"))
    in_tx(app, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx, "taobao"), DEMO / "taobao_orders.csv"))
    return app, box


def _promised(app) -> dict[str, date | None]:
    with app.sessions() as s:
        return {o.order_no: o.promised_on for o in s.scalars(select(Order))}


def test_paid_at_1559_with_stock_ships_today_and_at_1601_the_next_shipping_day(shop) -> None:
    app, _box = shop
    promised = _promised(app)
    assert promised[ON_TIME] == date(2026, 12, 1)
    assert promised[AFTER_CUTOFF] == date(2026, 12, 2)
    assert promised["3391234567890123453"] is None  # shipped already: no promise to keep


def test_the_cutoff_and_the_stock_flag_come_from_config_and_the_file(ecommerce_app, clock, tmp_path: Path) -> None:
    app = ecommerce_app(ecommerce={"shops": {"main": {"name": "某某旗舰店", "cutoff": "15:00:00"}}})
    header = [*TAOBAO_HEADER, "库存状态"]
    rows = [
        [*taobao_row("3391234567890000011", paid="2026-12-01 15:30:00"), "有货"],
        [*taobao_row("3391234567890000012", paid="2026-12-01 09:00:00"), "缺货"],
    ]
    path = write_csv(tmp_path / "o.csv", header, rows, "gbk")
    in_tx(app, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx, "taobao"), path))
    promised = _promised(app)
    assert promised["3391234567890000011"] == date(2026, 12, 2)  # after the shop's 15:00
    assert promised["3391234567890000012"] == date(2026, 12, 2)  # no stock


def test_a_buyer_asking_by_mail_is_told_the_promised_date_by_mail(shop, run_pass) -> None:
    app, box = shop
    deliver_to_maildir(
        box, build_mail(sender="wang@buyer.test", subject="发货", text=f"订单{AFTER_CUTOFF}什么时候发货？")
    )
    run_pass(app)
    (reply,) = [m for m in outbox(app) if m.template == "ecommerce/promise.txt"]
    assert reply.channel == "email" and reply.recipient == "wang@buyer.test"
    assert "2026年12月2日" in reply.body or "2026-12-02" in reply.body


def test_a_missed_promise_escalates_to_the_supervisor_once(shop, clock) -> None:
    app, _box = shop
    clock.set(datetime.fromisoformat("2026-12-02T10:05:00+08:00"))
    in_tx(app, lambda ctx: jobs.late_orders(ctx, clock.now()))
    with app.sessions() as s:
        late = {c.data["order_no"] for c in s.scalars(select(Case).where(Case.kind == "ecommerce.late"))}
    assert late == {ON_TIME, "3391234567890123455"}  # promised 12-01, not shipped; 12-02's still has today
    to_boss = [m for m in outbox(app) if m.template == "ecommerce/late_escalation.txt"]
    assert {m.recipient for m in to_boss} == {"+8613800000201", "boss@shop.test"}
    in_tx(app, lambda ctx: jobs.late_orders(ctx, clock.now()))
    assert len([m for m in outbox(app) if m.template == "ecommerce/late_escalation.txt"]) == len(to_boss)


def test_a_buyer_asking_by_sms_is_told_by_sms(ecommerce_app, clock, run_pass, monkeypatch: pytest.MonkeyPatch) -> None:
    from kefu.http.server import HttpServer
    from kefu.testing.twilio_api import incoming_sms

    token = "twilio-auth-token-for-ecommerce-tests"
    monkeypatch.setenv("KEFU_TWILIO_TOKEN", token)
    app = ecommerce_app(
        config={
            "twilio": {"enabled": True, "account_sid": "AC" + "0" * 32, "auth_token_secret": "twilio_token"},
            "channels": {"sms": {"enabled": True}},
        }
    )
    clock.set(datetime.fromisoformat("2026-12-01T17:00:00+08:00"))
    in_tx(app, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx, "taobao"), DEMO / "taobao_orders.csv"))
    server = HttpServer(app)
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert incoming_sms(base, token, "SM1", "+8613900002222", f"{ON_TIME}几时发货") == 200
        run_pass(app)
    finally:
        server.stop()
    (reply,) = [m for m in outbox(app) if m.template == "ecommerce/promise.txt"]
    assert reply.channel == "sms" and reply.recipient == "+8613900002222"
