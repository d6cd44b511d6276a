"""Returns and exchanges (售后 ③④): the policy reply by the quality-fault flag, photos requested and
kept, the return tracking number registered from any channel and reminded after N days; bank
transfers (售前 ⑦) registered and followed up daily until matched."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kefu.api import imports as pipeline
from kefu.db.models import Attachment, Case
from kefu.plugins.ecommerce import desk, imports
from kefu.plugins.ecommerce.cli import ecommerce
from kefu.plugins.ecommerce.models import AfterSalesEntry, BankTransfer
from kefu.testing.mail import build_mail, deliver_to_maildir

from .conftest import in_tx, outbox

DEMO = Path(__file__).resolve().parents[3] / "plugins" / "ecommerce" / "demo"
DONE = "3391234567890123454"  # 交易成功 in the demo report
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def shop(ecommerce_app, clock, tmp_path: Path):
    box = tmp_path / "buyers"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    app = ecommerce_app(config={"channels": {"maildir": {"buyers": {"path": str(box)}}}})
    clock.set(datetime.fromisoformat("2026-12-02T10:00:00+08:00"))
    in_tx(app, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx, "taobao"), DEMO / "taobao_orders.csv"))
    return app, box


def _return_case(app) -> Case:
    with app.sessions() as s:
        case = s.scalars(select(Case).where(Case.kind == "ecommerce.return").order_by(Case.id)).first()
        assert case is not None
        s.expunge_all()
        return case


def test_quality_claim_gets_the_both_ways_policy_and_a_photo_request_photos_kept(shop, run_pass, clock) -> None:
    app, box = shop
    deliver_to_maildir(
        box, build_mail(sender="sun@buyer.test", subject="退货", text=f"订单{DONE}鞋子开胶了，质量问题，要退货")
    )
    run_pass(app)
    case = _return_case(app)
    assert case.step == "待买家照片" and case.data["quality"]
    (reply,) = [m for m in outbox(app) if m.template == "ecommerce/return_policy.txt"]
    assert "来回运费由我们承担" in reply.body and "支付宝" in reply.body and "拍照" in reply.body
    # the photos come as a reply: kept as the case's attachments, the case moves on
    deliver_to_maildir(
        box,
        build_mail(
            sender="sun@buyer.test",
            subject=f"Re: [{case.number}] 退货",
            text="照片见附件",
            attachments=[("photo.png", "image/png", PNG)],
            in_reply_to=reply.data.get("message_id") if reply.data else None,
        ),
    )
    clock.advance(minutes=10)
    run_pass(app)
    with app.sessions() as s:
        assert s.scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
    assert _return_case(app).step == "待退货单号"


def test_non_quality_return_gets_the_buyer_pays_one_way_policy(shop, run_pass) -> None:
    app, box = shop
    deliver_to_maildir(box, build_mail(sender="sun@buyer.test", subject="退换", text=f"订单{DONE}尺码不合适想换货"))
    run_pass(app)
    case = _return_case(app)
    assert case.step == "待退货单号" and not case.data["quality"]
    (reply,) = [m for m in outbox(app) if m.template == "ecommerce/return_policy.txt"]
    assert "非质量问题由您承担退回的单程运费" in reply.body and "鞋盒包装完整" in reply.body


def test_the_buyer_who_wrote_is_reminded_of_the_return_tracking_number_by_mail(shop, run_pass, clock) -> None:
    app, box = shop
    deliver_to_maildir(box, build_mail(sender="sun@buyer.test", subject="退货", text=f"订单{DONE}不喜欢，想退货"))
    run_pass(app)
    clock.advance(days=3, minutes=5)
    run_pass(app)
    (reminder,) = [m for m in outbox(app) if m.template == "ecommerce/tracking_reminder.txt"]
    assert reminder.recipient == "sun@buyer.test" and reminder.channel == "email"


def test_return_tracking_number_by_a_new_mail_is_registered(shop, run_pass, clock) -> None:
    app, box = shop
    in_tx(app, lambda ctx: desk.start_return(ctx, _staff_case(ctx), _order(ctx), quality=False))
    deliver_to_maildir(
        box,
        build_mail(sender="sun@buyer.test", subject="退货寄出", text=f"订单{DONE}退货已寄回，退货单号 YT9876543210"),
    )
    clock.advance(minutes=10)
    run_pass(app)
    with app.sessions() as s:
        entry = s.scalars(select(AfterSalesEntry)).one()
        assert entry.return_tracking == "YT9876543210"
    assert _return_case(app).step == "待收退货"


def test_missing_return_tracking_is_reminded_after_3_days(shop, run_pass, clock) -> None:
    app, _box = shop
    result = CliRunner().invoke(ecommerce, ["return", DONE, "--no-quality"], obj={"app": app})
    assert result.exit_code == 0, result.output
    clock.advance(days=2, hours=23)
    run_pass(app)
    assert not [m for m in outbox(app) if m.template == "ecommerce/tracking_overdue.txt"]
    clock.advance(hours=2)
    run_pass(app)
    assert {m.recipient for m in outbox(app) if m.template == "ecommerce/tracking_overdue.txt"} >= {"after@shop.test"}


def test_bank_transfer_is_followed_up_daily_until_matched(shop, clock) -> None:
    app, _box = shop
    row = in_tx(
        app,
        lambda ctx: desk.register_transfer(
            ctx, shop="main", payer="张三", amount=Decimal("199.00"), paid_on=date(2026, 12, 2)
        ),
    )
    assert in_tx(app, lambda ctx: desk.follow_up_transfers(ctx, date(2026, 12, 2))) == 1
    assert in_tx(app, lambda ctx: desk.follow_up_transfers(ctx, date(2026, 12, 2))) == 0  # once a day
    assert in_tx(app, lambda ctx: desk.follow_up_transfers(ctx, date(2026, 12, 3))) == 1
    result = CliRunner().invoke(ecommerce, ["transfer", "match", str(row.id), DONE], obj={"app": app})
    assert result.exit_code == 0, result.output
    assert in_tx(app, lambda ctx: desk.follow_up_transfers(ctx, date(2026, 12, 4))) == 0
    with app.sessions() as s:
        assert s.scalars(select(BankTransfer)).one().order_no == DONE
        assert s.scalars(select(Case).where(Case.kind == "ecommerce.transfer")).one().state == "resolved"


def _order(ctx):
    return ctx.db().scalars(select(imports.Order).where(imports.Order.order_no == DONE)).one()


def _staff_case(ctx):
    return desk.case_for(ctx, _order(ctx), "return", title="退货")
