"""Fixtures for the market plugin's tests: a market of three floors, its managers and rotas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kefu.app import App
from kefu.testing.contexts import in_plugin_tx
from kefu.testing.fixtures import merge
from kefu.testing.outbox import outbox_rows

STAFF = {
    "people": {
        "f1": {"name": "一楼经理", "phone": "+8613800000101", "email": "f1@market.test"},
        "f3": {"name": "三楼经理", "phone": "+8613800000103", "email": "f3@market.test"},
        "mm": {"name": "管理部经理", "phone": "+8613800000110", "email": "mm@market.test"},
        "gm": {"name": "总经理", "phone": "+8613800000111", "email": "gm@market.test"},
        "sec": {"name": "安保部经理", "phone": "+8613800000112", "email": "sec@market.test"},
        "dep": {"name": "带队副经理", "phone": "+8613800000113", "email": "dep@market.test"},
        "guard": {"name": "保安甲", "phone": "+8613800000120"},
    },
    "roles": {
        "floor_manager@1F": ["f1"],
        "floor_manager@2F": ["f1"],
        "floor_manager@3F": ["f3"],
        "market_manager": ["mm"],
        "general_manager": ["gm"],
        "security_manager": ["sec"],
    },
    "rotas": {"duty-deputy": {"fallback": ["dep"]}},
}

MARKET: dict[str, Any] = {
    "floors": {"1F": {"name": "一楼"}, "2F": {"name": "二楼"}, "3F": {"name": "三楼"}},
}

SHOP_HEADER = [
    "铺位号",
    "楼层",
    "片区",
    "经营户编号",
    "经营户",
    "联系电话",
    "合同开始",
    "合同结束",
    "关注标记",
]
FEE_HEADER = ["铺位号", "费用类型", "账期", "金额", "缴费期限"]
PAY_HEADER = ["铺位号", "费用类型", "账期", "实收金额", "缴费日期"]


def shop_rows(n: int = 4, floor: str = "3F", watch: dict[int, str] | None = None) -> list[list[str]]:
    """Shops 3F-001… each rented by its own tenant T001…"""
    return [
        [
            f"{floor}-{i:03d}",
            floor,
            "A",
            f"T{i:03d}",
            f"经营户{i}",
            f"1390000{i:04d}",
            "2026-01-01",
            "2028-12-31",
            (watch or {}).get(i, ""),
        ]
        for i in range(1, n + 1)
    ]


@pytest.fixture
def market_app(make_app: Callable[..., App]) -> Callable[..., App]:
    """``market_app(market={...}, config={...})``: an app with the market plugin and the test staff."""

    def build(market: dict[str, Any] | None = None, config: dict[str, Any] | None = None) -> App:
        cfg = merge({"staff": STAFF, "market": MARKET}, {"market": market or {}})
        return make_app(plugins=["market"], config=merge(cfg, config or {}))

    return build


# The tests of this folder read the outbox as outbox(app, state=…): the fixtures' reader.
outbox = outbox_rows


def in_tx(app: App, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn(ctx, …)`` with the market context in one committed transaction."""
    return in_plugin_tx(app, "market", fn, *args, **kwargs)
