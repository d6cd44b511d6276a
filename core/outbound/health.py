"""Health of the outbox (issue 5: the oldest unsent row must be younger than its limit)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.health import Check


def outbox_checks(app: App, session: Session, now: datetime) -> list[Check]:
    """The oldest row still waiting to be sent is younger than the configured alarm age."""
    return []
