"""The service desk (第二篇): lost items held 30 d then reported, gift stock, registers, monthly exports."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from kefu.plugins.market import desk

from .conftest import in_tx, outbox


@pytest.fixture
def app(market_app):
    return market_app()


def test_lost_item_owner_is_texted_held_30_days_then_reported(app, clock) -> None:
    item = in_tx(
        app,
        lambda ctx: desk.register_lost(ctx, "黑色钱包", place="二楼", owner_phone="+8613700000009").id,
    )
    other = in_tx(app, lambda ctx: desk.register_lost(ctx, "雨伞", place="一楼").id)
    (sms,) = outbox(app, recipient="+8613700000009")
    assert "黑色钱包" in sms.body and "2026-12-02" in sms.body
    in_tx(app, lambda ctx: desk.return_lost(ctx, item, to="失主王某", by="desk"))
    assert in_tx(app, desk.report_unclaimed, date(2026, 12, 2)) == 0  # still within its 30 days
    assert in_tx(app, desk.report_unclaimed, date(2026, 12, 3)) == 1  # the umbrella, not the returned wallet
    assert in_tx(app, desk.report_unclaimed, date(2026, 12, 4)) == 0
    (report,) = outbox(app, recipient="sec@market.test")
    assert "雨伞" in report.body and f"lost/{other}/report" in report.idem_key


def test_gift_stock_refuses_a_negative_balance(app) -> None:
    assert in_tx(app, desk.gift_move, "保温杯", 10, by="desk") == 10
    assert in_tx(app, desk.gift_move, "保温杯", -4, by="desk") == 6
    with pytest.raises(desk.DeskError, match="6 in stock"):
        in_tx(app, desk.gift_move, "保温杯", -7, by="desk")
    with pytest.raises(desk.DeskError, match="no stock"):
        in_tx(app, desk.gift_move, "雨伞", -1, by="desk")
    assert in_tx(app, desk.gift_move, "保温杯", -6, by="desk") == 0


def test_membership_card_goes_through_accept_review_issue_in_order(app) -> None:
    entry = in_tx(app, lambda ctx: desk.entry(ctx, "membership", "申请会员卡", customer="李女士").id)
    assert in_tx(app, desk.advance_membership, entry, by="desk") == "审核"
    assert in_tx(app, desk.advance_membership, entry, by="sup") == "发卡"
    with pytest.raises(desk.DeskError, match="issued already"):
        in_tx(app, desk.advance_membership, entry, by="desk")


def test_parcels_not_collected_by_closing_are_told_and_suggestions_forwarded(app, clock) -> None:
    a = in_tx(app, lambda ctx: desk.entry(ctx, "parcel", "手提袋一个").id)
    in_tx(app, lambda ctx: desk.entry(ctx, "parcel", "纸箱"))
    in_tx(app, desk.collect_parcel, a, by="desk")
    assert in_tx(app, desk.parcels_left, date(2026, 11, 2)) == 1
    in_tx(app, lambda ctx: desk.entry(ctx, "suggestion", "希望增加休息座椅", customer="顾客"))
    assert {m.idem_key.split("/")[1] for m in outbox(app, recipient="mm@market.test")} == {
        "parcels",
        "suggestion",
    }


def test_monthly_export_lists_every_register_in_csv_and_xlsx(app, clock) -> None:
    in_tx(
        app,
        lambda ctx: desk.entry(ctx, "return", "电饭煲退货", customer="张先生", outcome="已退款"),
    )
    in_tx(app, lambda ctx: desk.entry(ctx, "invoice", "开具发票 320 元", outcome="已开具"))
    in_tx(app, lambda ctx: desk.register_lost(ctx, "手机", place="三楼"))
    clock.set(datetime.fromisoformat("2026-12-01T10:00:00+08:00"))
    in_tx(app, lambda ctx: desk.entry(ctx, "return", "下个月的"))
    data = in_tx(app, desk.export_month, "2026-11", "csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "登记簿" and sorted(r[0] for r in rows[1:]) == sorted(["退换货", "遗留商品", "开具发票"])
    book = load_workbook(io.BytesIO(in_tx(app, desk.export_month, "2026-11", "xlsx")))
    assert sorted(book.sheetnames) == sorted(["退换货", "遗留商品", "开具发票"])
    assert book["退换货"]["F2"].value == "电饭煲退货" and book["退换货"].max_row == 2
