"""examples/ecommerce.toml loads with the demo files, every template renders against its sample, and
a 100,000-row GBK export imports one order per number with a re-import that changes nothing."""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kefu.api import imports as pipeline
from kefu.app import App
from kefu.plugins.ecommerce import imports
from kefu.plugins.ecommerce.models import Order
from kefu.plugins.ecommerce.samples import template_samples

from .conftest import TAOBAO_HEADER, in_tx

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "plugins" / "ecommerce" / "demo"


def _example_app(make_app: Callable[..., App]) -> App:
    example = tomllib.loads((ROOT / "examples" / "ecommerce.toml").read_text(encoding="utf-8"))
    return make_app(plugins=["ecommerce"], config={"staff": example["staff"], "ecommerce": example["ecommerce"]})


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # engine-independent
def test_example_config_imports_every_demo_file(make_app, db_url) -> None:
    app = _example_app(make_app)
    for file in sorted(DEMO.iterdir()):
        report = in_tx(app, lambda ctx, f=file: pipeline.run(ctx, imports.OrderImport(ctx), f))
        assert report.bad == [], (file.name, report.bad[:3])
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 5


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # engine-independent
def test_every_template_renders_against_its_sample(make_app, db_url) -> None:
    from kefu.templating import render

    app = _example_app(make_app)
    templates = {p.name for p in (ROOT / "plugins" / "ecommerce" / "templates").iterdir()}
    samples = template_samples()
    for name in templates:
        base = name.replace(".sms.txt", ".txt")
        assert base in samples, name
        channel = "letter" if name.endswith(".html") else "sms" if ".sms." in name else "email"
        assert render(app, f"ecommerce/{base}", channel, samples[base]).body.strip(), name


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # bench/ecommerce_orders.py --url measures PostgreSQL
def test_a_100000_row_gbk_export_imports_one_order_per_number_and_reimport_changes_nothing(
    make_app, db_url, tmp_path: Path
) -> None:
    app = _example_app(make_app)
    path = tmp_path / "orders.csv"
    n = 100_000
    with path.open("w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(TAOBAO_HEADER)
        for i in range(n):
            no = f'="{3391000000000000000 + i}"'
            w.writerow(
                [
                    no,
                    f"tb_{i}",
                    "买家已付款，等待卖家发货",
                    "",
                    "张三",
                    "浙江省杭州市",
                    "13900001111",
                    "2026-12-01 10:00:00",
                    "",
                    "",
                    "",
                    "",
                ]
            )
    first = in_tx(app, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx, "taobao"), path))
    assert (first.created, first.bad) == (n, [])
    again = in_tx(app, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx, "taobao"), path))
    assert (again.created, again.updated, again.unchanged) == (0, 0, n)
    with app.sessions() as s:
        assert s.scalar(select(func.count(func.distinct(Order.order_no)))) == n
        assert s.scalar(select(func.count()).select_from(Order)) == n
        assert s.scalar(select(Order.order_no).order_by(Order.order_no).limit(1)) == "3391000000000000000"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # engine-independent
def test_order_listing_masks_buyer_names_phones_and_addresses(make_app, db_url) -> None:
    import json

    from click.testing import CliRunner

    from kefu.plugins.ecommerce.cli import ecommerce

    app = _example_app(make_app)
    in_tx(app, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx), DEMO / "taobao_orders.csv"))
    result = CliRunner().invoke(ecommerce, ["orders", "--json"], obj={"app": app})
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 5 and rows[0]["order"] == "3391234567890123451"
    for secret in ("tb_lily88", "李丽", "13900001111", "文三路100号"):
        assert secret not in result.output


def test_example_config_names_and_comments_every_key() -> None:
    from pydantic import BaseModel

    from kefu.plugins.ecommerce.config import EcommerceConfig, ShopConfig

    lines = (ROOT / "examples" / "ecommerce.toml").read_text(encoding="utf-8").splitlines()

    def keys(model: type[BaseModel]) -> set[str]:
        out = set()
        for name, info in model.model_fields.items():
            sub = info.annotation
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                out |= keys(sub)
            else:
                out.add(name)
        return out

    for key in (keys(EcommerceConfig) | keys(ShopConfig)) - {"shops", "maps"}:  # tables: [ecommerce.shops.*]
        found = [line for line in lines if line.lstrip("# ").startswith(f"{key} =")]
        assert found, key
        assert all("#" in line.split("=", 1)[1] for line in found), key
    assert any(line.startswith("[ecommerce.shops.") for line in lines)
    assert any(line.lstrip("# ").startswith("[ecommerce.maps.") for line in lines)
