"""The sweep hands ``kefu_deadline_due`` only the arguments its implementation names, as pluggy does."""

from __future__ import annotations

from typing import Any

from kefu.clock import FakeClock
from kefu.context import PluginContext
from kefu.db.engine import transaction
from kefu.hookspecs import hookimpl
from kefu.kinds import CaseKind, DeadlinePolicy
from kefu.sla.cases import open_case
from kefu.sla.sweep import run_sweep


class _Kinds:
    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> list[CaseKind]:
        return [CaseKind(name="args.task", title="task", prefix="AR", policies=(DeadlinePolicy.resolution("1h"),))]


class DeadlineOnly(_Kinds):
    @hookimpl
    def kefu_deadline_due(self, deadline: Any) -> bool:
        self.calls.append(deadline.name)
        return True


class WholeSpecReordered(_Kinds):
    @hookimpl
    def kefu_deadline_due(self, ctx: PluginContext, case: Any, deadline: Any) -> bool:
        self.calls.append(f"{case.number}/{deadline.name}/{ctx.name}")
        return True


def _sweep_one(make_app: Any, plugin: _Kinds, clock: FakeClock) -> str:
    app = make_app(plugins=["args"], extra_plugins={"args": plugin})
    with transaction(app.sessions) as s:
        number: str = open_case(app.context("args", s), kind="args.task").number
    clock.advance(hours=2)
    assert run_sweep(app) == 1
    return number


def test_a_hook_taking_only_the_deadline_gets_only_the_deadline(make_app: Any, clock: FakeClock) -> None:
    plugin = DeadlineOnly()
    _sweep_one(make_app, plugin, clock)
    assert plugin.calls == ["resolution"]


def test_a_hook_taking_every_argument_in_another_order_gets_each_by_name(make_app: Any, clock: FakeClock) -> None:
    plugin = WholeSpecReordered()
    number = _sweep_one(make_app, plugin, clock)
    assert plugin.calls == [f"{number}/resolution/args"]
