"""A 4 h 24x7 leak: warning, breach, and escalation through three levels, by moving the clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from kefu.db.engine import transaction
from kefu.db.models import CaseEvent, Deadline, OutboxMessage
from kefu.sla.cases import acknowledge_escalation, find_case, open_case, resolve
from kefu.sla.sweep import run_sweep


def _keys(app: Any) -> list[str]:
    with app.sessions() as s:
        return [r.idem_key for r in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def _open_leak(app: Any) -> str:
    with transaction(app.sessions) as s:
        case = open_case(app.context("slatest", s), kind="slatest.leak", title="楼道暖气漏水", unit="S01")
        return case.number


def test_leak_4h_24x7_escalates_station_branch_centre(sla_app: Any, clock: Any) -> None:
    app = sla_app()
    number = _open_leak(app)
    with app.sessions() as s:
        dl = s.scalars(select(Deadline)).one()
        assert dl.name == "resolution"
        assert dl.due_at == clock.now() + timedelta(hours=4)
        assert dl.next_at == clock.now() + timedelta(hours=3)  # warning at 75 %

    assert run_sweep(app) == 0
    clock.advance(hours=3)  # 12:00: warning to level 1 (no owner yet): the station on duty
    assert run_sweep(app) == 1
    assert _keys(app) == [f"{number}/resolution/1/L0/R0/zhang/email", f"{number}/resolution/1/L0/R0/zhang/sms"]

    clock.advance(hours=1)  # 13:00: breach → station on duty
    assert run_sweep(app) == 1
    clock.advance(hours=1)  # 14:00 → branch head
    run_sweep(app)
    clock.advance(hours=1)  # 15:00 → CS centre head (email only: no phone)
    run_sweep(app)
    keys = _keys(app)[2:]
    assert keys == [
        f"{number}/resolution/1/L1/R0/zhang/email",
        f"{number}/resolution/1/L1/R0/zhang/sms",
        f"{number}/resolution/1/L2/R0/wang/email",
        f"{number}/resolution/1/L2/R0/wang/sms",
        f"{number}/resolution/1/L3/R0/zhao/email",
    ]
    with app.sessions() as s:
        events = [(e.type, e.data.get("level")) for e in s.scalars(select(CaseEvent).order_by(CaseEvent.id))]
        assert events[1:] == [("deadline_warning", None), ("deadline_breached", 1), ("escalated", 2), ("escalated", 3)]
        rows = list(s.scalars(select(OutboxMessage)))
        # A leak is urgent: staff are told at once, not at the next working time.
        assert all(r.not_before == r.created_at and r.audience == "staff" for r in rows)

    run_sweep(app)  # nothing new at the same time: none is ever queued twice
    assert len(_keys(app)) == 7
    clock.advance(hours=1)  # 16:00 → the top level again (repeat 1)
    run_sweep(app)
    assert _keys(app)[-1] == f"{number}/resolution/1/L3/R1/zhao/email"

    with transaction(app.sessions) as s:
        acknowledge_escalation(app.context("slatest", s), find_case(s, number), actor="zhao")
    clock.advance(hours=5)
    assert run_sweep(app) == 0  # acknowledged: no more repeats
    assert len(_keys(app)) == 8


def test_night_leak_goes_to_the_night_shift(sla_app: Any, clock: Any) -> None:
    app = sla_app()
    clock.set("2026-11-02T19:00:00+08:00")
    number = _open_leak(app)
    # The daemon was away from 21:00: one sweep at 23:00 catches up the 22:00 warning and the
    # 23:00 breach, each sent to whoever the rota had on duty at its scheduled time (li, 20:00-08:00).
    clock.set("2026-11-02T23:00:00+08:00")
    assert run_sweep(app) == 2
    assert _keys(app) == [
        f"{number}/resolution/1/L0/R0/li/email",
        f"{number}/resolution/1/L0/R0/li/sms",
        f"{number}/resolution/1/L1/R0/li/email",
        f"{number}/resolution/1/L1/R0/li/sms",
    ]


def test_resolving_in_time_meets_the_deadline(sla_app: Any, clock: Any) -> None:
    app = sla_app()
    number = _open_leak(app)
    clock.advance(hours=2)
    with transaction(app.sessions) as s:
        resolve(app.context("slatest", s), find_case(s, number), actor="zhang")
    clock.advance(hours=10)
    assert run_sweep(app) == 0
    with app.sessions() as s:
        dl = s.scalars(select(Deadline)).one()
        assert (dl.state, dl.met_at) == ("met", datetime.fromisoformat("2026-11-02T11:00:00+08:00"))
    assert _keys(app) == []
