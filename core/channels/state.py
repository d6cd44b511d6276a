"""Each channel's position and health in the database (``channel_state``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kefu.db.models import ChannelState


def channel_state(session: Session, name: str) -> ChannelState:
    """The state row of channel ``name`` (created empty the first time)."""
    row = session.get(ChannelState, name)
    if row is None:
        row = ChannelState(name=name, cursor={})
        session.add(row)
        session.flush()
    return row


def update_cursor(session: Session, name: str, **values: Any) -> None:
    """Merge ``values`` into the channel's cursor (UIDVALIDITY, last UID, last SID)."""
    row = channel_state(session, name)
    row.cursor = {**(row.cursor or {}), **values}


def record_success(session: Session, name: str, now: datetime) -> None:
    """The channel was read successfully at ``now``."""
    row = channel_state(session, name)
    row.last_success_at = now
    if row.cursor.get("silence_alerted"):
        row.cursor = {k: v for k, v in row.cursor.items() if k != "silence_alerted"}


def record_error(session: Session, name: str, now: datetime, error: str) -> None:
    """Reading the channel failed at ``now`` with ``error`` (shown by health and status)."""
    row = channel_state(session, name)
    row.last_error_at, row.last_error = now, error[:2000]
