"""Order files through the one pipeline: every ready map reads its demo file, numbers stay text,
a re-import changes nothing and an older event never moves an order back."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kefu.api import imports as pipeline
from kefu.plugins.ecommerce import imports
from kefu.plugins.ecommerce.models import Order
from kefu.testing.files import write_csv

from .conftest import TAOBAO_HEADER, in_tx, taobao_row

DEMO = Path(__file__).resolve().parents[3] / "plugins" / "ecommerce" / "demo"
N = [f"339123456789012345{i}" for i in range(1, 6)]
# Import rules are engine-independent: they run on SQLite; the end-to-end tests run on both engines.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def app(ecommerce_app, db_url):
    return ecommerce_app()


def _import(app, path: Path, map_name: str | None = None, dry_run: bool = False):
    return in_tx(app, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx, map_name), path, dry_run=dry_run))


def _orders(app) -> dict[str, Order]:
    with app.sessions() as s:
        rows = {o.order_no: o for o in s.scalars(select(Order))}
        s.expunge_all()
        return rows


def test_taobao_report_in_gbk_keeps_order_numbers_as_text_and_reads_the_status(app) -> None:
    report = _import(app, DEMO / "taobao_orders.csv", "taobao")
    assert (report.created, report.bad) == (5, [])
    assert report.encoding == "gb18030"
    orders = _orders(app)
    assert sorted(orders) == N  # the ="…" guard is gone, 19 digits exact
    assert orders[N[0]].status == "paid" and orders[N[0]].print_state == "未打单"
    assert orders[N[2]].status == "shipped" and orders[N[2]].print_state == "已发货"
    assert orders[N[2]].tracking_no == "75312345678901"
    assert orders[N[3]].status == "finished" and orders[N[3]].print_state == "已发货"
    assert orders[N[4]].address.startswith("四川省 成都市 锦江区")  # 修改后的收货地址 wins


def test_reimport_changes_nothing_and_never_duplicates(app) -> None:
    _import(app, DEMO / "taobao_orders.csv")
    again = _import(app, DEMO / "taobao_orders.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    with app.sessions() as s:
        assert len(list(s.scalars(select(Order)))) == 5


def test_each_erp_map_reads_its_demo_file_and_the_print_state(app) -> None:
    _import(app, DEMO / "taobao_orders.csv")
    for name, file in (("edb", "edb_orders.csv"), ("jst", "jst_orders.csv"), ("wdt", "wdt_orders.xlsx")):
        report = _import(app, DEMO / file, name)
        assert report.bad == [], (name, report.bad)
        assert report.created == 0, name  # the same orders, by shop + number
    orders = _orders(app)
    assert orders[N[1]].print_state == "已打单"  # E店宝 print_time, 聚水潭 is_print_express, 旺店通 print status 1
    assert orders[N[0]].print_state == "未打单"
    assert orders[N[3]].status == "finished"


def test_files_are_recognised_without_a_map(app) -> None:
    for file in ("taobao_orders.csv", "edb_orders.csv", "jst_orders.csv", "wdt_orders.xlsx", "tmall_refunds.csv"):
        assert _import(app, DEMO / file).bad == [], file
    orders = _orders(app)
    assert orders[N[3]].dispute_state == "客服介入中" and orders[N[3]].return_tracking == "YT9876543210"
    assert orders[N[2]].needs_return and orders[N[2]].refund_status == "卖家已经同意退款，等待买家退货"


def test_an_older_event_never_moves_an_order_back(app, tmp_path: Path) -> None:
    _import(app, DEMO / "jst_orders.csv", "jst")  # J2002 printed, modified 2026-12-02 08:30
    assert _orders(app)[N[1]].print_state == "已打单"
    stale = tmp_path / "stale.csv"
    stale.write_text(
        "so_id,status,is_print_express,modified,shop_name\n"
        f"{N[1]},WaitConfirm,false,2026-12-01 17:00:00,某某旗舰店\n"
        f"{N[2]},WaitConfirm,false,2026-12-03 08:00:00,某某旗舰店\n",
        encoding="utf-8",
    )
    report = _import(app, stale, "jst")
    orders = _orders(app)
    assert orders[N[1]].print_state == "已打单" and report.unchanged == 1  # older than what is stored
    # a newer event without a status rank cannot undo 已发货 either
    assert orders[N[2]].print_state == "已发货" and orders[N[2]].status == "shipped"


def test_unknown_status_is_a_bad_row_by_line(app, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "o.csv", TAOBAO_HEADER, [taobao_row("3391234567890000001", status="发呆中")], "gbk")
    report = _import(app, path, "taobao")
    assert report.created == 0 and report.bad[0].where.row == 2 and "发呆中" in report.bad[0].reason


def test_config_map_adds_header_spellings(ecommerce_app, db_url, tmp_path: Path) -> None:
    app = ecommerce_app(ecommerce={"maps": {"taobao": {"order_no": ["主订单编号"]}}})
    path = tmp_path / "o.csv"
    path.write_text("主订单编号,订单状态\n3391234567890000002,等待买家付款\n", encoding="utf-8")
    assert _import(app, path, "taobao").created == 1
    assert _orders(app)["3391234567890000002"].status == "unpaid"


def test_cli_imports_with_dry_run_then_for_real(app, tmp_path: Path) -> None:
    from kefu.plugins.ecommerce.cli import ecommerce

    runner = CliRunner()
    dry = runner.invoke(
        ecommerce,
        ["import", "orders", str(DEMO / "taobao_orders.csv"), "--map", "taobao", "--dry-run"],
        obj={"app": app},
    )
    assert dry.exit_code == 0, dry.output
    assert _orders(app) == {}
    real = runner.invoke(ecommerce, ["import", "orders", str(DEMO / "taobao_orders.csv")], obj={"app": app})
    assert real.exit_code == 0, real.output
    assert len(_orders(app)) == 5


def test_a_config_map_naming_no_field_refuses_the_start(ecommerce_app, db_url) -> None:
    with pytest.raises(Exception, match="names no field 'nope'"):
        ecommerce_app(ecommerce={"maps": {"mine": {"nope": ["某列"]}}})


def test_two_shops_keep_the_same_order_number_apart(ecommerce_app, db_url, tmp_path: Path) -> None:
    app = ecommerce_app(ecommerce={"shops": {"main": {"name": "某某旗舰店"}, "outlet": {"name": "某某折扣店"}}})
    path = tmp_path / "jst.csv"
    path.write_text(
        "so_id,status,shop_name\n3391234567890000031,Sent,某某旗舰店\n3391234567890000031,WaitConfirm,某某折扣店\n",
        encoding="utf-8",
    )
    report = _import(app, path, "jst")
    assert (report.created, report.bad) == (2, [])
    with app.sessions() as s:
        rows = sorted((o.shop, o.status) for o in s.scalars(select(Order)))
    assert rows == [("main", "shipped"), ("outlet", "paid")]
    unknown = tmp_path / "other.csv"
    unknown.write_text("so_id,status,shop_name\n3391234567890000032,Sent,别人的店\n", encoding="utf-8")
    assert "not in [ecommerce.shops]" in _import(app, unknown, "jst").bad[0].reason
