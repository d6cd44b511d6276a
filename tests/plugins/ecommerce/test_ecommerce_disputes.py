"""Refunds and disputes: the daily digest sorted by the platform's deadlines with its two flags; a
dispute untouched 24 h or close to a platform deadline escalates to the supervisor."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from kefu.api import imports as pipeline
from kefu.db.models import Case
from kefu.plugins.ecommerce import desk, disputes, imports, jobs
from kefu.plugins.ecommerce.models import Order

from .conftest import in_tx, outbox

HEADER = "订单编号,退款编号,退款状态,货物状态,是否需要退货,超时时间,客服介入状态,退货物流单号,举证超时,买家昵称\n"
ROWS = [
    # no deadline at all: last
    '="3391234567890000021",9001,买家已经申请退款，等待卖家同意,买家未收到货,否,,不需要客服介入,,,tb_a',
    # needs a return, no tracking number: flagged; deadline 12-06
    '="3391234567890000022",9002,卖家已经同意退款，等待买家退货,买家已收到货,是,'
    "2026-12-06 10:00:00,不需要客服介入,,,tb_b",
    # dispute with 举证超时 12-03 18:00 (before its 超时时间): first
    '="3391234567890000023",9003,买家已经退货，等待卖家确认收货,买家已退货,是,'
    "2026-12-08 10:00:00,客服介入中,YT1,2026-12-03 18:00:00,tb_c",
    # 超时时间 12-04: second
    '="3391234567890000024",9004,买家已经申请退款，等待卖家同意,买家未收到货,否,'
    "2026-12-04 09:00:00,不需要客服介入,,,tb_d",
    # done: not in the digest
    '="3391234567890000025",9005,退款成功,买家已退货,是,,不需要客服介入,YT2,,tb_e',
]


@pytest.fixture
def shop(ecommerce_app, clock, tmp_path: Path):
    app = ecommerce_app()
    clock.set(datetime.fromisoformat("2026-12-02T09:00:00+08:00"))
    path = tmp_path / "refunds.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="gb18030")
    report = in_tx(app, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx, "tmall_refund"), path))
    assert report.bad == []
    return app


def test_daily_digest_sorts_by_platform_deadline_and_flags_missing_return_tracking(shop, clock) -> None:
    rows = in_tx(shop, disputes.digest_rows)
    assert [r.order_no[-2:] for r in rows] == ["23", "24", "22", "21"]
    flags = {r.order_no[-2:]: r.flags for r in rows}
    assert flags["22"] == (disputes.NO_RETURN_TRACKING,) and flags["23"] == () and flags["21"] == ()
    assert all("tb_" not in r.buyer for r in rows)  # masked
    in_tx(shop, lambda ctx: jobs.digest(ctx, clock.now()))
    sent = [m for m in outbox(shop) if m.template == "ecommerce/digest.txt"]
    assert {m.recipient for m in sent} == {"after@shop.test", "boss@shop.test"}
    body = sent[0].body
    assert body.index("3391234567890000023") < body.index("3391234567890000024") < body.index("3391234567890000022")


def test_goods_back_but_not_refunded_is_flagged(shop) -> None:
    def recall_and_receive(ctx):
        order = ctx.db().scalars(select(Order).where(Order.order_no == "3391234567890000024")).one()
        case = desk.case_for(ctx, order, "cancel", title="取消")
        desk.recall(ctx, case, order)
        desk.parcel_received(ctx, order, "pack")

    in_tx(shop, recall_and_receive)
    flags = {r.order_no[-2:]: r.flags for r in in_tx(shop, disputes.digest_rows)}
    assert flags["24"] == (disputes.BACK_NOT_REFUNDED,)


def test_a_dispute_opens_a_case_and_escalates_untouched_after_24h(shop, clock) -> None:
    with shop.sessions() as s:
        (case,) = s.scalars(select(Case).where(Case.kind == "ecommerce.dispute")).all()
        assert case.data["order_no"] == "3391234567890000023"
    clock.set(datetime.fromisoformat("2026-12-02T20:00:00+08:00"))  # 11 h: untouched but not 24 h, deadline 22 h off
    assert in_tx(shop, lambda ctx: disputes.escalate(ctx, clock.now())) == []
    clock.set(datetime.fromisoformat("2026-12-03T08:59:00+08:00"))
    in_tx(shop, lambda ctx: disputes.touch(ctx, _order(ctx, "23"), "after", "已举证"))
    clock.set(datetime.fromisoformat("2026-12-03T09:30:00+08:00"))  # touched 31 min ago; deadline 8.5 h off
    keys = in_tx(shop, lambda ctx: disputes.escalate(ctx, clock.now()))
    assert keys and all("/escalate/deadline/" in k for k in keys)  # within 12 h of 举证超时


def test_an_untouched_dispute_escalates_at_24h(ecommerce_app, clock, tmp_path: Path) -> None:
    app = ecommerce_app(ecommerce={"disputes": {"before_deadline": "1h"}})
    clock.set(datetime.fromisoformat("2026-12-01T09:00:00+08:00"))
    path = tmp_path / "refunds.csv"
    path.write_text(HEADER + ROWS[2] + "\n", encoding="utf-8")
    in_tx(app, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx, "tmall_refund"), path))
    clock.set(datetime.fromisoformat("2026-12-02T08:59:00+08:00"))
    assert in_tx(app, lambda ctx: disputes.escalate(ctx, clock.now())) == []
    clock.set(datetime.fromisoformat("2026-12-02T09:00:00+08:00"))
    keys = in_tx(app, lambda ctx: disputes.escalate(ctx, clock.now()))
    assert keys and all("/escalate/untouched/" in k for k in keys)
    assert {m.recipient for m in outbox(app) if m.template == "ecommerce/dispute_escalation.txt"} == {
        "+8613800000201",
        "boss@shop.test",
    }


def _order(ctx, tail: str) -> Order:
    return ctx.db().scalars(select(Order).where(Order.order_no == f"33912345678900000{tail}")).one()


def test_a_dispute_the_platform_closed_ends_its_case(shop, clock, tmp_path: Path) -> None:
    path = tmp_path / "later.csv"
    later = ROWS[2].replace("客服介入中", "客服已处理")
    path.write_text(HEADER + later + "\n", encoding="utf-8")
    in_tx(shop, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx, "tmall_refund"), path))
    clock.set(datetime.fromisoformat("2026-12-04T09:00:00+08:00"))
    assert in_tx(shop, lambda ctx: disputes.escalate(ctx, clock.now())) == []
    with shop.sessions() as s:
        (case,) = s.scalars(select(Case).where(Case.kind == "ecommerce.dispute")).all()
        assert case.state == "resolved"
