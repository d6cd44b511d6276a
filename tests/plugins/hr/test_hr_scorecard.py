"""Repair engineer assessment: the complaints plugin's per-engineer KPIs become the engineer's
monthly scorecard on the sheet, read through ``ctx.kpis`` (no import of the other plugin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kefu.app import App
from kefu.db.engine import transaction
from kefu.plugins.hr import sheet
from kefu.testing.fixtures import merge

from .conftest import HR, STAFF, at, in_tx

COMPLAINTS_STAFF = {
    "people": {
        "cs": {"name": "项目客服王", "email": "cs@example.com"},
        "eng": {"name": "维修工程师李", "email": "eng@example.com", "phone": "13900000002"},
        "mgr": {"name": "维修管理岗赵", "email": "mgr@example.com"},
        "head": {"name": "客服负责人孙", "email": "head@example.com"},
    }
}
COMPLAINTS = {
    "roles": {
        "project_cs": ["cs"],
        "repair_engineer": ["eng"],
        "repair_manager": ["mgr"],
        "risk_control": ["mgr"],
        "head": ["head"],
    },
    "projects": {"JY": {"name": "锦园"}},
}


def test_complaints_engineer_kpis_become_the_engineers_scorecard(make_app: Callable[..., App], clock: Any) -> None:
    # "eng" is one person: the repair engineer of complaints and an employee on the attendance sheet
    hr = merge(HR, {"employees": {"eng": {"name": "维修工程师李", "department": "cs", "salary": "5000"}}})
    app = make_app(
        plugins=["hr", "complaints"],
        config={"staff": merge(STAFF, COMPLAINTS_STAFF), "hr": hr, "complaints": COMPLAINTS},
    )
    clock.set(at("2026-09-03 10:00"))
    with transaction(app.sessions) as session:
        ctx = app.context("complaints", session)
        for title in ("卫生间漏水", "门锁损坏"):
            case = ctx.open_case(kind="repair", title=title, unit="JY", owner="eng")
        ctx.resolve(case, actor="eng")
    clock.set(at("2026-09-30 20:00"))
    rows = in_tx(app, lambda c: {r["employee"]: r for r in sheet.build(c, "2026-09").rows})
    (card,) = rows["eng"]["scorecard"]
    assert card["plugin"] == "complaints" and (card["opened"], card["closed"]) == (2, 1) and card["closure_rate"] == 0.5


def test_scorecards_off_leaves_them_out(make_app: Callable[..., App], clock: Any) -> None:
    hr = merge(HR, {"employees": {"eng": {"name": "维修工程师李"}}, "sheet": {"approver": "boss", "scorecards": False}})
    app = make_app(
        plugins=["hr", "complaints"],
        config={"staff": merge(STAFF, COMPLAINTS_STAFF), "hr": hr, "complaints": COMPLAINTS},
    )
    with transaction(app.sessions) as session:
        app.context("complaints", session).open_case(kind="repair", title="漏水", unit="JY", owner="eng")
    rows = in_tx(app, lambda c: {r["employee"]: r for r in sheet.build(c, "2026-11").rows})
    assert rows["eng"]["scorecard"] == []
