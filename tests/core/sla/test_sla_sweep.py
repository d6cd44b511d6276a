"""The sweep: two daemons never double-escalate; a failing plugin hook backs off, then is flagged."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from sqlalchemy import select

from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.models import CaseEvent, Deadline, OutboxMessage
from kefu.sla.cases import open_case
from kefu.sla.sweep import run_sweep


def test_two_daemons_never_double_escalate(sla_app: Any, clock: FakeClock) -> None:
    """On PostgreSQL the claims skip each other's locked rows; on SQLite writers queue."""
    config = {"sla": {"sweep_batch": 3}}
    first, second = sla_app(config), sla_app(config)
    with transaction(first.sessions) as s:
        ctx = first.context("slatest", s)
        for i in range(40):
            open_case(ctx, kind="slatest.leak", title=f"漏水 {i}", unit="S01")
    clock.advance(hours=5)  # each: warning (12:00), breach (13:00) and level 2 (14:00) are due
    handled: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def daemon(app: Any) -> None:
        barrier.wait()
        try:
            handled.append(run_sweep(app))
        except BaseException as exc:  # reported below, with the thread's traceback lost otherwise
            errors.append(exc)

    threads = [threading.Thread(target=daemon, args=(app,)) for app in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(handled) == 40 * 3  # warning, breach, level 2 — each once
    with first.sessions() as s:
        events = Counter(
            (e.case_id, e.type, e.data.get("level"))
            for e in s.scalars(select(CaseEvent))
            if e.type in ("deadline_warning", "deadline_breached", "escalated")
        )
        assert set(events.values()) == {1} and len(events) == 40 * 3
        keys = [r.idem_key for r in s.scalars(select(OutboxMessage))]
        assert len(keys) == len(set(keys)) == 40 * (2 + 2 + 2)


def test_plugin_that_handles_its_deadline_replaces_the_default_chain(
    sla_app: Any, plugin: Any, clock: FakeClock
) -> None:
    plugin.handled = True
    app = sla_app()
    with transaction(app.sessions) as s:
        number = open_case(app.context("slatest", s), kind="slatest.leak", unit="S01").number
    clock.advance(hours=3)
    assert run_sweep(app) == 1
    assert plugin.calls == [f"{number}/resolution"]
    with app.sessions() as s:
        assert s.scalars(select(OutboxMessage)).all() == []
        assert s.scalars(select(Deadline)).one().next_at is None


def test_failing_hook_backs_off_then_is_flagged_and_the_core_chain_goes_on(
    sla_app: Any, plugin: Any, clock: FakeClock
) -> None:
    plugin.fail = True
    app = sla_app({"sla": {"hook_max_failures": 3}})
    with transaction(app.sessions) as s:
        ctx = app.context("slatest", s)
        number = open_case(ctx, kind="slatest.leak", unit="S01").number
        other = open_case(ctx, kind="slatest.leak", unit="S01").number
    clock.advance(hours=3)
    assert run_sweep(app) == 2
    with app.sessions() as s:
        rows = {d.case.number: d for d in s.scalars(select(Deadline))}
        assert rows[number].failures == 1 and rows[other].failures == 1
        first_retry = rows[number].next_at
    assert first_retry == clock.now() + app.settings.sla.hook_retry
    clock.advance(minutes=1)
    run_sweep(app)  # second failure: retry after 2 minutes
    clock.advance(minutes=2)
    run_sweep(app)  # third: flagged, and the same sweep runs the core's chain without the hook
    with app.sessions() as s:
        types = [e.type for e in s.scalars(select(CaseEvent).order_by(CaseEvent.id))]
        assert types.count("deadline_error") == 6
        assert types.count("deadline_flagged") == 2
        assert types.count("deadline_warning") == 2
        keys = {r.idem_key for r in s.scalars(select(OutboxMessage))}
    assert f"{number}/resolution/1/failed3/zhang/email" in keys
    assert f"{number}/resolution/1/L0/R0/zhang/email" in keys
