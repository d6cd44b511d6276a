"""Benchmark: a heating-fee reminder campaign over N households (not part of the test suite).

Imports N households and their fee ledger (all owing), runs the campaign of one
reminder day, then runs it again (another daemon, a restart, a re-run by hand) and
prints the time of each and how many reminders were queued — one per household,
then none.

    python bench/heating_fee_campaign.py [--households 10000] [--url postgresql://…]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from kefu.app import build_app
from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.models import OutboxMessage
from kefu.db.schema import upgrade
from kefu.plugins.heating import fees, imports
from kefu.testing.fixtures import base_config


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """One CSV file as a station's export."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    n = args.households
    tmp = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    raw = base_config(tmp, args.url or f"sqlite:///{tmp / 'kefu.db'}", ["heating"])
    raw["heating"] = {
        "branches": {"B": {"name": "分公司", "head": "head"}},
        "stations": {
            "S1": {"name": "一号站", "branch": "B", "duty": "head"},
            "S2": {"name": "二号站", "branch": "B", "duty": "head"},
        },
    }
    raw["staff"] = {"people": {"head": {"name": "负责人", "email": "head@example.com"}}}
    app = build_app(tmp / "kefu.toml", raw=raw, clock=FakeClock("2026-10-08T10:00:00+08:00"))
    upgrade(app.engine)
    households = [
        [
            f"H{i:06d}",
            f"住户{i}",
            f"139{i:08d}",
            f"{i // 100}号楼{i % 100}室",
            str(i // 100),
            "S1" if i % 2 else "S2",
            "B",
            "80",
            "未缴",
        ]
        for i in range(n)
    ]
    ledger = [[f"H{i:06d}", "2026", "2200", "0"] for i in range(n)]

    def timed(fn, *a):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        with transaction(app.sessions) as session:
            out = fn(app.context("heating", session), *a)
        return out, time.perf_counter() - started

    report, t_hh = timed(imports.import_households, write(tmp / "hh.csv", imports_header(), households))
    _, t_fees = timed(imports.import_fees, write(tmp / "fees.csv", ["户号", "采暖期", "应收", "实收"], ledger))
    (campaign, queued), t_first = timed(fees.run_campaign, date(2026, 10, 8))
    (_c, again), t_again = timed(fees.run_campaign, date(2026, 10, 8))
    with app.sessions() as s:
        rows = s.scalar(select(func.count()).select_from(OutboxMessage))
    print(f"engine                 {app.engine.dialect.name}")
    print(f"households import      {n} rows in {t_hh:.2f} s ({n / t_hh:.0f}/s), {report.created} created")
    print(f"fee ledger import      {n} rows in {t_fees:.2f} s ({n / t_fees:.0f}/s)")
    print(f"campaign '{campaign}'      {queued} reminders queued in {t_first:.2f} s ({queued / t_first:.0f}/s)")
    print(f"campaign re-run        {again} queued in {t_again:.2f} s")
    print(f"outbox rows            {rows} (one per household: {rows == n})")
    app.dispose()


def imports_header() -> list[str]:
    """The households file's header, as the finance office writes it."""
    return ["户号", "户主", "电话", "地址", "楼栋", "所站", "分公司", "供热面积", "缴费状态"]


if __name__ == "__main__":
    main()
