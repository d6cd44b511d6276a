"""The lifecycle: workday deadlines around National Day, a year from config, pause/resume, reopen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.models import Deadline
from kefu.sla.cases import (
    assign,
    find_case,
    open_case,
    record_callback,
    record_event,
    reopen,
    resolve,
    set_step,
    transition,
)
from kefu.sla.lifecycle import IllegalTransition
from kefu.sla.sweep import run_sweep


def _deadlines(app: Any) -> dict[tuple[str, int], Deadline]:
    with app.sessions() as s:
        return {(d.name, d.round): d for d in s.scalars(select(Deadline))}


def _open(app: Any, kind: str = "slatest.repair", **kw: Any) -> str:
    with transaction(app.sessions) as s:
        return open_case(app.context("slatest", s), kind=kind, title="报修", unit="S01", **kw).number


def _do(app: Any, number: str, func: Any, *args: Any, **kw: Any) -> Any:
    with transaction(app.sessions) as s:
        return func(app.context("slatest", s), find_case(s, number), *args, **kw)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


def test_workday_deadline_into_a_year_from_config(sla_app: Any, clock: FakeClock) -> None:
    clock.set(local("2026-12-31T16:30"))
    app = sla_app(
        {
            "calendar": {
                "years": {"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-01-02"], "source": "test notice"}}
            }
        }
    )
    assert not [w for w in app.warnings if "2027" in w]
    _open(app)
    assert _deadlines(app)[("first_response", 1)].due_at == local("2027-01-02T09:30")


def test_year_the_package_lacks_warns_at_start_and_never_crashes(sla_app: Any, clock: FakeClock) -> None:
    clock.set(local("2026-12-31T16:30"))
    app = sla_app()
    assert any("no holiday data for 2027" in w and "[calendar.years.2027]" in w for w in app.warnings)
    _open(app)
    assert _deadlines(app)[("first_response", 1)].due_at == local("2027-01-01T09:30")


def test_waiting_on_the_customer_pauses_and_a_reply_resumes(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    number = _open(app, kind="slatest.leak")  # 09:00, 4 h 24x7 → 13:00
    clock.set(local("2026-11-02T10:00"))
    _do(app, number, transition, "waiting_customer", actor="zhang", reason="等用户开门")
    dl = _deadlines(app)[("resolution", 1)]
    assert dl.next_at is None and dl.state == "open"
    clock.set(local("2026-11-02T13:30"))
    assert run_sweep(app) == 0  # paused: not breached
    clock.set(local("2026-11-02T14:00"))
    _do(app, number, record_event, "customer_reply", actor="customer")
    with app.sessions() as s:
        case = find_case(s, number)
        assert case.state == "in_progress"
    dl = _deadlines(app)[("resolution", 1)]
    assert dl.due_at == local("2026-11-02T17:00")  # 13:00 + the 4 h paused
    assert dl.next_at == local("2026-11-02T16:00")


def test_unsatisfied_callback_reopens_until_satisfied(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    number = _open(app)
    _do(app, number, assign, "zhang", actor="wang")
    _do(app, number, set_step, "现场查看", actor="zhang")
    assert ("step:现场查看", 1) in _deadlines(app)
    _do(app, number, resolve, actor="zhang")
    d = _deadlines(app)
    assert d[("callback", 1)].state == "open" and d[("resolution", 1)].state == "met"
    assert d[("step:现场查看", 1)].state == "met"
    _do(app, number, record_callback, 2, actor="cs")
    with app.sessions() as s:
        case = find_case(s, number)
        assert (case.state, case.satisfaction) == ("assigned", 2)
    d = _deadlines(app)
    assert d[("callback", 1)].state == "met"
    assert d[("resolution", 2)].state == "open"
    _do(app, number, resolve, actor="zhang")
    _do(app, number, record_callback, 5, actor="cs")
    with app.sessions() as s:
        assert find_case(s, number).state == "closed"
    assert all(dl.state == "met" for dl in _deadlines(app).values())


def test_reply_to_a_closed_case_reopens_it_when_the_kind_says_so(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    number = _open(app)
    _do(app, number, transition, "closed", actor="wang", reason="重复")
    _do(app, number, record_event, "customer_reply", actor="customer")
    with app.sessions() as s:
        assert find_case(s, number).state == "new"
    assert ("first_response", 2) in _deadlines(app)


def test_illegal_transitions_are_refused_with_what_is_allowed(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    number = _open(app)
    with pytest.raises(IllegalTransition, match=r"cannot go from 'new' to 'callback'.*allowed from 'new'"):
        _do(app, number, transition, "callback")
    _do(app, number, transition, "closed")
    with pytest.raises(IllegalTransition, match="reopen it"):
        _do(app, number, transition, "resolved")
    _do(app, number, reopen)  # reopen from closed goes back to triage: allowed
    with pytest.raises(IllegalTransition):
        _do(app, number, transition, "bogus")
