"""`kefu cases assign|step|resolve|callback|close|reopen|ack` against a real database.

Each move is an event with the actor (--by) and the reason; a move the lifecycle
forbids is refused with a message that says what is allowed, and writes nothing.
"""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import func, select

from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.models import CaseEvent, Deadline
from kefu.sla.cases import find_case, open_case
from kefu.sla.sweep import run_sweep


def _cli(app: Any, *args: str) -> Result:
    from kefu.cli.main import cli

    return CliRunner().invoke(cli, ["cases", *args], obj={"app": app})


def _open(app: Any, kind: str) -> str:
    with transaction(app.sessions) as s:
        return open_case(app.context("slatest", s), kind=kind, title="报修", unit="S01").number


def _state(app: Any, number: str) -> tuple[str, str | None, str | None]:
    with app.sessions() as s:
        case = find_case(s, number)
        return case.state, case.step, case.owner


def _last_events(app: Any, number: str, count: int) -> list[tuple[str, str, str | None, str | None]]:
    with app.sessions() as s:
        case = find_case(s, number)
        events = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc()).limit(count)
        ).all()
        return [(e.type, e.actor, e.reason, e.to_state) for e in reversed(events)]


def _event_count(app: Any) -> int:
    with app.sessions() as s:
        return s.scalar(select(func.count()).select_from(CaseEvent)) or 0


def _refused(app: Any, args: list[str], *fragments: str) -> None:
    before = _event_count(app)
    result = _cli(app, *args)
    assert result.exit_code == 1, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    assert _event_count(app) == before  # the refused move wrote nothing


def test_write_commands_record_events_with_actor_and_reason(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    number = _open(app, "slatest.repair")

    result = _cli(app, "assign", number, "wang", "--by", "zhang", "--reason", "片区负责")
    assert result.exit_code == 0, result.output
    assert f"{number}: assigned" in result.output
    assert _state(app, number) == ("assigned", None, "wang")
    assert _last_events(app, number, 1) == [("assigned", "zhang", "片区负责", "assigned")]

    clock.advance(hours=1)
    assert _cli(app, "step", number, "现场查看", "--by", "wang", "--reason", "上门查看").exit_code == 0
    assert _state(app, number) == ("in_progress", "现场查看", "wang")
    assert _last_events(app, number, 1) == [("step", "wang", "上门查看", "in_progress")]

    assert _cli(app, "resolve", number, "--by", "wang", "--reason", "已修复").exit_code == 0
    assert _state(app, number)[0] == "resolved"

    result = _cli(app, "callback", number, "2", "--by", "zhao", "--reason", "客户说还漏")
    assert result.exit_code == 0, result.output
    assert _state(app, number)[0] == "assigned"  # unsatisfied: back to its owner
    assert _last_events(app, number, 2) == [
        ("callback_answered", "zhao", "客户说还漏", None),
        ("reopened", "zhao", "回访不满意 (2)", "assigned"),
    ]

    assert _cli(app, "resolve", number, "--by", "wang").exit_code == 0
    assert _cli(app, "close", number, "--by", "zhao", "--reason", "回访满意").exit_code == 0
    assert _state(app, number)[0] == "closed"
    assert _last_events(app, number, 1) == [("closed", "zhao", "回访满意", "closed")]

    assert _cli(app, "reopen", number, "--by", "zhao", "--reason", "复发").exit_code == 0
    assert _state(app, number)[0] == "assigned"
    assert _last_events(app, number, 1) == [("reopened", "zhao", "复发", "assigned")]
    with app.sessions() as s:
        rounds = {(d.name, d.round, d.state) for d in s.scalars(select(Deadline))}
    assert ("resolution", 3, "open") in rounds  # each reopening starts a new round


def test_write_commands_refuse_illegal_moves_with_a_clear_message(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    number = _open(app, "slatest.repair")
    _refused(app, ["step", number, "喝茶"], "unknown step '喝茶'", "steps of slatest.repair: 沟通联系, 现场查看")
    _refused(app, ["assign", number, "nobody"], "'nobody' is not in [staff.people]")
    _refused(app, ["callback", number, "5"], f"case {number} is new; a callback answer needs a resolved case")
    _refused(app, ["reopen", number], f"case {number} is new, still open; only a resolved, callback or closed")
    _refused(app, ["close", "BX-2026-999999"], "no case 'BX-2026-999999' (see `kefu cases list`)")
    assert _cli(app, "close", number, "--by", "zhao", "--reason", "重复报事").exit_code == 0
    _refused(
        app,
        ["resolve", number],
        f"case {number}: cannot go from 'closed' to 'resolved'",
        "allowed from 'closed': none (or reopen it)",
    )
    _refused(app, ["assign", number, "wang"], f"case {number} is closed; reopen it before assigning it")
    _refused(app, ["step", number, "现场查看"], "reopen it before changing its step")
    bad_score = _cli(app, "callback", number, "9")
    assert bad_score.exit_code == 2 and "9 is not in the range 1<=x<=5" in bad_score.output
    assert _state(app, number)[0] == "closed"


def test_ack_stops_the_repeats_of_a_breached_deadline(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    number = _open(app, "slatest.leak")
    clock.advance(hours=5)  # warning, breach (level 1) and level 2 are due
    run_sweep(app)
    with app.sessions() as s:
        deadline = s.scalars(select(Deadline)).one()
        assert deadline.stage == "breached" and deadline.next_at is not None
    result = _cli(app, "ack", number, "--by", "wang", "--reason", "已派人抢修")
    assert result.exit_code == 0, result.output
    assert _last_events(app, number, 1) == [("escalation_acknowledged", "wang", "已派人抢修", None)]
    with app.sessions() as s:
        deadline = s.scalars(select(Deadline)).one()
        assert (deadline.stage, deadline.next_at) == ("acknowledged", None)
    clock.advance(hours=3)
    before = _event_count(app)
    assert run_sweep(app) == 0  # no more repeats
    assert _event_count(app) == before
