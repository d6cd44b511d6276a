"""Explicit due times set by plugins (a contractor's date, a milestone's day) survive the engine.

The engine recomputes due times from history on pause and resume; an explicit due
time must be kept, moved on only by the time the case spent in the policy's pause
states, and the warning must follow it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.models import CaseEvent, Deadline
from kefu.sla.cases import (
    CaseError,
    find_case,
    open_case,
    record_event,
    set_due,
    set_step,
    transition,
)
from kefu.sla.sweep import run_sweep


def local(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


def _deadline(app: Any, name: str, round_: int = 1) -> Deadline:
    with app.sessions() as s:
        return s.scalars(select(Deadline).where(Deadline.name == name, Deadline.round == round_)).one()


def _do(app: Any, number: str, func: Any, *args: Any, **kw: Any) -> Any:
    with transaction(app.sessions) as s:
        return func(app.context("slatest", s), find_case(s, number), *args, **kw)


def test_due_given_at_opening_is_kept_across_a_pause(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    with transaction(app.sessions) as s:
        number = open_case(
            app.context("slatest", s), kind="slatest.leak", unit="S01", due={"resolution": local("2026-11-02T20:00")}
        ).number
    dl = _deadline(app, "resolution")
    assert dl.due_at == local("2026-11-02T20:00")  # not the policy's 4 h (13:00)
    assert dl.next_at == local("2026-11-02T17:15")  # 75 % of 09:00 → 20:00
    clock.set(local("2026-11-02T10:00"))
    _do(app, number, transition, "waiting_customer")
    assert _deadline(app, "resolution").next_at is None
    clock.set(local("2026-11-02T12:00"))
    _do(app, number, record_event, "customer_reply", actor="customer")
    dl = _deadline(app, "resolution")
    assert dl.due_at == local("2026-11-02T22:00")  # the explicit time + the 2 h paused, not 13:00 + 2 h
    assert dl.data["fixed_due"]


def test_set_due_on_a_running_step_survives_pause_and_warns_before_it(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    with transaction(app.sessions) as s:
        number = open_case(app.context("slatest", s), kind="slatest.repair", unit="S01", step="现场查看").number
    _do(
        app,
        number,
        set_due,
        "step:现场查看",
        local("2026-11-07T17:00"),
        remind_before=timedelta(days=1),
        actor="wang",
        reason="与施工方约定",
    )
    dl = _deadline(app, "step:现场查看")
    assert (dl.due_at, dl.next_at, dl.stage) == (local("2026-11-07T17:00"), local("2026-11-06T17:00"), "pending")
    clock.set(local("2026-11-03T09:00"))
    _do(app, number, transition, "waiting_customer")
    clock.set(local("2026-11-04T09:00"))
    _do(app, number, transition, "in_progress")
    dl = _deadline(app, "step:现场查看")
    # Shifted by the 24 h paused, as wall time: the contractor's date is not working time.
    assert dl.due_at == local("2026-11-08T17:00")
    assert dl.next_at == local("2026-11-07T17:00")
    clock.set(local("2026-11-07T17:00"))
    assert run_sweep(app) == 1
    assert _deadline(app, "step:现场查看").stage == "warned"
    with app.sessions() as s:
        types = [e.type for e in s.scalars(select(CaseEvent).order_by(CaseEvent.id))]
    assert "deadline_due_set" in types


def test_set_step_with_due_at_and_a_policy_that_does_not_pause(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    with transaction(app.sessions) as s:
        number = open_case(app.context("slatest", s), kind="slatest.repair", unit="S01").number
    _do(app, number, set_step, "现场查看", due_at=local("2026-11-05T12:00"))
    assert _deadline(app, "step:现场查看").due_at == local("2026-11-05T12:00")
    _do(app, number, transition, "resolved")
    # The callback policy never pauses: a due time for it is kept as given whatever happens.
    _do(app, number, set_due, "callback", local("2026-11-20T10:00"))
    assert _deadline(app, "callback").due_at == local("2026-11-20T10:00")


def test_a_later_due_time_warns_again_and_an_unknown_deadline_is_refused(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    with transaction(app.sessions) as s:
        number = open_case(app.context("slatest", s), kind="slatest.leak", unit="S01").number
    clock.set(local("2026-11-02T12:00"))
    assert run_sweep(app) == 1  # the warning at 75 % of 4 h
    assert _deadline(app, "resolution").stage == "warned"
    _do(app, number, set_due, "resolution", local("2026-11-02T21:00"))
    dl = _deadline(app, "resolution")
    assert (dl.stage, dl.due_at, dl.next_at) == ("pending", local("2026-11-02T21:00"), local("2026-11-02T18:00"))
    with pytest.raises(CaseError, match="no running deadline 'callback'"):
        _do(app, number, set_due, "callback", local("2026-11-09T09:00"))
    with pytest.raises(ValueError, match="no deadline callback opens now"), transaction(app.sessions) as s:
        open_case(app.context("slatest", s), kind="slatest.leak", due={"callback": local("2026-11-09T09:00")})
