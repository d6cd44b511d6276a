"""Benchmark: the import pipeline's rows/s beside a raw ``csv.reader`` pass over the same file.

Writes one households file of N rows (GB18030, Chinese headers, as a station's
Excel exports it), then in one run times: the raw baseline (decode the bytes and
run ``csv.reader`` over them, the least any CSV import does), the pipeline alone
(decode, header, typed rows with E.164 phones; an importer that writes nothing),
phonenumbers alone over the file's numbers, and the real ``kefu heating import households``
into a fresh SQLite database, which creates N customers and N households.

Two floors are timed beside them, each a part of the work no import that validates
its rows and stores them can skip: pydantic validating the rows into a model of nine
plain ``str`` fields (no validators of ours), and sqlite3's own ``executemany`` of the
same customers and households into an in-memory database (no SQLAlchemy, no checks).
Their ratios bound what the pipeline can reach. Prints one JSON line.

    python bench/imports.py [--quick] [--rows 100000] [--url postgresql://…]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter
from sqlalchemy.orm import Session

from kefu.app import build_app
from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.schema import upgrade
from kefu.imports import Importer, Outcome, run_import
from kefu.phones import to_e164
from kefu.plugins.heating import imports
from kefu.plugins.heating.imports import HouseholdRow
from kefu.testing.fixtures import base_config

HEADER = ["户号", "户主", "电话", "地址", "楼栋", "所站", "分公司", "供热面积", "缴费状态"]


class ParseOnly(Importer[HouseholdRow]):
    """The households row model and key, writing nothing: the pipeline's own cost."""

    name = "households"
    row_model = HouseholdRow

    def key(self, row: HouseholdRow) -> str:
        """The account, as the real import keys it."""
        return row.account

    def apply(self, session: Session, row: HouseholdRow) -> Outcome:
        """Nothing to write."""
        return "unchanged"


def households_file(path: Path, n: int, phones: bool = True) -> Path:
    """N households in GB18030 with Chinese headers (the phone cells empty unless ``phones``)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADER)
    w.writerows(
        [
            f"H{i:06d}",
            f"住户{i}",
            f"139{i:08d}" if phones else "",
            f"{i // 100}号楼{i % 100}室",
            str(i // 100),
            "S1" if i % 2 else "S2",
            "B",
            "80.5",
            "未缴",
        ]
        for i in range(n)
    )
    path.write_bytes(out.getvalue().encode("gb18030"))
    return path


def raw_pass(path: Path) -> int:
    """The baseline: decode and csv.reader over every row, nothing else."""
    rows = 0
    for _row in csv.reader(io.StringIO(path.read_bytes().decode("gb18030"), newline="")):
        rows += 1
    return rows - 1


class PlainRow(BaseModel):
    """The households' nine columns as plain text: pydantic's own cost, nothing of ours."""

    account: str
    name: str = ""
    phone: str | None = None
    address: str = ""
    building: str = ""
    station: str
    branch: str = ""
    heated_area: str = ""
    payment_status: str = ""


FIELDS = list(PlainRow.model_fields)


def cells_by_field(path: Path) -> list[dict[str, str]]:
    """The file's rows as field → cell dicts (what a row model is validated from)."""
    rows = csv.reader(io.StringIO(path.read_bytes().decode("gb18030"), newline=""))
    next(rows)
    return [dict(zip(FIELDS, row, strict=True)) for row in rows]


def pydantic_floor(rows: list[dict[str, str]]) -> int:
    """Validate the rows into the plain model in one call."""
    return len(TypeAdapter(list[PlainRow]).validate_python(rows))


def sqlite_floor(rows: list[dict[str, str]]) -> int:
    """sqlite3's executemany of the customers and households into a fresh in-memory database."""
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, plugin TEXT, ref TEXT, name TEXT, phone TEXT,"
        " address TEXT, unit TEXT, UNIQUE (plugin, ref))"
    )
    conn.execute(
        "CREATE TABLE households (id INTEGER PRIMARY KEY, account TEXT UNIQUE, address TEXT, building TEXT,"
        " station TEXT, branch TEXT, heated_area REAL, payment_status TEXT, customer_id INTEGER)"
    )
    conn.executemany(
        "INSERT INTO customers (plugin, ref, name, phone, address, unit) VALUES (?, ?, ?, ?, ?, ?)",
        [("heating", r["account"], r["name"], r["phone"], r["address"], r["station"]) for r in rows],
    )
    conn.executemany(
        "INSERT INTO households (account, address, building, station, branch, heated_area, payment_status,"
        " customer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (r["account"], r["address"], r["building"], r["station"], r["branch"], 80.5, r["payment_status"], i)
            for i, r in enumerate(rows, 1)
        ],
    )
    conn.commit()
    conn.close()
    return len(rows)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """The result and the wall time of one call."""
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def main() -> None:
    """Run the benchmark; print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows instead of 100,000")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    n = args.rows or (20_000 if args.quick else 100_000)
    tmp = Path(tempfile.mkdtemp(prefix="kefu-bench-imports-"))
    path = households_file(tmp / "households.csv", n)
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

    raw_pass(path)  # warm the page cache and the codec
    raws = [timed(lambda: raw_pass(path))[1] for _ in range(3)]
    with app.sessions() as session:
        parsed, t_parse = timed(lambda: run_import(ParseOnly(), session, path, progress=False))
    assert parsed.unchanged == n and not parsed.bad, parsed.summary()
    bare = households_file(tmp / "no-phones.csv", n, phones=False)
    with app.sessions() as session:
        _, t_bare = timed(lambda: run_import(ParseOnly(), session, bare, progress=False))
    numbers = [f"139{i:08d}" for i in range(n)]
    _, t_phones = timed(lambda: [to_e164(x) for x in numbers])
    by_field = cells_by_field(path)
    t_pydantic = statistics.median(timed(lambda: pydantic_floor(by_field))[1] for _ in range(3))
    t_sqlite = statistics.median(timed(lambda: sqlite_floor(by_field))[1] for _ in range(3))

    def real() -> Any:
        with transaction(app.sessions) as session:
            return imports.import_households(app.context("heating", session), path)

    report, t_import = timed(real)
    assert report.created == n and not report.bad, report.summary()
    again, t_again = timed(real)
    assert again.unchanged == n, again.summary()
    engine = app.engine.dialect.name
    app.dispose()
    baseline = n / statistics.median(raws)
    value = n / t_import
    print(
        json.dumps(
            {
                "bench": f"imports_{engine}",
                "value": round(value),
                "unit": "rows/s",
                "baseline": round(baseline),
                "ratio": round(value / baseline, 3),
                "params": {
                    "rows": n,
                    "engine": engine,
                    "file": "households.csv (GB18030)",
                    "import_s": round(t_import, 2),
                    "rerun_s": round(t_again, 2),
                    "rerun_rows_per_s": round(n / t_again),
                    "pipeline_only_rows_per_s": round(n / t_parse),
                    "pipeline_only_ratio": round(n / t_parse / baseline, 3),
                    "pipeline_only_without_phones_ratio": round(n / t_bare / baseline, 3),
                    "phonenumbers_only_rows_per_s": round(n / t_phones),
                    "floor_pydantic_plain_model_ratio": round(n / t_pydantic / baseline, 3),
                    "floor_sqlite3_executemany_ratio": round(n / t_sqlite / baseline, 3),
                    # Both floors in one run: the most any validated, stored import can reach.
                    "ceiling_ratio": round(n / (t_pydantic + t_sqlite + 1 / baseline * n) / baseline, 3),
                    "raw_s": round(statistics.median(raws), 3),
                },
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
