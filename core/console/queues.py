"""The console's queues: which cases (or items) each one lists, in due order, a page at a time.

The deadline queues (即将超时, 已超时) are driven by the open deadlines in due order
(the ``(state, due_at)`` index), so a page costs the same on a million cases as on
ten; the others list cases by their nearest open deadline. Every query carries the
viewer's scope (:meth:`Viewer.scope`) in SQL: a case out of scope is never fetched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from kefu.console.access import Viewer
from kefu.console.config import ConsoleSection
from kefu.db.models import Case, Customer, Deadline, InboundItem, OutboxMessage
from kefu.kinds import OPEN_STATES

QUEUES: dict[str, str] = {
    "mine": "我的",
    "unassigned": "未分配",
    "due_soon": "即将超时",
    "breached": "已超时",
    "paused": "暂停中",
    "callbacks": "待回访",
    "quarantine": "隔离",
    "failed": "发送失败",
}
FILTERS = ("plugin", "kind", "unit", "owner", "state")


@dataclass
class Row:
    """One line of a case queue."""

    case: Case
    customer: Customer | None
    due: Deadline | None
    deadlines: list[Deadline] = field(default_factory=list)
    extra: str = ""


@dataclass
class Page:
    """One page of a queue: its rows, and whether there is a next page."""

    queue: str
    rows: list[Any]
    page: int
    has_next: bool
    kind: str = "cases"  # or "items" (隔离) or "messages" (发送失败)


def _filters(filters: Mapping[str, str]) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    for name in FILTERS:
        value = (filters.get(name) or "").strip()
        if value:
            out.append(getattr(Case, name) == value)
    return out


def look_ahead(cfg: ConsoleSection, now: datetime) -> ColumnElement[bool]:
    """Open deadlines that fall due within their kind's look-ahead (and are not yet due)."""
    soon = [and_(Case.kind == kind, Deadline.due_at <= now + ahead) for kind, ahead in cfg.due_soon.items()]
    rest = Deadline.due_at <= now + cfg.due_soon_default
    if cfg.due_soon:
        soon.append(and_(Case.kind.not_in(list(cfg.due_soon)), rest))
        return and_(Deadline.due_at > now, or_(*soon))
    return and_(Deadline.due_at > now, rest)


_NEAREST: list[ColumnElement[bool]] = []


def nearest() -> ColumnElement[bool]:
    """The deadline is its case's nearest open one: a case is listed once, by what is due first.

    A probe of the case's few deadlines (the ``(case_id, name, round)`` index) per candidate row,
    so the queue stays a range scan of ``(state, due_at)`` however many cases there are. Built
    once: it has no parameters, and building it cost more than running it.
    """
    if not _NEAREST:
        _NEAREST.append(_nearest())
    return _NEAREST[0]


def _nearest() -> ColumnElement[bool]:
    other = aliased(Deadline)
    return ~exists().where(
        other.case_id == Deadline.case_id,
        other.state == "open",
        or_(other.due_at < Deadline.due_at, and_(other.due_at == Deadline.due_at, other.id < Deadline.id)),
    )


def max_ahead(cfg: ConsoleSection) -> timedelta:
    """The longest look-ahead of any kind (a plain index range before the per-kind test)."""
    return max([cfg.due_soon_default, *cfg.due_soon.values()])


