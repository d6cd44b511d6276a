"""Sign-in for the staff console: argon2 passwords, server-side sessions, backoff.

Every function takes the session and ``now`` from its caller (the clock), so the
timeouts and the backoff are tested by moving a FakeClock. A session is valid while
it is neither revoked, nor idle longer than ``idle_timeout``, nor older than
``absolute_timeout``; "sign out everywhere" revokes every session of the person.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.console.config import ConsoleSection
from kefu.db.models import ConsoleAccount, ConsoleSession

_HASHER = PasswordHasher()
# Verified against when the name is unknown, so an unknown name costs the same time as a known one.
_DUMMY = _HASHER.hash("kefu-console-no-such-account")
# Seen again within this, a session's last_seen_at is not rewritten (one write per minute, not per click).
_TOUCH_EVERY = timedelta(minutes=1)
MIN_PASSWORD = 10


class SignInRefused(Exception):
    """A sign-in that did not succeed; the message is what the page shows (never which part was wrong)."""


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (its parameters and salt are in the string)."""
    return _HASHER.hash(password)


def set_password(session: Session, staff_key: str, password: str, now: datetime) -> None:
    """Set (or replace) the password of ``staff_key``; clears the lock, revokes their sessions."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a console password has at least {MIN_PASSWORD} characters")
    account = session.get(ConsoleAccount, staff_key)
    if account is None:
        account = ConsoleAccount(staff_key=staff_key, password_hash="", password_set_at=now, failed=0)
        session.add(account)
    account.password_hash = hash_password(password)
    account.password_set_at = now
    account.failed, account.locked_until = 0, None
    revoke_all(session, staff_key, now)


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the cookie's token (shown once) and the row."""

    token: str
    row: ConsoleSession


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(
    session: Session,
    cfg: ConsoleSection,
    staff_key: str,
    password: str,
    now: datetime,
    *,
    known: bool,
    user_agent: str | None = None,
    address: str | None = None,
) -> NewSession:
    """Check the password and open a session; :class:`SignInRefused` otherwise.

    ``known``: the key is a person of ``[staff.people]`` with console access. After
    ``lock_after`` failures in a row the account is locked for ``lock_for``, doubling
    with each further failure up to ``lock_max``; a locked account is not even
    checked, so guessing costs the guesser the backoff, not the server a hash.
    """
    account = session.get(ConsoleAccount, staff_key) if known else None
    if account is None:
        _verify(_DUMMY, password)
        raise SignInRefused("用户名或密码不正确")
    if account.locked_until is not None and account.locked_until > now:
        wait = int((account.locked_until - now).total_seconds()) + 1
        raise SignInRefused(f"登录失败次数过多，请 {wait} 秒后再试")
    if not _verify(account.password_hash, password):
        account.failed += 1
        if account.failed >= cfg.lock_after:
            extra = account.failed - cfg.lock_after
            backoff = min(cfg.lock_for * (2 ** min(extra, 20)), cfg.lock_max)
            account.locked_until = now + backoff
        raise SignInRefused("用户名或密码不正确")
    if _HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.failed, account.locked_until, account.last_sign_in_at = 0, None, now
    token = secrets.token_urlsafe(32)
    row = ConsoleSession(
        token_hash=_token_hash(token),
        id=secrets.token_hex(6),
        staff_key=staff_key,
        csrf=secrets.token_urlsafe(24),
        created_at=now,
        last_seen_at=now,
        revoked_at=None,
        user_agent=(user_agent or "")[:300] or None,
        address=(address or "")[:64] or None,
    )
    session.add(row)
    return NewSession(token, row)


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def session_for(session: Session, cfg: ConsoleSection, token: str | None, now: datetime) -> ConsoleSession | None:
    """The live session of the cookie's ``token``, touched; None if unknown, revoked or timed out."""
    if not token:
        return None
    row = session.get(ConsoleSession, _token_hash(token))
    if row is None or not is_live(row, cfg, now):
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
    return row


def is_live(row: ConsoleSession, cfg: ConsoleSection, now: datetime) -> bool:
    """Not revoked, not idle past ``idle_timeout``, not older than ``absolute_timeout``."""
    return (
        row.revoked_at is None
        and now - row.last_seen_at <= cfg.idle_timeout
        and now - row.created_at <= cfg.absolute_timeout
    )


def sign_out(session: Session, row: ConsoleSession, now: datetime) -> None:
    """End this one session."""
    row.revoked_at = now


def revoke_all(session: Session, staff_key: str, now: datetime) -> int:
    """Sign ``staff_key`` out everywhere; how many live sessions ended."""
    result = session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.staff_key == staff_key, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def revoke(session: Session, session_id: str, now: datetime) -> ConsoleSession | None:
    """Revoke the session with public id ``session_id``; the row, or None if unknown."""
    row = session.scalars(select(ConsoleSession).where(ConsoleSession.id == session_id)).one_or_none()
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
    return row


def list_sessions(session: Session, cfg: ConsoleSection, now: datetime, staff_key: str | None = None) -> list[dict]:
    """The live sessions (of ``staff_key``, or everyone's), newest first, for ``kefu staff sessions``."""
    query = select(ConsoleSession).where(ConsoleSession.revoked_at.is_(None)).order_by(ConsoleSession.created_at.desc())
    if staff_key:
        query = query.where(ConsoleSession.staff_key == staff_key)
    return [
        {
            "id": row.id,
            "staff": row.staff_key,
            "created": row.created_at,
            "last_seen": row.last_seen_at,
            "address": row.address,
            "browser": (row.user_agent or "")[:40],
        }
        for row in session.scalars(query)
        if is_live(row, cfg, now)
    ]
