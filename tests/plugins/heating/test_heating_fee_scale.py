"""A fee campaign over 10,000 households: one reminder each, and a re-run queues none."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from kefu.db.models import OutboxMessage
from kefu.plugins.heating import fees, imports
from kefu.testing.files import write_csv

from .conftest import HOUSEHOLD_HEADER, in_tx

N = 10_000


def test_fee_campaign_over_10000_households_is_idempotent(heating_app, tmp_path: Path) -> None:
    app = heating_app()
    hh = [
        [
            f"H{i:06d}",
            f"住户{i}",
            f"139{i:08d}",
            f"{i // 100}号楼{i % 100}室",
            str(i // 100),
            "S01" if i % 2 else "S02",
            "",
            "80",
            "未缴",
        ]
        for i in range(N)
    ]
    in_tx(app, imports.import_households, write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, hh))
    in_tx(
        app,
        imports.import_fees,
        write_csv(
            tmp_path / "fees.csv",
            ["户号", "采暖期", "应收", "实收"],
            [[f"H{i:06d}", "2026", "1800", "0"] for i in range(N)],
        ),
    )
    started = time.perf_counter()
    assert in_tx(app, fees.run_campaign, date(2026, 10, 8)) == ("before", N)
    first = time.perf_counter() - started
    started = time.perf_counter()
    assert in_tx(app, fees.run_campaign, date(2026, 10, 8)) == ("before", 0)
    rerun = time.perf_counter() - started
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == N
        assert s.scalar(select(func.count(func.distinct(OutboxMessage.recipient)))) == N
    print(
        f"\nfee campaign over {N} households on {app.engine.dialect.name}: "
        f"first run {first:.2f} s ({N / first:.0f}/s), re-run {rerun:.2f} s"
    )
