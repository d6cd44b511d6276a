"""Buyers' address changes and special requests by mail (a real Maildir), branched on the print state
at that moment: not printed → change + red remark + packer notice; printed → slips retrieved and
amended; packed → parcel back and reprinted; shipped → after-sales."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from kefu.api import imports as pipeline
from kefu.db.models import Case
from kefu.plugins.ecommerce import desk, imports
from kefu.plugins.ecommerce.models import Order, Remark
from kefu.testing.mail import build_mail, deliver_to_maildir

from .conftest import in_tx, outbox

DEMO = Path(__file__).resolve().parents[3] / "plugins" / "ecommerce" / "demo"
NOT_PRINTED, PRINTED, SHIPPED = "3391234567890123451", "3391234567890123452", "3391234567890123453"
STAMP = re.compile(r"---\d{4}-\d{2}-\d{2} \S+$")


@pytest.fixture
def shop(ecommerce_app, clock, tmp_path: Path):
    box = tmp_path / "buyers"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    app = ecommerce_app(config={"channels": {"maildir": {"buyers": {"path": str(box)}}}})
    clock.set(datetime.fromisoformat("2026-12-02T10:00:00+08:00"))
    for name, file in (("taobao", "taobao_orders.csv"), ("edb", "edb_orders.csv")):
        in_tx(app, lambda ctx, n=name, f=file: pipeline.run(ctx, imports.OrderImport(ctx, n), DEMO / f))
    return app, box


def _mail(box: Path, subject: str, text: str, sender: str = "lily@buyer.test") -> None:
    deliver_to_maildir(box, build_mail(sender=sender, subject=subject, text=text))


def _case(app, kind: str = "ecommerce.change") -> Case:
    with app.sessions() as s:
        case = s.scalars(select(Case).where(Case.kind == kind).order_by(Case.id.desc())).first()
        assert case is not None
        s.expunge_all()
        return case


def _remarks(app, order_no: str) -> list[Remark]:
    with app.sessions() as s:
        order = s.scalars(select(Order).where(Order.order_no == order_no)).one()
        rows = list(s.scalars(select(Remark).where(Remark.order_id == order.id)))
        s.expunge_all()
        return rows


def test_address_change_mail_for_an_unprinted_order_changes_remarks_red_and_tells_the_packer(shop, run_pass) -> None:
    app, box = shop
    _mail(box, "修改地址", f"订单{NOT_PRINTED}，我要修改地址，新地址为：浙江省杭州市滨江区江南大道88号")
    run_pass(app)
    case = _case(app)
    assert case.state == "resolved" and case.data["print_state"] == "未打单"
    (remark,) = _remarks(app, NOT_PRINTED)
    assert remark.text.startswith("客户要求修改地址，新地址为：浙江省杭州市滨江区江南大道88号---2026-12-02 ")
    assert STAMP.search(remark.text) and remark.flag == 1 and not remark.pushed
    with app.sessions() as s:
        order = s.scalars(select(Order).where(Order.order_no == NOT_PRINTED)).one()
        assert order.address == "浙江省杭州市滨江区江南大道88号" and order.seller_flag == 1
    packer = [m for m in outbox(app) if m.template == "ecommerce/packer_notice.txt"]
    assert {m.recipient for m in packer} == {"+8613800000204", "pack@shop.test"}
    # the buyer is answered on the channel used (mail), the address masked in it
    (reply,) = [m for m in outbox(app) if m.template == "ecommerce/change_done.txt"]
    assert reply.recipient == "lily@buyer.test" and reply.channel == "email"


def test_address_change_for_a_printed_order_retrieves_the_slips_then_remarks_on_them(shop, run_pass) -> None:
    app, box = shop
    _mail(box, "改地址", f"订单号 {PRINTED} 地址写错了，新地址为：江苏省南京市玄武区中山东路9号")
    run_pass(app)
    case = _case(app)
    assert case.step == "取回发货单快递单修改" and case.state == "in_progress"
    retrieve = [m for m in outbox(app) if m.template == "ecommerce/retrieve_notice.txt"]
    assert {m.recipient for m in retrieve} == {"+8613800000205", "wh@shop.test"}
    assert _remarks(app, PRINTED) == []  # nothing to remark before the slips are amended
    remark = in_tx(app, lambda ctx: desk.slips_amended(ctx, ctx.find_case(case.number), "pre"))
    assert remark.text == (
        "客户要求修改地址，新地址为：江苏省南京市玄武区中山东路9号，已在发货单与快递单上修改妥当---2026-12-02 售前小王"
    )
    assert _case(app).state == "resolved"


def test_a_packed_order_has_its_parcel_retrieved_and_reprinted(shop, run_pass) -> None:
    app, box = shop
    from click.testing import CliRunner

    from kefu.plugins.ecommerce.cli import ecommerce

    packed = CliRunner().invoke(ecommerce, ["packed", PRINTED, "--by", "pack"], obj={"app": app})
    assert packed.exit_code == 0 and "已打包" in packed.output, packed.output
    again = CliRunner().invoke(ecommerce, ["packed", PRINTED], obj={"app": app})
    assert "(unchanged)" in again.output  # 已打包 only moves forward
    _mail(box, "尺码", f"订单{PRINTED}，拍的M码，麻烦改成：XL码")
    run_pass(app)
    case = _case(app)
    assert case.step == "取回包裹重新打单"
    assert {m.template for m in outbox(app) if m.audience == "staff"} >= {
        "ecommerce/retrieve_notice.txt",
        "ecommerce/packer_notice.txt",
    }
    remark = in_tx(app, lambda ctx: desk.slips_amended(ctx, ctx.find_case(case.number), "pre"))
    assert remark.text == "客户拍下，要求修改成：XL码，已修改妥当---2026-12-02 售前小王"


def test_address_change_for_a_shipped_order_goes_to_after_sales(shop, run_pass) -> None:
    app, box = shop
    _mail(box, "修改地址", f"订单{SHIPPED}，新地址为：上海市浦东新区世纪大道1号")
    run_pass(app)
    case = _case(app)
    assert case.step == "转售后" and case.owner == "after"
    assert _remarks(app, SHIPPED) == []
    assert any(
        m.template == "ecommerce/aftersales_notice.txt" and m.recipient == "after@shop.test" for m in outbox(app)
    )


def test_special_request_is_remarked_in_the_seed_format_with_a_packer_notice(shop, run_pass) -> None:
    app, box = shop
    _mail(box, "发票", f"订单{NOT_PRINTED} 需要发票，抬头：杭州某某科技有限公司")
    run_pass(app)
    (remark,) = _remarks(app, NOT_PRINTED)
    assert remark.text.startswith("客户要求：") and "杭州某某科技有限公司" in remark.text and STAMP.search(remark.text)
    assert any(m.template == "ecommerce/packer_notice.txt" for m in outbox(app))


def test_staff_entry_follows_the_same_branch(shop) -> None:
    from click.testing import CliRunner

    from kefu.plugins.ecommerce.cli import ecommerce

    app, _box = shop
    result = CliRunner().invoke(
        ecommerce, ["change", NOT_PRINTED, "--special", "周六上午送货", "--by", "pre"], obj={"app": app}
    )
    assert result.exit_code == 0, result.output
    (remark,) = _remarks(app, NOT_PRINTED)
    assert remark.text == "客户要求：周六上午送货---2026-12-02 售前小王"


def test_address_change_by_sms_is_answered_by_sms(ecommerce_app, clock, run_pass, monkeypatch) -> None:
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
    clock.set(datetime.fromisoformat("2026-12-02T10:00:00+08:00"))
    in_tx(app, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx, "taobao"), DEMO / "taobao_orders.csv"))
    server = HttpServer(app)
    server.start()
    try:
        text = f"订单{NOT_PRINTED}改地址，新地址为：浙江省宁波市鄞州区天童南路1号"
        assert incoming_sms(f"http://127.0.0.1:{server.port}", token, "SM9", "+8613900001111", text) == 200
        run_pass(app)
    finally:
        server.stop()
    (remark,) = _remarks(app, NOT_PRINTED)
    assert remark.text.startswith("客户要求修改地址，新地址为：浙江省宁波市鄞州区天童南路1号---2026-12-02")
    (reply,) = [m for m in outbox(app) if m.template == "ecommerce/change_done.txt"]
    assert reply.channel == "sms" and reply.recipient == "+8613900001111"
