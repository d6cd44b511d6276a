"""Health of the outbox: the oldest due row must be younger than ``[outbound] alarm_age``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import OutboxMessage

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.config import CoreSettings
    from kefu.health import Check


def outbox_alarm_problems(settings: CoreSettings) -> list[str]:
    """An ``[outbound] alarm_staff`` name that is not in ``[staff.people]``, found at start and by
    check-config rather than when the outbox stalls (the alarm goes to people by their address)."""
    people = settings.staff.people
    return [
        f"outbound.alarm_staff: unknown person {key!r} (people: {', '.join(sorted(people)) or 'none'})"
        for key in settings.outbound.alarm_staff
        if key not in people
    ]


def outbox_checks(app: App, session: Session, now: datetime) -> list[Check]:
    """The oldest row still waiting to be sent is younger than the configured alarm age.

    Rows held for later (quiet hours, backoff, a rate slot) are not waiting yet;
    dead and permanently failed rows are counted in the detail for staff.
    """
    from kefu.health import Check
    from kefu.outbound.dispatch import oldest_due

    limit = app.settings.outbound.alarm_age
    count, oldest = oldest_due(session, now)
    problems: dict[str, int] = dict(
        session.execute(
            select(OutboxMessage.state, func.count())
            .where(OutboxMessage.state.in_(["dead", "failed"]))
            .group_by(OutboxMessage.state)
        ).all()
    )
    tail = ""
    if problems:
        tail = "; " + ", ".join(f"{n} {state}" for state, n in sorted(problems.items())) + " (kefu outbox list --dead)"
    last_sent = session.scalar(select(func.max(OutboxMessage.sent_at)))
    if oldest is None:
        return [Check("outbox", True, "nothing waiting" + tail, last_sent)]
    age = now - oldest.not_before
    minutes = age // timedelta(minutes=1)
    ok = age <= limit
    detail = (
        f"{count} due, oldest #{oldest.id} ({oldest.channel}) waiting {minutes} min; "
        f"limit {limit // timedelta(minutes=1)} min" + tail
    )
    if not ok and oldest.last_error:
        detail += f"; last error: {oldest.last_error[:200]}"
    return [Check("outbox", ok, detail, last_sent)]
