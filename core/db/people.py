"""Customers, their contact points, and staff known to the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.db.base import Base


class Customer(Base):
    """A customer: an owner, a household, a tenant or a buyer.

    ``plugin`` + ``ref`` is the business key (account number, home id, shop
    number) so imports are idempotent. Consent and deliverability live here so
    every channel honours them.
    """

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("plugin", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin: Mapped[str] = mapped_column(String(64), default="")
    ref: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    address: Mapped[str | None] = mapped_column(String(500))
    unit: Mapped[str | None] = mapped_column(String(128), doc="station, project, floor …")
    sms_opt_out: Mapped[bool] = mapped_column(default=False)
    sms_opt_out_at: Mapped[datetime | None]
    email_undeliverable: Mapped[bool] = mapped_column(default=False)
    phone_invalid: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]

    contacts: Mapped[list[Contact]] = relationship(back_populates="customer")


class Contact(Base):
    """A further address or number at which a customer writes (a spouse, a tenant's clerk)."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("customer_id", "kind", "value"), Index(None, "kind", "value"))

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), doc="email or phone")
    value: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class StaffMember(Base):
    """A member of staff, synchronised from ``[staff.people]`` at start and reload."""

    __tablename__ = "staff"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)


class RotaShift(Base):
    """One shift of a duty rota (值班表): who is on duty for ``rota`` from start to end."""

    __tablename__ = "rota_shifts"
    __table_args__ = (Index(None, "rota", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rota: Mapped[str] = mapped_column(String(64))
    staff_key: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
