"""Benchmark: the staff console on a big database (not part of the test suite).

Bulk-generates N cases (default 1,000,000; executemany in chunks) of the heating plugin,
10% of them open with a running deadline, every case with its ``opened`` event and
deadline, then measures through the real app (Starlette's TestClient, signed in, the
templates rendered) the 即将超时 queue's first page and a case page, beside the raw
indexed SQL that reads the same rows, and prints one JSON line.

    python bench/console.py [--cases 1000000 | --quick] [--url postgresql+psycopg://… | --pg] [--samples 200]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, text

from kefu.app import build_app
from kefu.clock import FakeClock
from kefu.console.auth import set_password
from kefu.console.web import build_console
from kefu.db.base import UTCDateTime, table_of
from kefu.db.engine import transaction
from kefu.db.models import Case, CaseEvent, Customer, Deadline
from kefu.db.schema import upgrade
from kefu.testing.fixtures import base_config

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

CHUNK = 20_000
PASSWORD = "bench password long"
RAW_QUEUE = """
SELECT d.id, d.due_at, c.id, c.number, c.kind, c.state, c.owner, c.unit, c.customer_id
FROM deadlines d JOIN cases c ON c.id = d.case_id
WHERE d.state = 'open' AND d.due_at > :now AND d.due_at <= :until
  AND c.state IN ('new', 'acknowledged', 'assigned', 'in_progress', 'waiting_customer')
  AND c.plugin IN ('heating')
  AND NOT EXISTS (SELECT 1 FROM deadlines o WHERE o.case_id = d.case_id AND o.state = 'open'
                  AND (o.due_at < d.due_at OR (o.due_at = d.due_at AND o.id < d.id)))
ORDER BY d.due_at, d.id LIMIT 51
"""
RAW_CASE = [
    "SELECT * FROM cases WHERE number = :number",
    "SELECT * FROM deadlines WHERE case_id = :id ORDER BY id",
    "SELECT * FROM case_events WHERE case_id = :id ORDER BY id",
    "SELECT * FROM inbound_items WHERE case_id = :id ORDER BY id",
    "SELECT * FROM outbox WHERE case_id = :id ORDER BY id",
]


def generate(app: Any, n: int, clock: FakeClock) -> list[str]:
    """N cases (10% open) with their customer, event and deadline; the open cases' numbers."""
    now = clock.now()
    rng = random.Random(20)
    customers = max(n // 10, 1)
    open_numbers: list[str] = []
    with transaction(app.sessions) as session:
        conn = session.connection()
        for start in range(0, customers, CHUNK):
            conn.execute(
                insert(table_of(Customer)),
                [
                    {
                        "plugin": "heating",
                        "ref": f"HH-{i:07d}",
                        "name": f"住户{i}",
                        "phone": f"+86139{i:08d}",
                        "email": f"h{i}@example.com",
                        "address": f"长白小区{i % 300}号楼{i % 97}室",
                        "unit": "S01" if i % 2 else "S02",
                        "sms_opt_out": False,
                        "email_undeliverable": False,
                        "phone_invalid": False,
                        "data": {},
                        "created_at": now,
                    }
                    for i in range(start, min(start + CHUNK, customers))
                ],
            )
    for start in range(0, n, CHUNK):
        cases, stop = [], min(start + CHUNK, n)
        for i in range(start, stop):
            is_open = i % 20 in (0, 11)  # 10% open, in both stations
            opened = now - timedelta(minutes=rng.randint(10, 60 * 24 * 300))
            number = f"HT-2026-{i + 1:07d}"
            if is_open:
                open_numbers.append(number)
            cases.append(
                {
                    "number": number,
                    "plugin": "heating",
                    "kind": "heating.leak" if i % 3 == 0 else "heating.general",
                    "state": "assigned" if is_open else "closed",
                    "step": None,
                    "title": "暖气片漏水" if i % 3 == 0 else "暖气不热",
                    "urgent": i % 3 == 0,
                    "customer_id": i % customers + 1,
                    "owner": "zhang" if i % 2 else "wang",
                    "unit": "S01" if i % 2 else "S02",
                    "opened_at": opened,
                    "updated_at": opened,
                    "resolved_at": None if is_open else opened + timedelta(hours=3),
                    "closed_at": None if is_open else opened + timedelta(hours=5),
                    "satisfaction": None,
                    "data": {},
                }
            )
        with transaction(app.sessions) as session:
            conn = session.connection()
            conn.execute(insert(table_of(Case)), cases)
            ids = [
                row[0]
                for row in conn.execute(
                    text("SELECT id FROM cases WHERE number >= :a AND number <= :b ORDER BY number"),
                    {"a": cases[0]["number"], "b": cases[-1]["number"]},
                )
            ]
            conn.execute(
                insert(table_of(CaseEvent)),
                [
                    {
                        "case_id": cid,
                        "at": c["opened_at"],
                        "actor": "system",
                        "type": "opened",
                        "from_state": None,
                        "to_state": "new",
                        "reason": None,
                        "data": {},
                    }
                    for cid, c in zip(ids, cases, strict=True)
                ],
            )
            deadlines = []
            for cid, c in zip(ids, cases, strict=True):
                is_open = c["state"] != "closed"
                due = (
                    now + timedelta(minutes=rng.randint(-600, 60 * 24 * 3))
                    if is_open
                    else c["opened_at"] + timedelta(hours=4)
                )
                deadlines.append(
                    {
                        "case_id": cid,
                        "plugin": "heating",
                        "name": "resolution",
                        "round": 1,
                        "state": "open" if is_open else "met",
                        "started_at": c["opened_at"],
                        "due_at": due,
                        "next_at": due if is_open else None,
                        "stage": "pending",
                        "level": 0,
                        "repeat": 0,
                        "failures": 0,
                        "met_at": None if is_open else c["resolved_at"],
                        "breached_at": None,
                        "data": {},
                    }
                )
            conn.execute(insert(table_of(Deadline)), deadlines)
    return open_numbers


def timed(fn: Callable[[], Any], samples: int) -> dict[str, float]:
    """p50 and p95 of ``fn`` in milliseconds over ``samples`` calls (after two warm-ups)."""
    fn()
    fn()
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(len(times) * 0.95) - 1], 2)}


