"""Shared test configuration; the general fixtures come from the kefu.testing plugin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kefu.app import App
from kefu.testing.fixtures import merge
from kefu.testing.outbox import write_templates


@pytest.fixture
def outbound_app(make_app: Callable[..., App], tmp_path: Path) -> Callable[..., App]:
    """``outbound_app(outbound={...}, url=None, **config)``: the example plugin, sample templates, spool.

    Shared by the outbound unit tests and the integration tests against real peers.
    """
    folder = write_templates(tmp_path / "site-templates")

    def build(url: str | None = None, **config: Any) -> App:
        # Pacing is tested on its own; elsewhere a fake clock that never moves must not hold rows.
        base = {
            "outbound": {"templates": str(folder), "rate": {"sms_per_second": 1000}},
            "kefu": {"site_name": "示例物业客服中心"},
        }
        return make_app(plugins=["example"], config=merge(base, config), url=url)

    return build
