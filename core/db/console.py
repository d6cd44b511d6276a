"""The staff console's own tables: sign-in accounts, server-side sessions, saved views.

A person's account is their ``[staff.people]`` key; only the password hash (argon2)
and the failed sign-in counter live here, never in the TOML. A session row is the
whole session: the cookie holds only a random token whose SHA-256 is the key, so a
stolen database does not hand out live cookies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base


class ConsoleAccount(Base):
    """The console password of one member of staff, and their failed sign-ins."""

    __tablename__ = "console_accounts"

    staff_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    password_set_at: Mapped[datetime]
    failed: Mapped[int] = mapped_column(default=0, doc="failed sign-ins in a row")
    locked_until: Mapped[datetime | None] = mapped_column(doc="no sign-in is tried before then (backoff)")
    last_sign_in_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """One signed-in browser; revoked rows are kept for the record until they expire."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index(None, "staff_key", "revoked_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True, doc="sha256 of the cookie's token")
    id: Mapped[str] = mapped_column(String(16), unique=True, doc="short public id to list and revoke it by")
    staff_key: Mapped[str] = mapped_column(String(64))
    csrf: Mapped[str] = mapped_column(String(64), doc="the token every form of this session carries")
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(64))


class SavedView(Base):
    """A queue with its filters, saved by one person under a name of their own."""

    __tablename__ = "console_views"
    __table_args__ = (Index(None, "staff_key", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    queue: Mapped[str] = mapped_column(String(32))
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