def queue_page(
    session: Session,
    viewer: Viewer,
    cfg: ConsoleSection,
    queue: str,
    now: datetime,
    *,
    filters: Mapping[str, str] | None = None,
    page: int = 1,
) -> Page:
    """One page of ``queue`` for ``viewer``, sorted by due time (``page`` counts from 1)."""
    if queue not in QUEUES:
        raise KeyError(queue)
    size = cfg.page_size
    offset = (max(page, 1) - 1) * size
    conds = [viewer.scope(), *_filters(filters or {})]
    if queue == "quarantine":
        return _quarantine(session, viewer, page, offset, size)
    if queue == "failed":
        return _failed(session, conds, page, offset, size)
    if queue in ("due_soon", "breached"):
        window = (
            and_(Deadline.due_at <= now + max_ahead(cfg), look_ahead(cfg, now))
            if queue == "due_soon"
            else Deadline.due_at <= now
        )
        query = (
            select(Deadline, Case)
            .join(Case, Case.id == Deadline.case_id)
            .where(Deadline.state == "open", window, Case.state.in_(OPEN_STATES), nearest(), *conds)
            .order_by(Deadline.due_at, Deadline.id)
            .offset(offset)
            .limit(size + 1)
        )
        found = session.execute(query).all()
        rows = _rows(session, [c for _d, c in found[:size]], {c.id: d for d, c in found[:size]})
        return Page(queue, rows, page, len(found) > size)
    if queue == "mine":
        where = [Case.owner == viewer.key, Case.state.in_(OPEN_STATES)]
    elif queue == "unassigned":
        where = [Case.owner.is_(None), Case.state.in_(OPEN_STATES)]
    elif queue == "paused":
        where = [Case.state == "waiting_customer"]
    else:  # callbacks
        where = [Case.state.in_(("resolved", "callback"))]
    next_due = (
        select(func.min(Deadline.due_at))
        .where(Deadline.case_id == Case.id, Deadline.state == "open")
        .correlate(Case)
        .scalar_subquery()
    )
    cases_query = (
        select(Case).where(*where, *conds).order_by(next_due.asc().nulls_last(), Case.id).offset(offset).limit(size + 1)
    )
    cases = list(session.scalars(cases_query))
    return Page(queue, _rows(session, cases[:size], {}), page, len(cases) > size)


def _rows(session: Session, cases: Sequence[Case], due: Mapping[int, Deadline]) -> list[Row]:
    """Rows with their customers and open deadlines, in two queries for the page."""
    if not cases:
        return []
    ids = [c.id for c in cases]
    open_by: dict[int, list[Deadline]] = {}
    for d in session.scalars(
        select(Deadline).where(Deadline.case_id.in_(ids), Deadline.state == "open").order_by(Deadline.due_at)
    ):
        open_by.setdefault(d.case_id, []).append(d)
    cust_ids = {c.customer_id for c in cases if c.customer_id is not None}
    customers = (
        {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(cust_ids)))} if cust_ids else {}
    )
    rows = []
    for case in cases:
        mine = open_by.get(case.id, [])
        first = due.get(case.id) or (mine[0] if mine else None)
        rows.append(Row(case, customers.get(case.customer_id) if case.customer_id else None, first, mine))
    return rows


def _quarantine(session: Session, viewer: Viewer, page: int, offset: int, size: int) -> Page:
    if viewer.units and not viewer.is_head:
        return Page("quarantine", [], page, False, "items")  # triage is for those who see every unit
    items = list(
        session.scalars(
            select(InboundItem)
            .where(InboundItem.status.in_(("quarantined", "unclaimed")))
            .order_by(InboundItem.id.desc())
            .offset(offset)
            .limit(size + 1)
        )
    )
    return Page("quarantine", items[:size], page, len(items) > size, "items")


def _failed(session: Session, conds: list[ColumnElement[bool]], page: int, offset: int, size: int) -> Page:
    found = session.execute(
        select(OutboxMessage, Case)
        .join(Case, Case.id == OutboxMessage.case_id)
        .where(OutboxMessage.state.in_(("dead", "failed")), *conds)
        .order_by(OutboxMessage.id.desc())
        .offset(offset)
        .limit(size + 1)
    ).all()
    return Page("failed", [tuple(r) for r in found[:size]], page, len(found) > size, "messages")


def counts(session: Session, viewer: Viewer, cfg: ConsoleSection, now: datetime) -> dict[str, int]:
    """How many cases the tabs 我的, 即将超时 and 已超时 hold, capped at 99 so big queues stay cheap."""
    cap = 100
    scope = viewer.scope()

    def capped(query: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(query.limit(cap).subquery())) or 0)

    return {
        "mine": capped(select(Case.id).where(Case.owner == viewer.key, Case.state.in_(OPEN_STATES), scope)),
        "due_soon": capped(
            select(Deadline.id)
            .join(Case, Case.id == Deadline.case_id)
            .where(
                Deadline.state == "open",
                Deadline.due_at <= now + max_ahead(cfg),
                look_ahead(cfg, now),
                Case.state.in_(OPEN_STATES),
                nearest(),
                scope,
            )
        ),
        "breached": capped(
            select(Deadline.id)
            .join(Case, Case.id == Deadline.case_id)
            .where(Deadline.state == "open", Deadline.due_at <= now, Case.state.in_(OPEN_STATES), nearest(), scope)
        ),
    }
