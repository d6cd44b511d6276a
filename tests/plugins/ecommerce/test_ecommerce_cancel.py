"""Cancel after payment: not printed → void then refund; printed/packed → retrieve (its own
deadline) then refund; shipped → recall, 售后登记表, two-part return slip PDF, and no refund step
before the packer's 原包裹已收到."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kefu.api import CaseError, TransitionRefused
from kefu.api import imports as pipeline
from kefu.db.models import Case, Deadline
from kefu.plugins.ecommerce import desk, imports
from kefu.plugins.ecommerce.cli import ecommerce
from kefu.plugins.ecommerce.models import AfterSalesEntry, Order
from kefu.testing.mail import build_mail, deliver_to_maildir

from .conftest import in_tx, outbox

DEMO = Path(__file__).resolve().parents[3] / "plugins" / "ecommerce" / "demo"
NOT_PRINTED, PRINTED, SHIPPED = "3391234567890123451", "3391234567890123452", "3391234567890123453"


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


def _cli(app, *args: str) -> str:
    result = CliRunner().invoke(ecommerce, list(args), obj={"app": app})
    assert result.exit_code == 0, result.output
    return result.output


def _cancel_case(app) -> Case:
    with app.sessions() as s:
        case = s.scalars(select(Case).where(Case.kind == "ecommerce.cancel").order_by(Case.id.desc())).first()
        assert case is not None
        s.expunge_all()
        return case


def test_cancel_of_an_unprinted_order_voids_then_gives_after_sales_the_refund(shop) -> None:
    app, _box = shop
    _cli(app, "cancel", NOT_PRINTED, "--by", "pre")
    case = _cancel_case(app)
    assert case.step == "通知打单作废"
    assert any(m.template == "ecommerce/void_notice.txt" and m.recipient == "pack@shop.test" for m in outbox(app))
    _cli(app, "done", case.number, "--by", "pack")
    case = _cancel_case(app)
    assert case.step == "退款" and case.owner == "after"
    _cli(app, "refund", case.number, "--by", "after")
    assert _cancel_case(app).state == "resolved"


def test_cancel_of_a_printed_order_retrieves_the_slip_with_its_own_deadline(shop) -> None:
    app, _box = shop
    _cli(app, "cancel", PRINTED)
    case = _cancel_case(app)
    assert case.step == "仓库取回单据或包裹"
    with app.sessions() as s:
        due = s.scalars(select(Deadline).where(Deadline.case_id == case.id, Deadline.state == "open")).all()
        assert [d.name for d in due] == ["step:仓库取回单据或包裹"]
        assert (due[0].due_at - due[0].started_at).total_seconds() == 2 * 3600
    assert any(m.template == "ecommerce/retrieve_notice.txt" and m.recipient == "wh@shop.test" for m in outbox(app))


def test_cancel_after_shipping_cannot_reach_the_refund_before_the_parcel_is_back(shop, run_pass) -> None:
    app, box = shop
    deliver_to_maildir(
        box, build_mail(sender="zhao@buyer.test", subject="不想要了", text=f"订单{SHIPPED}我不想要了，取消订单")
    )
    run_pass(app)
    case = _cancel_case(app)
    assert case.step == "快递撤回包裹" and case.data["recall"] and not case.data["received"]
    with app.sessions() as s:
        (entry,) = s.scalars(select(AfterSalesEntry)).all()
        assert entry.kind == "recall" and entry.received_at is None
    slips = outbox(app, channel="letter")
    assert [m.template for m in slips] == ["ecommerce/return_slip.html"] and slips[0].recipient == "打单小赵"
    assert any(m.template == "ecommerce/recall_notice.txt" and m.recipient == "after@shop.test" for m in outbox(app))
    # neither the refund step nor closing the case is possible yet
    with pytest.raises(CaseError, match="原包裹尚未收到"):
        in_tx(app, lambda ctx: desk.refund(ctx, ctx.find_case(case.number), "after"))
    with pytest.raises(TransitionRefused, match="原包裹已收到"):
        in_tx(app, lambda ctx: ctx.resolve(ctx.find_case(case.number)))
    refused = CliRunner().invoke(ecommerce, ["refund", case.number], obj={"app": app})
    assert refused.exit_code != 0 and "原包裹尚未收到" in refused.output
    # the packer signs 原包裹已收到: now the refund goes through
    _cli(app, "received", SHIPPED, "--by", "pack")
    case = _cancel_case(app)
    assert case.step == "退款" and case.data["received"]
    _cli(app, "refund", case.number, "--by", "after")
    with app.sessions() as s:
        entry = s.scalars(select(AfterSalesEntry)).one()
        order = s.scalars(select(Order).where(Order.order_no == SHIPPED)).one()
        assert entry.received_by == "pack" and entry.refunded_at is not None and order.status == "closed"
    assert _cancel_case(app).state == "resolved"


def test_the_return_slip_is_a_two_part_pdf(shop, run_pass) -> None:
    from kefu.testing.pdf import pdf_text

    app, _box = shop
    _cli(app, "cancel", SHIPPED)
    run_pass(app)
    from kefu.testing.outbox import letters

    (letter,) = letters(app)
    text = pdf_text(letter.pdf)
    assert "第一联" in text and "第二联" in text and SHIPPED in text