def main() -> None:
    """Generate, measure, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 cases")
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--pg", action="store_true", help="a fresh schema on the test PostgreSQL ($KEFU_TEST_POSTGRES), dropped after"
    )
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    if args.pg:
        from kefu.testing.databases import postgres_schema

        with postgres_schema() as url:
            run(args, url)
        return
    run(args, args.url)


def run(args: argparse.Namespace, url: str | None) -> None:
    """Generate, measure, print one JSON line, on ``url`` (a fresh SQLite file when None)."""
    n = 20_000 if args.quick else args.cases
    tmp = Path(tempfile.mkdtemp(prefix="kefu-bench-console-"))
    clock = FakeClock("2026-11-02T09:00:00+08:00")
    raw = base_config(tmp, url or f"sqlite:///{tmp / 'kefu.db'}", ["heating"])
    raw["staff"] = {
        "people": {"liu": {"name": "刘主任"}, "zhang": {"name": "张师傅"}, "wang": {"name": "王师傅"}},
        "rotas": {"station-S01": {"fallback": ["zhang"]}, "station-S02": {"fallback": ["wang"]}},
        "access": {"liu": {"role": "head", "plugins": ["heating"]}, "zhang": {"role": "duty", "units": ["S01"]}},
    }
    raw["heating"] = {
        "branches": {"B1": {"name": "一分公司", "head": "liu"}},
        "stations": {"S01": {"name": "一号站", "branch": "B1"}, "S02": {"name": "二号站", "branch": "B1"}},
    }
    app = build_app(tmp / "kefu.toml", raw=raw, clock=clock)
    upgrade(app.engine)
    t0 = time.perf_counter()
    open_numbers = generate(app, n, clock)
    generated = time.perf_counter() - t0
    with transaction(app.sessions) as session:
        for key in ("liu", "zhang"):
            set_password(session, key, PASSWORD, clock.now())
    with app.engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # both engines plan with fresh statistics, as after a night's autovacuum
    rng = random.Random(7)
    result: dict[str, Any] = {"engine": app.engine.dialect.name, "cases": n, "generate_s": round(generated, 1)}
    for who in ("liu", "zhang"):
        # One TestClient kept open: its event-loop portal is made once, as uvicorn's loop is.
        with TestClient(build_console(app), base_url="http://bench", follow_redirects=False) as http:
            login = http.get("/login")
            http.post(
                "/login",
                data={"username": who, "password": PASSWORD, "csrf": login.cookies.get("kefu_pre")},
                headers={"origin": "http://bench"},
            )
            assert http.get("/queue/due_soon").status_code == 200
            result[f"queue_due_soon_{who}"] = timed(lambda http=http: http.get("/queue/due_soon"), args.samples)
            # The tabs' numbers, which the page fetches after it is shown.
            result[f"tab_counts_{who}"] = timed(lambda http=http: http.get("/counts"), args.samples)
            mine = [x for x in open_numbers if (int(x[-7:]) - 1) % 2 == 1] if who == "zhang" else open_numbers

            def case_page(http: TestClient = http, mine: list[str] = mine) -> None:
                response = http.get(f"/case/{rng.choice(mine)}")
                assert response.status_code == 200, response.status_code

            result[f"case_page_{who}"] = timed(case_page, args.samples)
    now = clock.now()
    queue_sql = text(RAW_QUEUE).bindparams(
        bindparam("now", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime())
    )
    with app.engine.connect() as conn:
        result["raw_queue_sql"] = timed(
            lambda: conn.execute(queue_sql, {"now": now, "until": now + timedelta(hours=8)}).all(), args.samples
        )

        def raw_case() -> None:
            number = rng.choice(open_numbers)
            row = conn.execute(text(RAW_CASE[0]), {"number": number}).one()
            for statement in RAW_CASE[1:]:
                conn.execute(text(statement), {"id": row[0]}).all()

        result["raw_case_sql"] = timed(raw_case, args.samples)
    app.dispose()
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
