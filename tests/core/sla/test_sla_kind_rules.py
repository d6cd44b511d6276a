"""What a kind declares beyond its deadlines: a guard on state changes, and who its chain targets mean.

The guard is asked on every path — the core ``kefu cases`` commands included — and
its reason is the refusal's message. Chain targets can name per-unit roles
(``repair_manager@{unit}``) or be answered by the kind's ``resolve_role``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from kefu.clock import FakeClock
from kefu.context import PluginContext
from kefu.db.engine import transaction
from kefu.db.models import Case, CaseEvent, OutboxMessage
from kefu.hookspecs import hookimpl
from kefu.kinds import CaseKind, DeadlinePolicy
from kefu.sla.cases import TransitionRefused, find_case, open_case, record_event, resolve
from kefu.sla.sweep import run_sweep


def _acceptance_guard(case: Case, to_state: str) -> str | None:
    """The complaints rule: a repair with a contractor's job closes only after its 收方/验收."""
    pending = case.data.get("acceptance_pending") or []
    if to_state in ("resolved", "closed") and pending:
        return f"收方验收 outstanding for {', '.join(pending)}: record the acceptance first"
    return None


PROJECT_MANAGERS = {"P01": ["wang"], "P02": ["zhao"]}


def _project_roles(role: str, case: Case, ctx: PluginContext) -> list[str] | None:
    """Per-project holders kept in the plugin's own config; other targets resolve as usual."""
    if role == "repair_manager":
        return PROJECT_MANAGERS.get(case.unit or "", ["cs_head"])
    return None


class RulesPlugin:
    """The test plugin (``base``) with the guard and per-project chains added to its kinds."""

    def __init__(self, base: Any) -> None:
        self.base = base

    @hookimpl
    def kefu_config_section(self) -> Any:
        return self.base.kefu_config_section()

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> list[CaseKind]:
        kinds = {k.name: k for k in self.base.kefu_case_kinds(ctx)}
        return [
            replace(kinds["slatest.repair"], guard=_acceptance_guard),
            CaseKind(
                name="slatest.project",
                title="项目报修",
                prefix="XM",
                urgent=True,
                resolve_role=_project_roles,
                policies=(DeadlinePolicy.resolution("1h", chain=("repair_manager", "branch_head")),),
            ),
            CaseKind(
                name="slatest.unitrole",
                title="按项目角色",
                prefix="JS",
                urgent=True,
                policies=(DeadlinePolicy.resolution("1h", chain=("repair_manager@{unit}",)),),
            ),
        ]


@pytest.fixture
def plugin(plugin: Any) -> Any:
    """The rules plugin in place of the plain test plugin."""
    return RulesPlugin(plugin)


def _cli(app: Any, *args: str) -> Result:
    from kefu.cli.main import cli

    return CliRunner().invoke(cli, ["cases", *args], obj={"app": app})


def _open(app: Any, kind: str, unit: str = "S01", **data: Any) -> str:
    with transaction(app.sessions) as s:
        return open_case(app.context("slatest", s), kind=kind, title="报修", unit=unit, data=data).number


def _case(app: Any, number: str) -> tuple[str, int]:
    with app.sessions() as s:
        case = find_case(s, number)
        events = s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id))
        return case.state, events or 0


def test_guard_refuses_closing_through_the_cli_until_the_acceptance(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    number = _open(app, "slatest.repair", acceptance_pending=["WX-2026-000001"])
    before = _case(app, number)
    for command in ("close", "resolve"):
        result = _cli(app, command, number, "--by", "wang")
        assert result.exit_code == 1, result.output
        assert (
            f"case {number}: cannot go from 'new' to '{'closed' if command == 'close' else 'resolved'}'"
            in result.output
        )
        assert "收方验收 outstanding for WX-2026-000001: record the acceptance first" in result.output
    assert _case(app, number) == before  # refused: no event, no state change
    # Moves the guard does not object to go through.
    assert _cli(app, "assign", number, "wang").exit_code == 0
    with transaction(app.sessions) as s:
        case = find_case(s, number)
        case.data = {**case.data, "acceptance_pending": []}
    assert _cli(app, "close", number, "--by", "wang").exit_code == 0
    assert _case(app, number)[0] == "closed"


def test_guard_applies_to_plugins_and_intake_too(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    number = _open(app, "slatest.repair", acceptance_pending=["WX-2026-000002"])
    with pytest.raises(TransitionRefused, match="收方验收 outstanding"), transaction(app.sessions) as s:
        resolve(app.context("slatest", s), find_case(s, number))
    assert _case(app, number)[0] == "new"
    # A guard that raises refuses the move rather than letting it through unchecked.
    failing = CaseKind(name="slatest.repair", title="报修", prefix="BX", guard=lambda case, to: 1 / 0)
    app.kinds["slatest.repair"] = failing
    with pytest.raises(TransitionRefused, match="ZeroDivisionError"), transaction(app.sessions) as s:
        record_event(app.context("slatest", s), find_case(s, number), "state", to_state="closed")


def _recipients(app: Any) -> list[str]:
    with app.sessions() as s:
        return [m.recipient for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_resolve_role_gives_each_project_its_own_manager(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()  # "repair_manager" is in no [staff.roles]: the plugin answers for it at start too
    _open(app, "slatest.project", unit="P01")
    _open(app, "slatest.project", unit="P02")
    _open(app, "slatest.project", unit="P99")  # no holder for the project: the plugin's fallback role
    clock.advance(hours=1)
    run_sweep(app)
    # The warning (no owner yet: the chain's first level) and the breach, each to the project's manager.
    assert _recipients(app) == ["wang@example.cn", "zhao@example.cn", "zhao@example.cn"] * 2
    clock.advance(hours=1)
    run_sweep(app)  # level 2 is an ordinary role, resolved through [staff.roles]
    assert _recipients(app)[6:] == ["wang@example.cn"] * 3


def test_roles_named_per_unit_need_no_function(sla_app: Any, sla_staff: dict[str, Any], clock: FakeClock) -> None:
    sla_staff["roles"].update({"repair_manager@P01": ["wang"], "repair_manager@P02": ["zhao"]})
    app = sla_app({"staff": sla_staff})
    _open(app, "slatest.unitrole", unit="P01")
    _open(app, "slatest.unitrole", unit="P02")
    clock.advance(hours=1)
    run_sweep(app)
    assert sorted(_recipients(app)) == ["wang@example.cn"] * 2 + ["zhao@example.cn"] * 2  # warning, breach
