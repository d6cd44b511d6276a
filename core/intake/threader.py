"""Finding the case an inbound item belongs to, before anyone thinks of opening a new one.

In order: (1) In-Reply-To/References naming one of our signed Message-IDs, a
message we sent, or a message we received; (2) a case number in the subject or
text, accepted only from that case's customer or a known contact (no injection
into strangers' cases); (3) for SMS, the sender's latest case that is not closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.channels.threading_ids import parse_message_id
from kefu.db.models import Case, InboundItem, OutboxMessage
from kefu.intake.customers import customers_by_phone, is_customer_or_contact
from kefu.intake.message import InboundMessage

if TYPE_CHECKING:
    from kefu.intake.lookup import BatchLookup

CASE_NUMBER = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Z0-9]{0,9}-(?:19|20)\d{2}-\d{4,9})(?![0-9])")
FINISHED_STATES = ("closed", "cancelled")


@dataclass(frozen=True)
class Thread:
    """The case an item threads onto, and how it was found."""

    case: Case
    how: str


def find_thread(
    session: Session, msg: InboundMessage, secret: str | None, lookup: BatchLookup | None = None
) -> Thread | None:
    """The case ``msg`` continues, or None when it starts something new.

    ``lookup`` answers the Message-ID and sender questions from the batch's reading.
    """
    for mid in msg.in_reply_to:
        case = _case_of_message_id(session, mid, secret, lookup)
        if case is not None:
            return Thread(case, f"reference {mid}")
    for number in CASE_NUMBER.findall(f"{msg.subject}\n{msg.text}"):
        case = session.scalars(select(Case).where(Case.number == number)).one_or_none()
        if case is None or case.customer_id is None:
            continue
        if is_customer_or_contact(
            session, case.customer_id, email=msg.sender if msg.kind == "email" else None, phone=msg.phone, lookup=lookup
        ):
            return Thread(case, f"case number {number}")
    if msg.kind == "sms" and msg.phone:
        found = lookup.customers_by_phone(msg.phone) if lookup else customers_by_phone(session, msg.phone)
        ids = [c.id for c in found]
        if ids:
            case = session.scalars(
                select(Case)
                .where(Case.customer_id.in_(ids), Case.state.not_in(FINISHED_STATES))
                .order_by(Case.updated_at.desc(), Case.id.desc())
                .limit(1)
            ).first()
            if case is not None:
                return Thread(case, "sender's open case")
    return None


def _case_of_message_id(session: Session, mid: str, secret: str | None, lookup: BatchLookup | None) -> Case | None:
    number = parse_message_id(mid, secret) if secret else None
    if number is not None:
        found = session.scalars(select(Case).where(Case.number == number)).one_or_none()
        if found is not None:
            return found
    if lookup is not None:
        known = lookup.case_id_of_message_id(mid)
        return session.get(Case, known) if known is not None else None
    case_id = session.scalars(
        select(OutboxMessage.case_id)
        .where(OutboxMessage.message_id == mid, OutboxMessage.case_id.is_not(None))
        .limit(1)
    ).first()
    if case_id is None:
        case_id = session.scalars(
            select(InboundItem.case_id).where(InboundItem.message_id == mid, InboundItem.case_id.is_not(None)).limit(1)
        ).first()
    return session.get(Case, case_id) if case_id is not None else None
