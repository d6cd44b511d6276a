"""Benchmark: a month of attendance for N people (not part of the test suite).

Imports a register of N people and a month (September 2026: a 调休 Sunday and 中秋) of
DingTalk wide punches through the one import pipeline, then times, in one run:

* kefu: ``attendance.compute`` — punches, shifts, the China working calendar, leave
  and 代签 into ``hr_days`` (written), plus the HR-review check;
* the baseline: the same punches read with one raw SELECT and a plain Python loop that
  computes each person-day's late/early minutes against fixed times (no calendar, no
  leave, nothing written): what the month costs at the least.

    python bench/hr_month.py [--quick] [--people 1000] [--url postgresql://…]

Ends with one JSON line: {"bench", "value", "unit", "baseline", "ratio", "params"}.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from kefu.api import imports as pipeline
from kefu.app import build_app
from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.schema import upgrade
from kefu.plugins.hr import attendance, imports
from kefu.plugins.hr.models import DayResult, Punch
from kefu.testing.databases import postgres_schema
from kefu.testing.fixtures import base_config

MONTH = [date(2026, 9, 1) + timedelta(days=i) for i in range(30)]
WORKING = {d for d in MONTH if (d.weekday() < 5 and d != date(2026, 9, 25)) or d == date(2026, 9, 20)}
HEADER = ["姓名", "工号", "部门", "日期", "班次", "上班1打卡时间", "上班1打卡结果", "下班1打卡时间", "下班1打卡结果",
          "上班2打卡时间", "上班2打卡结果", "下班2打卡时间", "下班2打卡结果"]  # fmt: skip


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """One CSV file as the office's export."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def punch_rows(n: int) -> list[list[str]]:
    """A DingTalk month: mostly on time, every 7th person-day late, every 11th early, every 29th absent."""
    out = []
    for i in range(n):
        for k, d in enumerate(MONTH):
            if d not in WORKING:
                out.append([f"员工{i}", f"P{i:05d}", "客服部", d.isoformat(), "休息"] + [""] * 8)
                continue
            seq = i * 31 + k
            if seq % 29 == 0:
                out.append([f"员工{i}", f"P{i:05d}", "客服部", d.isoformat(), "客服班"] + ["", "旷工"] * 4)
                continue
            in1 = f"08:{(55 if seq % 7 == 0 else 20 + seq % 9):02d}"
            out2 = f"17:{(5 if seq % 11 == 0 else 31 + seq % 5):02d}"
            out.append(
                [
                    f"员工{i}",
                    f"P{i:05d}",
                    "客服部",
                    d.isoformat(),
                    "客服班",
                    in1,
                    "正常",
                    "12:01",
                    "正常",
                    f"13:{20 + seq % 6:02d}",
                    "正常",
                    out2,
                    "正常",
                ]
            )
    return out


def baseline(app, first: date, end: date) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """One raw SELECT of the punches and a plain loop over the person-days: (person-days, seconds)."""
    started = time.perf_counter()
    tz = app.settings.tz
    with app.engine.connect() as conn:
        rows = conn.execute(select(Punch.number, Punch.at, Punch.direction)).all()
    by_day: dict[tuple[str, date], list[int]] = defaultdict(list)
    for number, at, _direction in rows:
        local = at.astimezone(tz)
        by_day[(number, local.date())].append(local.hour * 60 + local.minute)
    numbers = sorted({r[0] for r in rows})
    late = early = absent = days = 0
    for number in numbers:
        d = first
        while d < end:
            days += 1
            if d in WORKING:
                ps = by_day.get((number, d))
                if not ps:
                    absent += 1
                else:
                    late += max(0, min(ps) - 510) >= 5
                    early += max(0, 1050 - max(ps)) >= 5
            d += timedelta(days=1)
    return days, time.perf_counter() - started


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 people instead of 1,000")
    parser.add_argument("--people", type=int, help="people (default 1,000; 200 with --quick)")
    parser.add_argument("--url", help="PostgreSQL URL: a fresh schema there, dropped after (default: SQLite)")
    args = parser.parse_args()
    if args.url:
        with postgres_schema(args.url) as url:
            bench(args, url)
    else:
        bench(args, None)


def bench(args: argparse.Namespace, url: str | None) -> None:
    """Build the department, import the month, compute it, run the baseline, print the figures."""
    n = args.people or (200 if args.quick else 1_000)
    tmp = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    raw = base_config(tmp, url or f"sqlite:///{tmp / 'kefu.db'}", ["hr"])
    raw["staff"] = {"people": {"boss": {"name": "总经理", "email": "boss@example.com"}}}
    raw["hr"] = {"departments": {"cs": {"name": "客服部", "manager": "P00000"}}, "sheet": {"approver": "boss"}}
    app = build_app(tmp / "kefu.toml", raw=raw, clock=FakeClock("2026-10-01T07:00:00+08:00"))
    upgrade(app.engine)

    def timed(fn, *a):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        with transaction(app.sessions) as session:
            out = fn(app.context("hr", session), *a)
        return out, time.perf_counter() - started

    people = [[f"P{i:05d}", f"员工{i}", "cs", "4000"] for i in range(n)]
    register = write(tmp / "employees.csv", ["工号", "姓名", "部门", "月薪"], people)
    timed(lambda ctx: pipeline.run(ctx, imports.EmployeeImport(ctx), register))
    punches = write(tmp / "punches.csv", HEADER, punch_rows(n))
    report, t_import = timed(lambda ctx: pipeline.run(ctx, imports.PunchImport(ctx), punches, progress=False))
    first, end = attendance.month_bounds("2026-09")
    written, t_compute = timed(lambda ctx: attendance.compute(ctx, "2026-09", until=date(2026, 9, 30)))
    days, t_base = baseline(app, first, end)
    with app.sessions() as s:
        stored = s.scalar(select(func.count()).select_from(DayResult))
        n_punches = s.scalar(select(func.count()).select_from(Punch))
    engine = app.engine.dialect.name
    app.dispose()
    if written != n * 30 or stored != written or report.bad:
        raise SystemExit(f"expected {n * 30} person-days, wrote {written}, stored {stored}; bad rows {len(report.bad)}")
    value, base = written / t_compute, days / t_base
    print(f"engine                 {engine}")
    print(f"import (pipeline)      {n_punches} punches of {n} people in {t_import:.2f} s")
    print(f"compute (kefu)         {written} person-days in {t_compute:.2f} s ({value:.0f}/s)")
    print(f"plain loop baseline    {days} person-days in {t_base:.2f} s ({base:.0f}/s)")
    print(
        json.dumps(
            {
                "bench": f"hr_month_{engine}",
                "value": round(value),
                "unit": "people-days/s",
                "baseline": round(base),
                "ratio": round(value / base, 3),
                "params": {
                    "people": n,
                    "punches": n_punches,
                    "import_s": round(t_import, 3),
                    "compute_s": round(t_compute, 3),
                    "baseline_s": round(t_base, 3),
                },
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
