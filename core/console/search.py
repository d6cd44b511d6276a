"""Finding cases: by number, the customer's phone in any format, name, address, or text.

Chinese queries of one or two characters (``漏水``, a two-character name) must find
something, which a trigram index alone cannot: the text match is a plain ``LIKE``
(SQLite and PostgreSQL alike), bounded by the page size and the viewer's scope.
"""

from __future__ import annotations

import re

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kefu.console.access import Viewer
from kefu.console.queues import Row, _rows
from kefu.db.models import Case, Customer, InboundItem
from kefu.phones import PhoneError, to_e164

LIMIT = 50
_NUMBER = re.compile(r"^[A-Za-z]{1,8}-\d{4}-\d{1,8}$")


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_cases(session: Session, viewer: Viewer, q: str, country: str) -> list[Row]:
    """Cases in ``viewer``'s scope that match ``q``, newest first (at most 50)."""
    q = q.strip()[:200]
    if not q:
        return []
    scope = viewer.scope()
    if _NUMBER.match(q):
        cases = list(session.scalars(select(Case).where(Case.number == q.upper(), scope)))
        if cases:
            return _rows(session, cases, {})
    conditions = []
    digits = re.sub(r"[\s\-()+]", "", q)
    if digits.isdigit() and len(digits) >= 5:
        try:
            phone = to_e164(q, country)
        except PhoneError:
            phone = None
        customer_ids = select(Customer.id).where(
            or_(Customer.phone == phone, Customer.phone.like(_like(digits), escape="\\"))
            if phone
            else Customer.phone.like(_like(digits), escape="\\")
        )
        conditions.append(Case.customer_id.in_(customer_ids))
    pattern = _like(q)
    customers = select(Customer.id).where(
        or_(
            Customer.name.like(pattern, escape="\\"),
            Customer.address.like(pattern, escape="\\"),
            Customer.ref.like(pattern, escape="\\"),
            Customer.email.like(pattern, escape="\\"),
        )
    )
    conditions += [
        Case.number.like(pattern, escape="\\"),
        Case.title.like(pattern, escape="\\"),
        Case.customer_id.in_(customers),
        Case.id.in_(
            select(InboundItem.case_id).where(
                InboundItem.case_id.is_not(None), InboundItem.text.like(pattern, escape="\\")
            )
        ),
    ]
    cases = list(session.scalars(select(Case).where(or_(*conditions), scope).order_by(Case.id.desc()).limit(LIMIT)))
    return _rows(session, cases, {})
