"""Each channel's position and health in the database (``channel_state``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.db.models import ChannelState

# Cursor keys of a silence episode: when a channel never read was first tried (its silence
# starts there, having no last success), and when staff were told of the current silence.
FIRST_TRIED = "first_tried_at"
ALERTED = "silence_alerted"
_EPISODE_KEYS = (FIRST_TRIED, ALERTED, "silence_told")


def channel_state(session: Session, name: str) -> ChannelState:
    """The state row of channel ``name`` (created empty the first time)."""
    row = session.get(ChannelState, name)
    if row is None:
        try:
            with session.begin_nested():
                row = ChannelState(name=name, cursor={})
                session.add(row)
                session.flush()
        except IntegrityError:
            # Another daemon reading this channel for the first time created it meanwhile.
            row = session.get(ChannelState, name)
            if row is None:
                raise
    return row


def update_cursor(session: Session, name: str, **values: Any) -> None:
    """Merge ``values`` into the channel's cursor (UIDVALIDITY, last UID, last SID)."""
    row = channel_state(session, name)
    row.cursor = {**(row.cursor or {}), **values}


def record_success(session: Session, name: str, now: datetime) -> None:
    """The channel was read successfully at ``now``: any silence episode ends."""
    row = channel_state(session, name)
    row.last_success_at = now
    cursor = row.cursor or {}
    if any(key in cursor for key in _EPISODE_KEYS):
        row.cursor = {k: v for k, v in cursor.items() if k not in _EPISODE_KEYS}


def record_error(session: Session, name: str, now: datetime, error: str) -> None:
    """Reading the channel failed at ``now`` with ``error`` (shown by health and status)."""
    row = channel_state(session, name)
    row.last_error_at, row.last_error = now, error[:2000]
    note_first_try(row, now)


def note_first_try(row: ChannelState, now: datetime) -> None:
    """Remember ``now`` as the first try of a channel never read, unless an earlier try is known."""
    cursor = row.cursor or {}
    if row.last_success_at is None and not cursor.get(FIRST_TRIED):
        row.cursor = {**cursor, FIRST_TRIED: now.isoformat()}


def silent_since(row: ChannelState | None) -> datetime | None:
    """Where the channel's silence is measured from: its last successful read, else its first try.

    None for a channel never tried (no row, or a row from before first tries were kept).
    """
    if row is None:
        return None
    if row.last_success_at is not None:
        return row.last_success_at
    stamp = (row.cursor or {}).get(FIRST_TRIED)
    return datetime.fromisoformat(stamp) if stamp else None
