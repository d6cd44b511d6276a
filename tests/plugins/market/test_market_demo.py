"""The demo market of examples/market.toml and plugins/market/demo/ loads and runs as documented."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import date
from pathlib import Path

from kefu.api import imports as pipeline
from kefu.app import App
from kefu.plugins.market import fees, imports

from .conftest import in_tx, outbox

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "plugins" / "market" / "demo"


def test_demo_market_imports_300_shops_a_month_of_ledger_and_patrols(
    make_app: Callable[..., App],
) -> None:
    example = tomllib.loads((ROOT / "examples" / "market.toml").read_text(encoding="utf-8"))
    app = make_app(plugins=["market"], config={"staff": example["staff"], "market": example["market"]})
    runs = {}
    for what, importer in (
        ("shops", imports.ShopImport),
        ("fees", imports.FeeImport),
        ("payments", imports.PaymentImport),
        ("patrols", imports.PatrolImport),
    ):
        report = in_tx(app, lambda ctx, i=importer, w=what: pipeline.run(ctx, i(ctx), DEMO / f"{w}.csv"))
        assert report.bad == [], (what, report.bad[:3])
        runs[what] = report.created + report.updated
    assert runs == {"shops": 300, "fees": 900, "payments": 637, "patrols": 431}
    assert len({r.split("-")[0] for r in (DEMO / "shops.csv").read_text(encoding="utf-8").split()[1:]}) == 3
    run = in_tx(app, fees.run_ladder, date(2026, 12, 13))
    # every unpaid line (900 - 637 paid) stands on a step on 13 Dec: one SMS and one letter each
    assert run.reminders == 2 * (900 - 637)
    assert len(outbox(app, channel="letter")) == 900 - 637
