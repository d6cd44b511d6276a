"""The demo department of examples/hr.toml and plugins/hr/demo/ loads and runs as documented."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from typing import Any

from kefu.api import imports as pipeline
from kefu.app import App
from kefu.plugins.hr import attendance, imports, sheet
from kefu.plugins.hr.samples import template_samples

from .conftest import DEMO, ROOT, at, in_tx


def test_example_config_runs_the_demo_month(make_app: Callable[..., App], clock: Any) -> None:
    example = tomllib.loads((ROOT / "examples" / "hr.toml").read_text(encoding="utf-8"))
    app = make_app(plugins=["hr"], config={"staff": example["staff"], "hr": example["hr"]})
    clock.set(at("2026-10-01 07:00"))
    people = in_tx(app, lambda ctx: pipeline.run(ctx, imports.EmployeeImport(ctx), DEMO / "employees.csv"))
    punches = in_tx(app, lambda ctx: pipeline.run(ctx, imports.PunchImport(ctx), DEMO / "punches-2026-09.csv"))
    assert (people.created, people.bad) == (40, [])
    assert punches.bad == [] and punches.created + punches.unchanged == 40 * 30
    assert in_tx(app, attendance.compute, "2026-09") == 40 * 30
    rows = in_tx(app, lambda ctx: sheet.build(ctx, "2026-09").rows)
    # late: E04–E09, E25, E26 twice, E30; early: E11, E30 (the fixture's cases)
    assert len(rows) == 40 and sum(r["late"] for r in rows) == 10 and sum(r["early"] for r in rows) == 2


def test_every_template_renders_with_its_sample(make_app: Callable[..., App]) -> None:
    app = make_app(plugins=["hr"], config={"staff": {"people": {"boss": {"name": "总经理", "email": "b@x.test"}}}})
    ctx = app.context("hr")
    for name, sample in template_samples().items():
        channel = "letter" if name.endswith(".html") else ("sms" if ".sms." in name else "email")
        assert ctx.render(name, channel, sample).body.strip(), name
