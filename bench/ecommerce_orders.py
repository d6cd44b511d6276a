"""Benchmark: a 100,000-row GBK Taobao 订单报表 imported through the pipeline (not part of the test suite).

Writes a GBK order export of N rows (order numbers guarded as Excel writes them,
``="3391…"``), then times, in one run:

* kefu: ``kefu ecommerce import orders`` (the pipeline's ``run`` with the Taobao map): rows/s;
* the re-import of the same file: what it changed (must be 0 created, 0 updated) and its time;
* the baseline: a raw ``csv.reader`` pass over the same file (decode GBK, split, unguard the
  number), the least any importer must do.

    python bench/ecommerce_orders.py [--quick] [--rows 100000] [--url postgresql://…]

Ends with one JSON line: {"bench", "value", "unit", "baseline", "ratio", "params"}.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from kefu.api import imports as pipeline
from kefu.app import build_app
from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.schema import upgrade
from kefu.plugins.ecommerce import imports
from kefu.plugins.ecommerce.models import Order
from kefu.testing.databases import postgres_schema
from kefu.testing.fixtures import base_config

HEADER = [
    "订单编号",
    "买家会员名",
    "订单状态",
    "买家留言",
    "收货人姓名",
    "收货地址",
    "联系手机",
    "订单付款时间",
    "物流单号",
    "物流公司",
    "订单备注",
    "修改后的收货地址",
]
STATUSES = ("买家已付款，等待卖家发货", "卖家已发货，等待买家确认", "交易成功", "等待买家付款")


def write_export(path: Path, n: int) -> Path:
    """An order export of ``n`` rows in GBK, as the seller center writes it."""
    with path.open("w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(n):
            status = STATUSES[i % len(STATUSES)]
            shipped = status != STATUSES[0] and status != STATUSES[3]
            w.writerow(
                [
                    f'="{3391000000000000000 + i}"',
                    f"tb_buyer{i}",
                    status,
                    "请尽快发货" if i % 7 == 0 else "",
                    f"收货人{i % 1000}",
                    f"浙江省 杭州市 西湖区 文三路{i % 500}号",
                    f"139{i % 100_000_000:08d}",
                    f"2026-12-01 {8 + i % 12:02d}:{i % 60:02d}:00",
                    f"7531{i:010d}" if shipped else "",
                    "中通快递" if shipped else "",
                    "",
                    "",
                ]
            )
    return path


def raw_pass(path: Path) -> int:
    """The baseline: decode, split and unguard every row with the standard library only."""
    rows = 0
    text = path.read_bytes().decode("gb18030")
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    for cells in reader:
        number = cells[0]
        if number.startswith('="'):
            number = number[2:-1]
        rows += bool(number)
    return rows


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rows instead of 100,000")
    parser.add_argument("--rows", type=int, help="rows of the export (default 100,000; 10,000 with --quick)")
    parser.add_argument("--url", help="PostgreSQL URL: a fresh schema there, dropped after (default: SQLite)")
    args = parser.parse_args()
    if args.url:
        with postgres_schema(args.url) as url:
            bench(args, url)
    else:
        bench(args, None)


def bench(args: argparse.Namespace, url: str | None) -> None:
    """Import the export twice, make the raw pass, print the figures."""
    n = args.rows or (10_000 if args.quick else 100_000)
    tmp = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    raw = base_config(tmp, url or f"sqlite:///{tmp / 'kefu.db'}", ["ecommerce"])
    raw["ecommerce"] = {"shops": {"main": {"name": "某某旗舰店"}}}
    raw["staff"] = {
        "people": {"boss": {"name": "主管", "email": "boss@example.com"}},
        "roles": {
            r: ["boss"]
            for r in (
                "ecommerce_supervisor",
                "ecommerce_presales",
                "ecommerce_aftersales",
                "ecommerce_packer",
                "ecommerce_warehouse",
            )
        },
    }
    app = build_app(tmp / "kefu.toml", raw=raw, clock=FakeClock("2026-12-01T21:00:00+08:00"))
    upgrade(app.engine)
    path = write_export(tmp / "orders.csv", n)

    def timed_import() -> tuple[pipeline.ImportReport, float]:
        started = time.perf_counter()
        with transaction(app.sessions) as session:
            ctx = app.context("ecommerce", session)
            report = pipeline.run(ctx, imports.OrderImport(ctx, "taobao"), path)
        return report, time.perf_counter() - started

    first, t_first = timed_import()
    again, t_again = timed_import()
    started = time.perf_counter()
    raw_rows = raw_pass(path)
    t_raw = time.perf_counter() - started
    with app.sessions() as s:
        orders = s.scalar(select(func.count()).select_from(Order))
        numbers = s.scalar(select(func.count(func.distinct(Order.order_no))))
    engine = app.engine.dialect.name
    app.dispose()
    value, baseline = n / t_first, raw_rows / t_raw
    print(f"engine                 {engine}")
    print(f"file                   {n} rows, {path.stat().st_size / 1e6:.1f} MB GBK")
    print(
        f"import                 {first.created} created, {len(first.bad)} bad in {t_first:.2f} s ({value:.0f} rows/s)"
    )
    print(
        f"re-import              {again.created} created, {again.updated} updated, "
        f"{again.unchanged} unchanged in {t_again:.2f} s"
    )
    print(f"raw csv.reader pass    {raw_rows} rows in {t_raw:.2f} s ({baseline:.0f} rows/s)")
    print(f"orders                 {orders} rows, {numbers} distinct numbers")
    if first.created != n or again.created or again.updated or orders != n or numbers != n:
        raise SystemExit("expected one order per number and a re-import that changes nothing")
    print(
        json.dumps(
            {
                "bench": f"ecommerce_orders_{engine}",
                "value": round(value),
                "unit": "rows/s",
                "baseline": round(baseline),
                "ratio": round(value / baseline, 4),
                "params": {
                    "rows": n,
                    "import_s": round(t_first, 3),
                    "reimport_s": round(t_again, 3),
                    "reimport_changed": again.created + again.updated,
                    "raw_s": round(t_raw, 3),
                },
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
