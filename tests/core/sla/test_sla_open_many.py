"""Opening many cases at once: the same cases, numbers, events and deadlines as one by one."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kefu.clock import FakeClock
from kefu.context import PluginContext
from kefu.db.engine import transaction
from kefu.db.models import Case, CaseEvent, Deadline
from kefu.hookspecs import hookimpl
from kefu.sla.cases import NewCase, open_case, open_cases


class TellingPlugin:
    """The SLA test plugin's kinds, and a ``kefu_case_opened`` that marks each case it is told
    about and fails for a case titled ``boom``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @hookimpl
    def kefu_config_section(self) -> Any:
        return self.inner.kefu_config_section()

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> Any:
        return self.inner.kefu_case_kinds(ctx)

    @hookimpl
    def kefu_case_opened(self, case: Case, ctx: PluginContext) -> None:
        if case.title == "boom":
            raise RuntimeError("plugin bug")
        case.data = {**case.data, "told": True}


@pytest.fixture
def app(make_app: Any, clock: FakeClock, plugin: Any, sla_staff: dict[str, Any]) -> Any:
    clock.set("2026-11-02T09:00:00+08:00")
    return make_app(plugins=["slatest"], config={"staff": sla_staff}, extra_plugins={"slatest": TellingPlugin(plugin)})


def _picture(session: Any, case: Case) -> tuple[Any, ...]:
    """What a case looks like in the database, without ids and numbers."""
    events = [
        (e.type, e.actor, e.to_state, e.reason, e.data)
        for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
    ]
    deadlines = [
        (d.name, d.round, d.state, d.due_at, d.next_at, d.stage, d.data)
        for d in session.scalars(select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.id))
    ]
    return (case.kind, case.state, case.title, case.urgent, case.unit, case.owner, case.data, events, deadlines)


def test_a_batch_opens_what_one_by_one_opens_with_numbers_in_order(app: Any) -> None:
    new = [
        NewCase(kind="slatest.leak", title="漏水", unit="S01", actor="customer", reason="mail"),
        NewCase(kind="slatest.repair", title="报修", unit="S02", owner="wang"),
        NewCase(kind="slatest.leak", title="跑水", urgent=False, data={"account": "A1"}),
    ]
    with transaction(app.sessions) as s:
        ctx = app.context("slatest", s)
        batch = open_cases(ctx, new)
        single = [open_case(ctx, **vars(spec)) for spec in new]
        assert [c.number for c in batch + single] == [
            "HT-2026-000001",
            "BX-2026-000001",
            "HT-2026-000002",
            "HT-2026-000003",
            "BX-2026-000002",
            "HT-2026-000004",
        ]
        assert [_picture(s, c) for c in batch] == [_picture(s, c) for c in single]
        assert all(c.data["told"] for c in batch)
        assert {d.name for d in s.scalars(select(Deadline).where(Deadline.case_id == batch[1].id))} == {
            "first_response",
            "resolution",
        }


def test_a_failing_hook_is_recorded_on_its_case_and_the_others_are_still_told(app: Any) -> None:
    with transaction(app.sessions) as s:
        cases = open_cases(
            app.context("slatest", s),
            [
                NewCase(kind="slatest.leak", title="一"),
                NewCase(kind="slatest.leak", title="boom"),
                NewCase(kind="slatest.leak", title="三"),
            ],
        )
        numbers = [c.number for c in cases]
    with app.sessions() as s:
        by_number = {c.number: c for c in s.scalars(select(Case))}
        told = [by_number[n].data.get("told", False) for n in numbers]
        errors = [e.case_id for e in s.scalars(select(CaseEvent).where(CaseEvent.type == "plugin_error"))]
    assert told == [True, False, True]
    assert errors == [by_number[numbers[1]].id]


def test_an_unknown_kind_or_step_opens_none_of_the_batch(app: Any) -> None:
    with transaction(app.sessions) as s:
        ctx = app.context("slatest", s)
        with pytest.raises(ValueError, match=r"unknown case kind 'slatest\.nope'"):
            open_cases(ctx, [NewCase(kind="slatest.leak"), NewCase(kind="slatest.nope")])
        with pytest.raises(ValueError, match="unknown step"):
            open_cases(ctx, [NewCase(kind="slatest.leak"), NewCase(kind="slatest.repair", step="飞行")])
        assert s.scalars(select(Case)).all() == []
