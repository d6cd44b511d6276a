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

The hot path is kept to what the guarantees need: one query claims the due
deadlines and loads their cases with them, the owner hooks are looked up once
per plugin, the deadlines a plugin finished are cleared in one UPDATE whose id
list is one bound parameter, and the cyclic garbage collector waits until the
batch is done (see :mod:`kefu.collector`).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, contains_eager

from kefu.app import App
from kefu.collector import collector_paused
from kefu.context import PluginContext
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


class _Batch:
    """What every deadline of one batch shares: the session and one context per plugin."""

    def __init__(self, app: App, session: Session) -> None:
        self.app, self.session = app, session
        self._contexts: dict[str, PluginContext[Any]] = {}

    def context(self, plugin: str) -> PluginContext[Any]:
        """The plugin's context, bound to the batch's session (one per plugin, not one per deadline)."""
        ctx = self._contexts.get(plugin)
        if ctx is None:
            ctx = self._contexts[plugin] = self.app.context(plugin, self.session)
        return ctx

    def call_hook(self, plugin: str, deadline: Deadline, case: Case) -> Any:
        """The owner's ``kefu_deadline_due`` answer (None if it has none); PluginError if it raises."""
        return self.app.calls.deadline_due(deadline, case, self.context(plugin))


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
    """Lock and return up to ``limit`` due open deadlines, earliest first (skipping others' locks).

    Each deadline's ``case`` is loaded by the same query (only the deadline rows are locked).
    """
    query = (
        select(Deadline)
        .join(Deadline.case)
        .options(contains_eager(Deadline.case))
        .where(Deadline.state == "open", Deadline.next_at <= now)
        .order_by(Deadline.next_at)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True, of=Deadline)
    return list(session.scalars(query))


def sweep_batch(app: App) -> int:
    """Claim one batch of due deadlines and handle it in one transaction; returns how many."""
    with collector_paused(), transaction(app.sessions) as session:
        now = app.clock.now()
        rows = claim_due(session, now, app.settings.sla.sweep_batch)
        if not rows:
            return 0
        batch = _Batch(app, session)
        finished: list[int] = []
        try:
            with session.begin_nested():
                for row in rows:
                    _handle(batch, row, row.case, finished)
                _mark_finished(session, finished)
        except _DeadlineFailed:
            finished.clear()
            for deadline_id in [row.id for row in rows]:
                row = session.get_one(Deadline, deadline_id)
                case = session.get_one(Case, row.case_id)
                try:
                    with session.begin_nested():
                        _handle(batch, row, case, finished)
                        _mark_finished(session, finished)
                except _DeadlineFailed as failed:
                    _record_failure(app, session, row, case, failed.original)
                finished.clear()
        return len(rows)


def _mark_finished(session: Session, ids: list[int]) -> None:
    """Clear the deadlines their plugin handled completely, in one statement with one bound parameter.

    The id list is one array (PostgreSQL) or one JSON text (SQLite) rather than an
    ``IN`` list of a thousand parameters, which SQLAlchemy would render anew each time.
    """
    if not ids:
        return
    if is_postgres(session):
        chosen = Deadline.id == any_(bindparam("ids", ids, type_=ARRAY(Integer)))
    else:
        listed = func.json_each(bindparam("ids", json.dumps(ids))).table_valued("value")
        chosen = Deadline.id.in_(select(listed.c.value))
    # What the ORM's bulk UPDATE would do with synchronize_session=False (flush, then the
    # statement), without its per-statement set-up: the loaded rows are left as they are.
    session.flush()
    session.connection().execute(update(Deadline).where(chosen).values(next_at=None, failures=0))


def _handle(batch: _Batch, row: Deadline, case: Case, finished: list[int]) -> None:
    app = batch.app
    kind = app.kinds.get(case.kind)
    scheduled = row.next_at
    try:
        if not (row.data or {}).get("hook_flagged"):
            handled = batch.call_hook(row.plugin, row, case)
            if handled is True:
                if row.next_at == scheduled:
                    # The plugin handled it and asked for nothing more: cleared in bulk by
                    # _mark_finished (the loaded row is not touched; the batch ends right after).
                    finished.append(row.id)
                elif row.failures:
                    row.failures = 0
                return
        policy = kind.policy(row.name) if kind else None
        if kind is None or policy is None:
            log.warning("case %s: deadline %s has no policy in the current config; left alone", case.number, row.name)
            row.next_at = None
            return
        apply_default(batch.context(row.plugin), row, case, kind, policy)
        row.failures = 0
    except Exception as exc:
        raise _DeadlineFailed(row.id, exc) from exc


def _record_failure(app: App, session: Session, row: Deadline, case: Case, exc: BaseException) -> None:
    """Back off a failing deadline; after ``[sla] hook_max_failures`` flag it to staff and go on without the hook."""
    sla = app.settings.sla
    now = app.clock.now()
    row.failures += 1
    log.error("case %s deadline %s failed (%d): %s", case.number, row.name, row.failures, exc)
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor="system",
            type="deadline_error",
            reason=f"{type(exc).__name__}: {exc}",
            data={"deadline": row.name, "failures": row.failures},
        )
    )
    if row.failures >= sla.hook_max_failures and not (row.data or {}).get("hook_flagged"):
        row.data = {**(row.data or {}), "hook_flagged": True}
        row.next_at = now  # the next sweep applies the core's chain without the plugin's hook
        kind = app.kinds.get(case.kind)
        policy = kind.policy(row.name) if kind else None
        if policy is not None and policy.chain:
            try:
                with session.begin_nested():
                    notify_level(
                        app.context(row.plugin, session),
                        case,
                        row,
                        policy,
                        policy.chain[0],
                        level_no=0,
                        template="core/deadline_failed.txt",
                        at=now,
                        purpose="failure",
                        key_part=f"failed{row.failures}",
                    )
            except Exception:
                log.exception("case %s: could not flag the failing deadline %s to staff", case.number, row.name)
        session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                actor="system",
                type="deadline_flagged",
                reason=f"{row.failures} failures; the core chain takes over",
                data={"deadline": row.name},
            )
        )
    else:
        row.next_at = now + min(sla.hook_retry * (2 ** (row.failures - 1)), _MAX_BACKOFF)
    session.flush()
