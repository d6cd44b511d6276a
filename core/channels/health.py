"""Health of the inbound channels (issue 4: silence beyond each channel's limit alerts)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.health import Check


def channel_checks(app: App, session: Session, now: datetime) -> list[Check]:
    """One check per configured channel: its last successful poll is within its limit."""
    return []
