"""What one batch of inbound items needs to know, read in a few queries instead of several per item.

Before a batch is processed, the customers writing from its addresses and numbers
and the cases of the Message-IDs it refers to are read at once; as the batch goes
on, the customers it creates and the items it threads or opens cases for are
added, so a later item of the same batch sees them exactly as a query would.
Without a lookup (``None``) the functions that accept one query the database.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Contact, Customer, InboundItem, OutboxMessage
from kefu.intake.customers import customers_by_email, customers_by_phone, phone_variants
from kefu.intake.message import InboundMessage

_CHUNK = 400  # stay under SQLite's bound-parameter limit with the IN lists


class BatchLookup:
    """Customers by address/number and cases by Message-ID, for the items of one batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._email: dict[str, list[Customer]] = {}
        self._phone: dict[str, list[Customer]] = {}  # every written form of a number → customers
        self._case_of_mid: dict[str, int | None] = {}

    def prefetch(self, messages: Iterable[InboundMessage]) -> None:
        """Read at once everything the ``messages`` will ask about."""
        emails: set[str] = set()
        forms: set[str] = set()
        mids: set[str] = set()
        for msg in messages:
            if msg.kind == "email" and msg.sender:
                emails.add(msg.sender.strip().lower())
            if msg.phone:
                forms.update(phone_variants(msg.phone))
            mids.update(msg.in_reply_to)
        self._load_customers("email", emails - self._email.keys())
        self._load_customers("phone", forms - self._phone.keys())
        self._load_message_ids(mids - self._case_of_mid.keys())

    def customers_by_email(self, address: str) -> list[Customer]:
        """Like :func:`kefu.intake.customers.customers_by_email`, from the batch's reading."""
        key = address.strip().lower()
        if key not in self._email:
            self._email[key] = customers_by_email(self.session, key)
        return list(self._email[key])

    def customers_by_phone(self, phone: str) -> list[Customer]:
        """Like :func:`kefu.intake.customers.customers_by_phone`, from the batch's reading."""
        forms = phone_variants(phone)
        if any(f not in self._phone for f in forms):
            found = customers_by_phone(self.session, phone)
            for form in forms:
                self._phone[form] = list(found)
        merged = {c.id: c for form in forms for c in self._phone[form]}
        return sorted(merged.values(), key=lambda c: c.id, reverse=True)

    def case_id_of_message_id(self, mid: str) -> int | None:
        """The case of a message we sent or received with Message-ID ``mid``, if any."""
        if mid not in self._case_of_mid:
            self._load_message_ids({mid})
        return self._case_of_mid[mid]

    def added_customer(self, customer: Customer) -> None:
        """A customer created in this batch (flushed, so it has its id)."""
        if customer.email:
            self._email.setdefault(customer.email.strip().lower(), []).insert(0, customer)
        if customer.phone:
            for form in phone_variants(customer.phone):
                self._phone.setdefault(form, []).insert(0, customer)

    def added_message(self, mid: str | None, case_id: int | None) -> None:
        """An item of this batch with Message-ID ``mid`` now belongs to case ``case_id``."""
        if mid and case_id is not None and self._case_of_mid.get(mid) is None:
            self._case_of_mid[mid] = case_id

    def forget(self) -> None:
        """Drop everything read or added: a savepoint rolled back took what it added with it,
        so the next question is asked of the database again."""
        self._email.clear()
        self._phone.clear()
        self._case_of_mid.clear()

    def _load_customers(self, kind: str, values: set[str]) -> None:
        index = self._email if kind == "email" else self._phone
        column = Customer.email if kind == "email" else Customer.phone
        for value in values:
            index[value] = []
        found: dict[int, Customer] = {}
        owners: list[tuple[str, int]] = []
        for chunk in _chunks(sorted(values)):
            for customer in self.session.scalars(select(Customer).where(column.in_(chunk))):
                found[customer.id] = customer
                owners.append((str(getattr(customer, kind)), customer.id))
            contacts = self.session.execute(
                select(Contact.value, Contact.customer_id).where(Contact.kind == kind, Contact.value.in_(chunk))
            )
            owners.extend((value, customer_id) for value, customer_id in contacts)
        missing = {cid for _v, cid in owners} - found.keys()
        for chunk in _chunks(sorted(missing)):
            found.update((c.id, c) for c in self.session.scalars(select(Customer).where(Customer.id.in_(chunk))))
        for value, customer_id in owners:
            bucket = index.setdefault(value, [])
            if all(c.id != customer_id for c in bucket):
                bucket.append(found[customer_id])
        for bucket in index.values():
            bucket.sort(key=lambda c: c.id, reverse=True)

    def _load_message_ids(self, mids: set[str]) -> None:
        for mid in mids:
            self._case_of_mid[mid] = None
        # A message we sent names the case first; a message we received, second.
        for table in (InboundItem, OutboxMessage):
            for chunk in _chunks(sorted(mids)):
                for found, case_id in self.session.execute(
                    select(table.message_id, table.case_id).where(
                        table.message_id.in_(chunk), table.case_id.is_not(None)
                    )
                ):
                    if found is not None:  # (the IN list has no NULL; the column is nullable)
                        self._case_of_mid[found] = case_id


def _chunks(values: list[str] | list[int]) -> list[list[str] | list[int]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]
