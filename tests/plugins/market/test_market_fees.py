"""The fee ledger and its reminder ladder: one test per rule of the market README's fee rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kefu.api import imports as pipeline
from kefu.plugins.market import fees, imports
from kefu.testing.files import write_csv

from .conftest import FEE_HEADER, PAY_HEADER, SHOP_HEADER, in_tx, outbox, shop_rows


def _load(app, tmp_path: Path, shops: list[list[str]], lines: list[list[str]]) -> None:
    in_tx(
        app,
        lambda ctx: pipeline.run(ctx, imports.ShopImport(ctx), write_csv(tmp_path / "s.csv", SHOP_HEADER, shops)),
    )
    in_tx(
        app,
        lambda ctx: pipeline.run(ctx, imports.FeeImport(ctx), write_csv(tmp_path / "f.csv", FEE_HEADER, lines)),
    )


@pytest.fixture
def app(market_app):
    return market_app()


def test_shop_and_fee_imports_are_idempotent_and_bad_rows_are_named_by_line(app, tmp_path: Path) -> None:
    shops = write_csv(
        tmp_path / "s.csv",
        SHOP_HEADER,
        [*shop_rows(3), ["9F-001", "9F", "", "T9", "x", "", "", "", ""]],
        encoding="gb18030",
    )
    report = in_tx(app, lambda ctx: pipeline.run(ctx, imports.ShopImport(ctx), shops))
    assert (report.created, len(report.bad)) == (3, 1)
    assert report.bad[0].where.row == 5 and "9F" in report.bad[0].message
    again = in_tx(app, lambda ctx: pipeline.run(ctx, imports.ShopImport(ctx), shops))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    ledger = write_csv(
        tmp_path / "f.csv",
        FEE_HEADER,
        [
            ["3F-001", "租金", "2026-11", "3200", "2026-11-10"],
            ["3F-002", "水电费", "2026年11月", "180.5", "2026-11-10"],
            ["3F-003", "停车费", "2026-11", "10", "2026-11-10"],
            ["3F-404", "租金", "2026-11", "10", "2026-11-10"],
        ],
    )
    report = in_tx(app, lambda ctx: pipeline.run(ctx, imports.FeeImport(ctx), ledger))
    assert report.created == 2 and [b.where.row for b in report.bad] == [4, 5]
    assert in_tx(app, lambda ctx: pipeline.run(ctx, imports.FeeImport(ctx), ledger)).unchanged == 2


def test_ladder_reminds_7_days_before_on_the_day_and_every_3_days_overdue_once_each(app, tmp_path: Path) -> None:
    _load(app, tmp_path, shop_rows(1), [["3F-001", "租金", "2026-11", "3200", "2026-11-10"]])
    queued = {day: in_tx(app, fees.run_ladder, date(2026, 11, day)).reminders for day in range(1, 20)}
    # sms + letter on 3 (7 d before), 10 (the day), 13 and 16 and 19 (every 3 d overdue); nothing else, ever.
    assert {d: n for d, n in queued.items() if n} == {3: 2, 10: 2, 13: 2, 16: 2, 19: 2}
    assert in_tx(app, fees.run_ladder, date(2026, 11, 19)).reminders == 0
    steps = [m.idem_key.split("/")[3] for m in outbox(app, channel="sms")]
    assert steps == ["before", "due", "overdue-1", "overdue-2", "overdue-3"]


def test_ladder_steps_come_from_config(market_app, tmp_path: Path) -> None:
    app = market_app(market={"fees": {"remind_before": "3d", "overdue_every": "5d", "letter": False}})
    _load(app, tmp_path, shop_rows(1), [["3F-001", "租金", "2026-11", "3200", "2026-11-10"]])
    queued = {day: in_tx(app, fees.run_ladder, date(2026, 11, day)).reminders for day in range(1, 20)}
    assert {d: n for d, n in queued.items() if n} == {7: 1, 10: 1, 15: 1}


def test_reminder_letter_is_a_notice_with_items_due_date_and_period_to_pay(app, tmp_path: Path) -> None:
    _load(app, tmp_path, shop_rows(1), [["3F-001", "物管费", "2026-11", "560", "2026-11-10"]])
    in_tx(app, fees.run_ladder, date(2026, 11, 13))
    (letter,) = outbox(app, channel="letter")
    assert letter.template == "market/fee_notice.html"
    for text in (
        "催缴通知书",
        "物管费",
        "2026-11",
        "560.00",
        "2026-11-10",
        "2026-11-20",
        "第九百四十四条",
    ):
        assert text in letter.body, text
    assert "停止供电" in letter.body and "将停电" not in letter.body  # says it will NOT cut power


def test_payment_stops_the_ladder_at_once(app, tmp_path: Path) -> None:
    _load(app, tmp_path, shop_rows(1), [["3F-001", "租金", "2026-11", "3200", "2026-11-10"]])
    assert in_tx(app, fees.run_ladder, date(2026, 11, 10)).reminders == 2
    pay = write_csv(tmp_path / "p.csv", PAY_HEADER, [["3F-001", "租金", "2026-11", "3200", "2026-11-11"]])
    assert in_tx(app, lambda ctx: pipeline.run(ctx, imports.PaymentImport(ctx), pay)).updated == 1
    assert in_tx(app, lambda ctx: pipeline.run(ctx, imports.PaymentImport(ctx), pay)).unchanged == 1
    assert [in_tx(app, fees.run_ladder, date(2026, 11, d)).reminders for d in (13, 16, 19)] == [
        0,
        0,
        0,
    ]


def test_partial_payment_keeps_the_ladder_for_what_is_still_owed(app, tmp_path: Path) -> None:
    _load(app, tmp_path, shop_rows(1), [["3F-001", "租金", "2026-11", "3200", "2026-11-10"]])
    pay = write_csv(tmp_path / "p.csv", PAY_HEADER, [["3F-001", "租金", "2026-11", "1000", "2026-11-11"]])
    in_tx(app, lambda ctx: pipeline.run(ctx, imports.PaymentImport(ctx), pay))
    assert in_tx(app, fees.run_ladder, date(2026, 11, 13)).reminders == 2
    assert "2200.00" in outbox(app, channel="sms")[0].body


def test_overdue_list_goes_to_each_floor_manager_once_a_day(app, tmp_path: Path) -> None:
    _load(
        app,
        tmp_path,
        [*shop_rows(2), *shop_rows(1, floor="1F")],
        [
            ["3F-001", "租金", "2026-11", "3200", "2026-11-10"],
            ["1F-001", "税费", "2026-11", "90", "2026-11-05"],
            ["3F-002", "租金", "2026-11", "3200", "2026-11-30"],
        ],
    )
    assert in_tx(app, fees.overdue_lists, date(2026, 11, 12)) == 2
    assert in_tx(app, fees.overdue_lists, date(2026, 11, 12)) == 0
    (third,) = outbox(app, recipient="f3@market.test")
    assert "3F-001" in third.body and "3F-002" not in third.body and "1F-001" not in third.body


def test_30_days_overdue_escalates_to_the_market_manager_once(app, tmp_path: Path) -> None:
    _load(app, tmp_path, shop_rows(1), [["3F-001", "租金", "2026-11", "3200", "2026-11-10"]])
    assert in_tx(app, fees.run_ladder, date(2026, 12, 9)).escalated == 0
    assert in_tx(app, fees.run_ladder, date(2026, 12, 10)).escalated == 1
    assert in_tx(app, fees.run_ladder, date(2026, 12, 11)).escalated == 0
    assert [m.recipient for m in outbox(app, audience="staff")] == [
        "+8613800000110",
        "mm@market.test",
    ]


def test_watch_list_tenant_with_an_overdue_fee_alerts_the_manager_at_once(app, tmp_path: Path) -> None:
    _load(
        app,
        tmp_path,
        shop_rows(2, watch={2: "担保贷款"}),
        [
            ["3F-001", "租金", "2026-11", "3200", "2026-11-10"],
            ["3F-002", "租金", "2026-11", "3200", "2026-11-10"],
        ],
    )
    assert in_tx(app, fees.run_ladder, date(2026, 11, 10)).watch_alerts == 0
    assert in_tx(app, fees.run_ladder, date(2026, 11, 11)).watch_alerts == 1
    assert in_tx(app, fees.run_ladder, date(2026, 11, 12)).watch_alerts == 0
    assert all("3F-002" in m.body for m in outbox(app, audience="staff"))


def test_two_payments_on_one_day_both_count_and_a_reimport_adds_neither(app, tmp_path: Path) -> None:
    _load(app, tmp_path, shop_rows(1), [["3F-001", "租金", "2026-11", "3200", "2026-11-10"]])
    header = [*PAY_HEADER, "收据号"]
    pay = write_csv(
        tmp_path / "p.csv",
        header,
        [
            ["3F-001", "租金", "2026-11", "1000", "2026-11-11", "R1"],
            ["3F-001", "租金", "2026-11", "500", "2026-11-11", "R2"],
        ],
    )
    assert in_tx(app, lambda ctx: pipeline.run(ctx, imports.PaymentImport(ctx), pay)).updated == 2
    assert in_tx(app, lambda ctx: pipeline.run(ctx, imports.PaymentImport(ctx), pay)).unchanged == 2
    in_tx(app, fees.run_ladder, date(2026, 11, 13))
    assert "1700.00" in outbox(app, channel="sms")[0].body


def test_paid_command_settles_the_line_and_the_ladder_stops(app, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kefu.plugins.market.cli import market

    _load(app, tmp_path, shop_rows(1), [["3F-001", "水电费", "2026-11", "180.50", "2026-11-10"]])
    result = CliRunner().invoke(market, ["paid", "3F-001", "水电费", "2026-11", "--on", "2026-11-09"], obj={"app": app})
    assert result.exit_code == 0 and "owed 0.00" in result.output, result.output
    assert [in_tx(app, fees.run_ladder, date(2026, 11, d)).reminders for d in (10, 13)] == [0, 0]
