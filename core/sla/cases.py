"""Opening and changing cases; every change is an event, in the caller's transaction.

(First cut, written so the other areas can build on the API; issue 3 completes
the lifecycle rules, deadline policies and plugin steps.)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from kefu.db.models import Case, CaseEvent, CaseSequence, Customer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kefu.context import PluginContext

log = logging.getLogger("kefu.cases")


def next_case_number(session: Session, prefix: str, year: int) -> str:
    """Issue the next number for ``prefix`` and ``year`` (``HT-2026-000123``), unique across daemons."""
    bumped = session.execute(
        update(CaseSequence)
        .where(CaseSequence.prefix == prefix, CaseSequence.year == year)
        .values(last=CaseSequence.last + 1)
        .returning(CaseSequence.last)
    ).scalar_one_or_none()
    if bumped is None:
        with session.begin_nested():
            session.add(CaseSequence(prefix=prefix, year=year, last=1))
        bumped = 1
    return f"{prefix}-{year}-{bumped:06d}"


def open_case(
    ctx: PluginContext,
    *,
    kind: str,
    title: str = "",
    customer: Customer | None = None,
    unit: str | None = None,
    urgent: bool | None = None,
    owner: str | None = None,
    data: dict[str, Any] | None = None,
    actor: str = "system",
    reason: str | None = None,
) -> Case:
    """Open a case of ``kind`` in ``ctx.session`` and tell its plugin (``kefu_case_opened``)."""
    session = ctx.db()
    case_kind = ctx.app.kinds.get(kind)
    if case_kind is None:
        raise ValueError(f"unknown case kind {kind!r}; registered: {', '.join(sorted(ctx.app.kinds))}")
    now = ctx.now()
    year = now.astimezone(ctx.tz).year
    case = Case(
        number=next_case_number(session, case_kind.prefix, year),
        plugin=kind.split(".", 1)[0],
        kind=kind,
        state="new",
        title=title or case_kind.title,
        urgent=case_kind.urgent if urgent is None else urgent,
        customer_id=customer.id if customer is not None else None,
        owner=owner,
        unit=unit,
        opened_at=now,
        updated_at=now,
        data=dict(data or {}),
    )
    session.add(case)
    session.flush()
    session.add(CaseEvent(case_id=case.id, at=now, actor=actor, type="opened", to_state="new", reason=reason))
    session.flush()
    owner_ctx = ctx.app.context(case.plugin, session)
    _call_isolated(owner_ctx, "kefu_case_opened", case)
    return case


def record_event(
    ctx: PluginContext,
    case: Case,
    type: str,
    *,
    actor: str = "system",
    reason: str | None = None,
    to_state: str | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Record an event on ``case`` (changing its state if ``to_state``) and tell its plugin."""
    session = ctx.db()
    now = ctx.now()
    event = CaseEvent(
        case_id=case.id, at=now, actor=actor, type=type, from_state=case.state,
        to_state=to_state, reason=reason, data=dict(data or {}),
    )
    if to_state is not None:
        case.state = to_state
    case.updated_at = now
    session.add(event)
    session.flush()
    owner_ctx = ctx.app.context(case.plugin, session)
    _call_isolated(owner_ctx, "kefu_case_changed", case, event=event)
    return event


def _call_isolated(ctx: PluginContext, hook: str, case: Case, **kwargs: Any) -> None:
    """Call the owner's hook in a savepoint; a failure is recorded on the case, not raised."""
    session = ctx.db()
    try:
        with session.begin_nested():
            ctx.app.host.call_one(hook, case.plugin, case=case, ctx=ctx, **kwargs)
    except Exception as exc:
        log.exception("plugin %r failed in %s for case %s", case.plugin, hook, case.number)
        session.add(CaseEvent(
            case_id=case.id, at=ctx.now(), actor="system", type="plugin_error",
            reason=f"{hook}: {exc}",
        ))
        session.flush()


def find_case(session: Session, number: str) -> Case | None:
    """The case with this number, or None."""
    return session.scalars(select(Case).where(Case.number == number)).one_or_none()
