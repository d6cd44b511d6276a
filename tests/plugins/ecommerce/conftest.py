"""Fixtures for the ecommerce plugin's tests: one shop, its desk's people and a Maildir for buyers."""

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
        "boss": {"name": "主管老周", "phone": "+8613800000201", "email": "boss@shop.test"},
        "pre": {"name": "售前小王", "phone": "+8613800000202", "email": "pre@shop.test"},
        "after": {"name": "售后小李", "phone": "+8613800000203", "email": "after@shop.test"},
        "pack": {"name": "打单小赵", "phone": "+8613800000204", "email": "pack@shop.test"},
        "wh": {"name": "仓库老钱", "phone": "+8613800000205", "email": "wh@shop.test"},
    },
    "roles": {
        "ecommerce_supervisor": ["boss"],
        "ecommerce_presales": ["pre"],
        "ecommerce_aftersales": ["after"],
        "ecommerce_packer": ["pack"],
        "ecommerce_warehouse": ["wh"],
    },
}

SHOPS: dict[str, Any] = {"shops": {"main": {"name": "某某旗舰店"}}}

TAOBAO_HEADER = [
    "订单编号",
    "买家会员名",
    "订单状态",
    "买家留言",
    "收货人姓名",
    "收货地址",
    "联系手机",
    "订单付款时间",
    "物流单号",
    "物流公司",
    "订单备注",
    "修改后的收货地址",
]


def taobao_row(
    no: str, status: str = "买家已付款，等待卖家发货", paid: str = "2026-12-01 10:00:00", **kw: str
) -> list[str]:
    """One 订单报表 row; the number guarded as Excel writes it."""
    return [
        f'="{no}"',
        kw.get("buyer", "tb_buyer"),
        status,
        "",
        kw.get("receiver", "张三"),
        kw.get("address", "浙江省杭州市西湖区文三路1号"),
        kw.get("phone", "13900001111"),
        paid,
        kw.get("tracking", ""),
        kw.get("carrier", ""),
        "",
        "",
    ]


@pytest.fixture
def ecommerce_app(make_app: Callable[..., App]) -> Callable[..., App]:
    """``ecommerce_app(ecommerce={...}, config={...})``: an app with the plugin and the desk's staff."""

    def build(ecommerce: dict[str, Any] | None = None, config: dict[str, Any] | None = None) -> App:
        cfg = merge({"staff": STAFF, "ecommerce": SHOPS}, {"ecommerce": ecommerce or {}})
        return make_app(plugins=["ecommerce"], config=merge(cfg, config or {}))

    return build


outbox = outbox_rows


def in_tx(app: App, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn(ctx, …)`` with the ecommerce context in one committed transaction."""
    return in_plugin_tx(app, "ecommerce", fn, *args, **kwargs)
