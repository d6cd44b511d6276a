"""Shared setup of the complaints tests: a project with roles, staff and a contractor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kefu.app import App
from kefu.db.engine import transaction
from kefu.plugins.complaints.imports import import_homes

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
    "roles": {
        "project_cs": ["cs"],
        "repair_engineer": ["eng"],
        "repair_manager": ["mgr"],
        "risk_control": ["risk"],
        "head": ["head"],
    },
    "projects": {"JY": {"name": "锦园", "milestones": {"sales_open": "2026-11-20"}}},
    "contractors": {
        "hengan": {
            "name": "恒安防水工程有限公司",
            "email": "jobs@hengan.example",
            "address": "北京市朝阳区某路1号",
            "contact": "王经理",
        }
    },
}


@pytest.fixture
def complaints_app(make_app: Callable[..., App]) -> App:
    """A migrated app with the complaints plugin and its staff configured."""
    return make_app(plugins=["complaints"], config={"staff": STAFF, "complaints": COMPLAINTS})


HOMES = (
    "项目编码,项目名称,楼栋,房号,业主姓名,手机,邮箱,交付日期\n"
    "JY,锦园,3,1201,张三,13800000001,zhang@example.com,2024-06-01\n"
)


@pytest.fixture
def mail_app(make_app: Callable[..., App], tmp_path: Path) -> tuple[App, Path]:
    """The complaints app reading a local Maildir (returned with it), with one owner's home imported."""
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    app = make_app(
        plugins=["complaints"],
        config={
            "staff": STAFF,
            "complaints": COMPLAINTS,
            "channels": {"maildir": {"service": {"path": str(maildir), "poll_interval": "0s"}}},
        },
    )
    with transaction(app.sessions) as s:
        import_homes(s, HOMES.encode(), app.clock.now())
    return app, maildir
