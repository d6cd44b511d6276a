"""Fixtures for the hr plugin's tests: the demo 客服部 of 40 people, its manager, approver and HR."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from kefu.app import App
from kefu.clock import FakeClock
from kefu.testing.contexts import in_plugin_tx
from kefu.testing.fixtures import merge
from kefu.testing.outbox import outbox_rows

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "plugins" / "hr" / "demo"
TZ = ZoneInfo("Asia/Shanghai")

STAFF: dict[str, Any] = {
    "people": {
        "boss": {"name": "总经理", "phone": "+8613800000001", "email": "boss@cs.test"},
        "E01": {"name": "客服01", "phone": "+8613900000001", "email": "e01@cs.test"},
        "hrx": {"name": "人事专员", "phone": "+8613800000009", "email": "hr@cs.test"},
        "E02": {"name": "客服02", "phone": "+8613900000002", "email": "e02@cs.test"},
        "E03": {"name": "客服03", "phone": "+8613900000003"},
    },
    "roles": {"hr": ["hrx"]},
    "rotas": {"cs-duty": {"shifts": [{"who": "E02", "days": "daily", "start": "08:00", "end": "20:00"}]}},
}
HR: dict[str, Any] = {
    "departments": {"cs": {"name": "客服部", "manager": "E01"}},
    "sheet": {"approver": "boss"},
    "hr_reviewer": "hr",
    "rosters": {"rotas": ["cs-duty"]},
}
DEDUCT = {"penalties": "deduct", "rules_version": "考勤制度 2026-01 版", "rules_published": "2026-01-05"}


def at(text: str) -> datetime:
    """A local time of the site: ``at("2026-09-09 08:40")``."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture
def clock() -> FakeClock:
    """The demo month is September 2026 (a 调休 Sunday and 中秋): the clock starts before it."""
    return FakeClock("2026-08-31T09:00:00+08:00")


@pytest.fixture
def hr_app(make_app: Callable[..., App]) -> Callable[..., App]:
    """``hr_app(hr={...}, config={...})``: an app with the hr plugin and the test staff."""

    def build(
        hr: dict[str, Any] | None = None, config: dict[str, Any] | None = None, plugins: list[str] | None = None
    ) -> App:
        cfg = merge({"staff": STAFF, "hr": HR}, {"hr": hr or {}})
        return make_app(plugins=plugins or ["hr"], config=merge(cfg, config or {}))

    return build


def cli(app: App, *args: str) -> Result:
    """Run ``kefu hr ARGS`` against ``app`` (the real command line)."""
    from kefu.plugins.hr.cli import hr

    return CliRunner().invoke(hr, list(args), obj={"app": app}, catch_exceptions=False)


def in_tx(app: App, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn(ctx, …)`` with the hr context in one committed transaction."""
    return in_plugin_tx(app, "hr", fn, *args, **kwargs)


outbox = outbox_rows
