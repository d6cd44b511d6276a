"""Finding the customer an inbound item comes from, by address, number or reference."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kefu.db.models import Contact, Customer

if TYPE_CHECKING:
    from kefu.intake.lookup import BatchLookup


def phone_variants(phone: str) -> list[str]:
    """The forms one mainland number is written in: ``+8613812345678``, ``8613…``, ``138…``."""
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return []
    forms = {phone.strip(), digits, "+" + digits}
    if digits.startswith("86") and len(digits) == 13:
        forms.update({digits[2:], "+86" + digits[2:]})
    elif len(digits) == 11 and digits.startswith("1"):
        forms.update({"86" + digits, "+86" + digits})
    return sorted(forms)


def customers_by_email(session: Session, address: str) -> list[Customer]:
    """Every customer with this e-mail address, as main address or a known contact."""
    address = address.strip().lower()
    via_contact = select(Contact.customer_id).where(Contact.kind == "email", Contact.value == address)
    return list(
        session.scalars(
            select(Customer)
            .where(or_(Customer.email == address, Customer.id.in_(via_contact)))
            .order_by(Customer.id.desc())
        )
    )


def customers_by_phone(session: Session, phone: str) -> list[Customer]:
    """Every customer with this phone number (any common form), main number or contact."""
    forms = phone_variants(phone)
    if not forms:
        return []
    via_contact = select(Contact.customer_id).where(Contact.kind == "phone", Contact.value.in_(forms))
    return list(
        session.scalars(
            select(Customer)
            .where(or_(Customer.phone.in_(forms), Customer.id.in_(via_contact)))
            .order_by(Customer.id.desc())
        )
    )


def is_customer_or_contact(
    session: Session, customer_id: int, *, email: str | None, phone: str | None, lookup: BatchLookup | None = None
) -> bool:
    """True when ``email`` or ``phone`` belongs to customer ``customer_id`` or a contact of it."""
    found: list[Customer] = []
    if email:
        found += lookup.customers_by_email(email) if lookup else customers_by_email(session, email)
    if phone:
        found += lookup.customers_by_phone(phone) if lookup else customers_by_phone(session, phone)
    return any(c.id == customer_id for c in found)


def find_or_create_customer(
    session: Session,
    *,
    plugin: str,
    now: datetime,
    ref: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    name: str = "",
    address: str | None = None,
    lookup: BatchLookup | None = None,
) -> Customer:
    """The plugin's customer with ``ref``, else the one writing from this address or number.

    A customer nobody knows yet is created, so that replies by case number can be
    checked against them and consent and deliverability have a place to live.
    ``lookup`` answers the address and number questions from the batch's reading.
    """
    if ref:
        found = session.scalars(select(Customer).where(Customer.plugin == plugin, Customer.ref == ref)).first()
        if found is not None:
            _fill(found, email=email, phone=phone, name=name, address=address)
            return found
    else:
        by_email = lookup.customers_by_email if lookup else (lambda a: customers_by_email(session, a))
        by_phone = lookup.customers_by_phone if lookup else (lambda p: customers_by_phone(session, p))
        candidates = (by_email(email) if email else []) + (by_phone(phone) if phone else [])
        if candidates:
            same_plugin = [c for c in candidates if c.plugin == plugin]
            return (same_plugin or candidates)[0]
    customer = Customer(
        plugin=plugin,
        ref=ref,
        name=name,
        email=email.lower() if email else None,
        phone=phone,
        address=address,
        created_at=now,
        data={},
    )
    session.add(customer)
    session.flush()
    if lookup is not None:
        lookup.added_customer(customer)
    return customer


def _fill(customer: Customer, **values: str | None) -> None:
    # An import may know the account but not yet the address it writes from.
    for key, value in values.items():
        if value and not getattr(customer, key):
            setattr(customer, key, value)
