"""Shared setup of the complaints tests: a project with roles, staff and a contractor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kefu.app import App

STAFF = {
    "people": {
        "cs": {"name": "项目客服王", "email": "cs@example.com", "phone": "13900000001"},
        "eng": {"name": "维修工程师李", "email": "eng@example.com", "phone": "13900000002"},
        "mgr": {"name": "维修管理岗赵", "email": "mgr@example.com"},
        "risk": {"name": "风控钱", "email": "risk@example.com"},
        "head": {"name": "客服负责人孙", "email": "head@example.com"},
    },
}
COMPLAINTS: dict[str, Any] = {
    "roles": {"project_cs": ["cs"], "repair_engineer": ["eng"], "repair_manager": ["mgr"],
              "risk_control": ["risk"], "head": ["head"]},
    "projects": {"JY": {"name": "锦园", "milestones": {"sales_open": "2026-11-20"}}},
    "contractors": {"hengan": {"name": "恒安防水工程有限公司", "email": "jobs@hengan.example",
                               "address": "北京市朝阳区某路1号", "contact": "王经理"}},
}


@pytest.fixture
def complaints_app(make_app: Callable[..., App]) -> App:
    """A migrated app with the complaints plugin and its staff configured."""
    return make_app(plugins=["complaints"], config={"staff": STAFF, "complaints": COMPLAINTS})
