"""Benchmark: the daily warranty-notice job over a few thousand homes (not part of the test suite).

Imports N homes delivered evenly over one year, then runs the job once per day for the
year in which their 2-year items expire, plus a second run of every day (another daemon,
a restart), and prints the time and how many notices were queued — each exactly once.

    python bench/complaints_warranty.py [--homes 3000] [--url sqlite:///…]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from kefu.app import build_app
from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.models import OutboxMessage
from kefu.db.schema import upgrade
from kefu.plugins.complaints import jobs
from kefu.plugins.complaints.imports import import_homes
from kefu.plugins.complaints.models import WarrantyNotice
from kefu.testing.fixtures import base_config


def homes_csv(n: int, start: date) -> bytes:
    """N homes of project JY delivered evenly over one year from ``start``."""
    rows = ["project_code,project,building,room,owner,phone,email,delivered_on\n"]
    for i in range(n):
        delivered = start + timedelta(days=(i * 365 // n) % 365)
        rows.append(f"JY,锦园,{i // 100 + 1},{i % 100 + 101},业主{i},139{i:08d},o{i}@example.com,{delivered}\n")
    return "".join(rows).encode()


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=3000)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    clock = FakeClock("2026-09-01T09:00:00+08:00")
    raw = base_config(tmp, args.url or f"sqlite:///{tmp / 'kefu.db'}", ["complaints"])
    raw["complaints"] = {"roles": {"repair_manager": ["mgr"]}}
    raw["staff"] = {"people": {"mgr": {"name": "维修管理岗", "email": "mgr@example.com"}}}
    app = build_app(tmp / "kefu.toml", raw=raw, clock=clock)
    upgrade(app.engine)
    started = time.perf_counter()
    with transaction(app.sessions) as s:
        import_homes(s, homes_csv(args.homes, date(2024, 11, 1)), clock.now())
    imported = time.perf_counter() - started
    day, end = datetime.fromisoformat("2026-09-01T09:00:00+08:00"), datetime.fromisoformat("2027-10-01T09:00:00+08:00")
    runs, slowest, started = 0, 0.0, time.perf_counter()
    while day < end:
        for _again in range(2):
            t0 = time.perf_counter()
            with transaction(app.sessions) as s:
                jobs.warranty_notices(app.context("complaints", s), day)
            slowest = max(slowest, time.perf_counter() - t0)
            runs += 1
        day += timedelta(days=1)
    elapsed = time.perf_counter() - started
    with app.sessions() as s:
        counts = Counter((n.home_id, n.item, n.lead_days) for n in s.scalars(select(WarrantyNotice)))
        queued = s.scalar(select(func.count()).select_from(OutboxMessage))
    print(f"engine            {app.engine.dialect.name}")
    print(f"homes             {args.homes} (import {imported:.2f} s)")
    print(f"job runs          {runs} ({runs // 2} days, each run twice)")
    print(f"notices recorded  {len(counts)} (max per home+item+lead: {max(counts.values())})")
    print(f"outbox rows       {queued}")
    print(
        f"total             {elapsed:.2f} s; mean {elapsed / runs * 1000:.1f} ms/run; slowest {slowest * 1000:.0f} ms"
    )
    app.dispose()


if __name__ == "__main__":
    main()
