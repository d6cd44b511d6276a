"""The deadline sweep: claim what is due by index, hand each to its plugin, else the default chain.

Only ``deadlines`` rows with ``state = 'open' AND next_at <= now`` are read (the
``(state, next_at)`` index), so the cost follows what is due, not how many cases
exist. A batch is claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
daemons never take the same deadline; on SQLite writers are serialised by
``BEGIN IMMEDIATE``. Each deadline's work (its new stage, its events, its outbox
rows) commits with the claim, so a crash repeats nothing and loses nothing.

Each deadline is isolated: the batch first runs inside one savepoint, and only if
some deadline fails is it rolled back and run again one savepoint per deadline,
so the failing one is rolled back alone (the same outcome, at the cost of
per-row savepoints only when something actually fails).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from kefu.app import App
from kefu.db.engine import is_postgres, transaction
from kefu.db.models import Case, CaseEvent, Deadline
from kefu.sla.escalation import apply_default, notify_level

log = logging.getLogger("kefu.sla")
_MAX_ROUNDS = 1000  # batches per sweep; catch-up after downtime ends well before this
_MAX_BACKOFF = timedelta(hours=1)


class _DeadlineFailed(Exception):
    def __init__(self, deadline_id: int, exc: BaseException) -> None:
        self.deadline_id, self.original = deadline_id, exc
        super().__init__(f"deadline {deadline_id}: {exc}")


def run_sweep(app: App) -> int:
    """Handle every deadline due by now; return how many were handled."""
    total = 0
    for _ in range(_MAX_ROUNDS):
        done = sweep_batch(app)
        total += done
        if done == 0:
            break
    return total


def claim_due(session: Session, now: datetime, limit: int) -> list[Deadline]:
    """Lock and return up to ``limit`` due open deadlines, earliest first (skipping others' locks)."""
    query = (
        select(Deadline)
        .where(Deadline.state == "open", Deadline.next_at <= now)
        .order_by(Deadline.next_at)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def sweep_batch(app: App) -> int:
    """Claim one batch of due deadlines and handle it in one transaction; returns how many."""
    with transaction(app.sessions) as session:
        now = app.clock.now()
        rows = claim_due(session, now, app.settings.sla.sweep_batch)
        if not rows:
            return 0
        ids = [row.id for row in rows]
        cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_({r.case_id for r in rows})))}
        finished: list[int] = []
        try:
            with session.begin_nested():
                for row in rows:
                    _handle(app, session, row, cases[row.case_id], finished)
                _mark_finished(session, finished)
        except _DeadlineFailed:
            finished.clear()
            for deadline_id in ids:
                row = session.get_one(Deadline, deadline_id)
                case = session.get_one(Case, row.case_id)
                try:
                    with session.begin_nested():
                        _handle(app, session, row, case, finished)
                        _mark_finished(session, finished)
                except _DeadlineFailed as failed:
                    _record_failure(app, session, row, case, failed.original)
                finished.clear()
        return len(rows)


def _mark_finished(session: Session, ids: list[int]) -> None:
    # Deadlines their plugin handled completely are cleared in one statement, not one UPDATE each.
    if ids:
        session.execute(update(Deadline).where(Deadline.id.in_(ids)).values(next_at=None, failures=0),
                        execution_options={"synchronize_session": False})


def _handle(app: App, session: Session, row: Deadline, case: Case, finished: list[int]) -> None:
    kind = app.kinds.get(case.kind)
    policy = kind.policy(row.name) if kind else None
    ctx = app.context(row.plugin, session)
    scheduled = row.next_at
    try:
        if not (row.data or {}).get("hook_flagged"):
            handled = app.host.call_one("kefu_deadline_due", row.plugin, deadline=row, case=case, ctx=ctx)
            if handled is True:
                if row.next_at == scheduled:
                    # The plugin handled it and asked for nothing more: cleared in bulk below,
                    # and the loaded row is told so without making it dirty.
                    set_committed_value(row, "next_at", None)
                    set_committed_value(row, "failures", 0)
                    finished.append(row.id)
                elif row.failures:
                    row.failures = 0
                return
        if kind is None or policy is None:
            log.warning("case %s: deadline %s has no policy in the current config; left alone",
                        case.number, row.name)
            row.next_at = None
            return
        apply_default(ctx, row, case, kind, policy)
        row.failures = 0
    except Exception as exc:
        raise _DeadlineFailed(row.id, exc) from exc


def _record_failure(app: App, session: Session, row: Deadline, case: Case, exc: BaseException) -> None:
    """Back off a failing deadline; after ``[sla] hook_max_failures`` flag it to staff and go on without the hook."""
    sla = app.settings.sla
    now = app.clock.now()
    row.failures += 1
    log.error("case %s deadline %s failed (%d): %s", case.number, row.name, row.failures, exc)
    session.add(CaseEvent(case_id=case.id, at=now, actor="system", type="deadline_error",
                          reason=f"{type(exc).__name__}: {exc}", data={"deadline": row.name, "failures": row.failures}))
    if row.failures >= sla.hook_max_failures and not (row.data or {}).get("hook_flagged"):
        row.data = {**(row.data or {}), "hook_flagged": True}
        row.next_at = now  # the next sweep applies the core's chain without the plugin's hook
        kind = app.kinds.get(case.kind)
        policy = kind.policy(row.name) if kind else None
        if policy is not None and policy.chain:
            try:
                with session.begin_nested():
                    notify_level(app.context(row.plugin, session), case, row, policy, policy.chain[0],
                                 level_no=0, template="core/deadline_failed.txt", at=now, purpose="failure",
                                 key_part=f"failed{row.failures}")
            except Exception:
                log.exception("case %s: could not flag the failing deadline %s to staff", case.number, row.name)
        session.add(CaseEvent(case_id=case.id, at=now, actor="system", type="deadline_flagged",
                              reason=f"{row.failures} failures; the core chain takes over",
                              data={"deadline": row.name}))
    else:
        row.next_at = now + min(sla.hook_retry * (2 ** (row.failures - 1)), _MAX_BACKOFF)
    session.flush()
