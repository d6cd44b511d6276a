"""Benchmark: the market's fee reminder ladder over a ledger of N lines (not part of the test suite).

Imports a register of shops and a ledger of N lines (three fee kinds per shop, all
unpaid, one due date), then on the ladder's ``before`` day times, in one run:

* kefu: ``run_ladder`` selecting the unpaid lines and queueing one SMS per line;
* the re-run (a restart, a second daemon): how many it queued (must be 0) and its time;
* the baseline: one raw executemany INSERT of the same outbox rows (new keys) into
  the same table, which is what queueing costs at the least.

    python bench/market_fees.py [--quick] [--lines 10000] [--url postgresql://…]

Ends with one JSON line: {"bench", "value", "unit", "baseline", "ratio", "params"}.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from kefu.api import imports as pipeline
from kefu.app import build_app
from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.models import OutboxMessage
from kefu.db.schema import upgrade
from kefu.plugins.market import fees, imports
from kefu.testing.databases import postgres_schema
from kefu.testing.fixtures import base_config

KINDS = ("租金", "物管费", "水电费")


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """One CSV file as the office's export."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 lines instead of 10,000")
    parser.add_argument("--lines", type=int, help="ledger lines (default 10,000; 2,000 with --quick)")
    parser.add_argument(
        "--url",
        help="PostgreSQL URL: the bench runs in a fresh schema there, dropped after (default: a fresh SQLite file)",
    )
    args = parser.parse_args()
    if args.url:
        with postgres_schema(args.url) as url:
            bench(args, url)
    else:
        bench(args, None)


def bench(args: argparse.Namespace, url: str | None) -> None:
    """Build the market, run the ladder twice and the raw INSERT, print the figures."""
    n = args.lines or (2_000 if args.quick else 10_000)
    shops = (n + len(KINDS) - 1) // len(KINDS)
    tmp = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    raw = base_config(tmp, url or f"sqlite:///{tmp / 'kefu.db'}", ["market"])
    raw["market"] = {"fees": {"letter": False}}
    raw["staff"] = {
        "people": {"mm": {"name": "经理", "email": "mm@example.com"}},
        "roles": {"market_manager": ["mm"], "general_manager": ["mm"], "security_manager": ["mm"]},
        "rotas": {"duty-deputy": {"fallback": ["mm"]}},
    }
    app = build_app(tmp / "kefu.toml", raw=raw, clock=FakeClock("2026-12-01T09:00:00+08:00"))
    upgrade(app.engine)
    register = [
        [f"{1 + i % 3}F-{i:05d}", f"{1 + i % 3}F", "A", f"T{i:05d}", f"经营户{i}", f"139{i:08d}"] for i in range(shops)
    ]
    ledger = [[register[i // len(KINDS)][0], KINDS[i % len(KINDS)], "2026-12", "1000", "2026-12-10"] for i in range(n)]

    def timed(fn, *a):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        with transaction(app.sessions) as session:
            out = fn(app.context("market", session), *a)
        return out, time.perf_counter() - started

    def load(header: list[str], rows: list[list[str]], importer: Any, name: str) -> None:
        path = write(tmp / name, header, rows)
        timed(lambda ctx: pipeline.run(ctx, importer(ctx), path))

    load(
        ["铺位号", "楼层", "片区", "经营户编号", "经营户", "联系电话"],
        register,
        imports.ShopImport,
        "shops.csv",
    )
    load(["铺位号", "费用类型", "账期", "金额", "缴费期限"], ledger, imports.FeeImport, "fees.csv")
    first, t_first = timed(fees.run_ladder, date(2026, 12, 3))
    again, t_again = timed(fees.run_ladder, date(2026, 12, 3))

    table = OutboxMessage.__table__
    with app.sessions() as s:
        rows = [dict(r._mapping) for r in s.execute(select(table))]
    for r in rows:
        r.pop("id")
        r["idem_key"] = "raw/" + r["idem_key"]
    started = time.perf_counter()
    with app.engine.begin() as conn:
        conn.execute(insert(table), rows)
    t_raw = time.perf_counter() - started
    with app.sessions() as s:
        total = s.scalar(select(func.count()).select_from(table))
    engine = app.engine.dialect.name
    app.dispose()
    value, baseline = first.reminders / t_first, len(rows) / t_raw
    print(f"engine                 {engine}")
    print(f"ladder 'before' day    {first.reminders} reminders for {n} lines in {t_first:.2f} s ({value:.0f}/s)")
    print(f"ladder re-run          {again.reminders} queued in {t_again:.2f} s")
    print(f"raw INSERT baseline    {len(rows)} rows in {t_raw:.2f} s ({baseline:.0f}/s)")
    print(f"outbox rows            {total} (ladder {first.reminders} + raw {len(rows)})")
    if first.reminders != n or again.reminders != 0:
        raise SystemExit(f"expected {n} reminders then 0, got {first.reminders} then {again.reminders}")
    print(
        json.dumps(
            {
                "bench": f"market_fees_{engine}",
                "value": round(value),
                "unit": "reminders/s",
                "baseline": round(baseline),
                "ratio": round(value / baseline, 3),
                "params": {
                    "lines": n,
                    "shops": shops,
                    "rerun_queued": again.reminders,
                    "rerun_s": round(t_again, 3),
                    "ladder_s": round(t_first, 3),
                    "raw_s": round(t_raw, 3),
                },
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
