"""Fixtures for the heating plugin's tests: a department with two stations, two branches and rotas."""

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
        "zhang": {"name": "张师傅", "phone": "+8613800000001", "email": "zhang@heat.test"},
        "li": {"name": "李师傅", "phone": "+8613800000002", "email": "li@heat.test"},
        "wang": {"name": "王师傅", "phone": "+8613800000003", "email": "wang@heat.test"},
        "zhao": {"name": "赵经理", "phone": "+8613800000004", "email": "zhao@heat.test"},
        "zhou": {"name": "周经理", "phone": "+8613800000005", "email": "zhou@heat.test"},
        "liu": {"name": "刘主任", "phone": "+8613800000006", "email": "liu@heat.test"},
        "chen": {"name": "燃料部陈", "email": "fuel@heat.test"},
        "sun": {"name": "化验室孙", "email": "lab@heat.test"},
        "resp1": {"name": "包保人吴", "phone": "+8613800000009", "email": "wu@heat.test"},
    },
    "rotas": {
        "station-S01": {
            "shifts": [
                {"who": "zhang", "days": "daily", "start": "08:00", "end": "20:00"},
                {"who": "li", "days": "daily", "start": "20:00", "end": "08:00"},
            ],
        },
        "station-S02": {"fallback": ["wang"]},
    },
}

HEATING = {
    "cs_centre_head": "liu",
    "fuel_department": "chen",
    "coal_lab": {"lab_head": "sun"},
    "hotline_office": "rexian@city.test",
    "branches": {"B1": {"name": "长白分公司", "head": "zhao"}, "B2": {"name": "城南分公司", "head": "zhou"}},
    "stations": {
        "S01": {"name": "长白一号换热站", "branch": "B1", "responsible": "resp1", "far_end_buildings": ["9"]},
        "S02": {"name": "城南锅炉房", "kind": "锅炉房", "branch": "B2", "responsible": "resp1"},
    },
}

HOUSEHOLD_HEADER = ["户号", "户主", "电话", "地址", "楼栋", "所站", "分公司", "供热面积", "缴费状态"]


def household_rows(n_s01: int = 6, n_s02: int = 4) -> list[list[str]]:
    """Households CB-0001… at S01 (buildings 1 and 9) and S02 (building 20)."""
    rows = []
    for i in range(1, n_s01 + n_s02 + 1):
        station = "S01" if i <= n_s01 else "S02"
        building = ("9" if i % 2 == 0 else "1") if station == "S01" else "20"
        rows.append(
            [
                f"CB-{i:04d}",
                f"住户{i}",
                f"1390000{i:04d}",
                f"{building}号楼{i}室",
                building,
                station,
                "B1" if station == "S01" else "B2",
                "85.5",
                "已缴",
            ]
        )
    return rows


@pytest.fixture
def heating_app(make_app: Callable[..., App]) -> Callable[..., App]:
    """``heating_app(heating={...}, config={...})``: an app with the heating plugin and the test staff."""

    def build(heating: dict[str, Any] | None = None, config: dict[str, Any] | None = None) -> App:
        cfg = merge({"staff": STAFF, "heating": HEATING}, {"heating": heating or {}})
        return make_app(plugins=["heating"], config=merge(cfg, config or {}))

    return build


# The tests of this folder read the outbox as outbox(app, state=…): the fixtures' reader.
outbox = outbox_rows


def in_tx(app: App, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn(ctx, …)`` with the heating context in one committed transaction."""
    return in_plugin_tx(app, "heating", fn, *args, **kwargs)
