"""What a person checks first when something seems wrong: /healthz and ``kefu status``.

Each area contributes its checks (loops, channels, outbox); a failing check
makes /healthz answer 503 so a monitor notices a stalled daemon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kefu.db.models import Heartbeat

if TYPE_CHECKING:
    from kefu.app import App


@dataclass(frozen=True)
class Check:
    """One line of the health report."""

    name: str
    ok: bool
    detail: str
    last_success: datetime | None = None


def loop_checks(app: App, session: Session, now: datetime) -> list[Check]:
    """The daemon's own loops: each must have made progress within the stall limit."""
    stall = app.settings.scheduler.watchdog_stall
    beats = {b.name: b for b in session.scalars(select(Heartbeat))}
    checks = []
    for name in ("intake", "sweep", "dispatch"):
        beat = beats.get(name)
        if beat is None:
            checks.append(Check(f"loop:{name}", False, "has never run"))
            continue
        age = now - beat.at
        checks.append(
            Check(
                f"loop:{name}",
                age <= stall,
                f"last progress {int(age.total_seconds())}s ago ({beat.detail or ''})",
                beat.at,
            )
        )
    return checks


def _checks() -> list[Callable[[App, Session, datetime], list[Check]]]:
    from kefu.channels.health import channel_checks
    from kefu.outbound.health import outbox_checks
    from kefu.senders.letter_fonts import letter_font_checks

    return [loop_checks, channel_checks, outbox_checks, letter_font_checks]


def health_report(app: App) -> dict[str, Any]:
    """Every check, and ``ok`` when all pass; a database that cannot be reached fails it."""
    now = app.clock.now()
    try:
        with app.sessions() as session:
            session.execute(text("SELECT 1"))
            checks = [c for check in _checks() for c in check(app, session, now)]
    except Exception as exc:
        checks = [Check("database", False, f"unreachable: {type(exc).__name__}: {exc}")]
    return {
        "ok": all(c.ok for c in checks),
        "times": "UTC",  # for monitors; `kefu status` shows the site's zone
        "now": now.isoformat(),
        "checks": [asdict(c) for c in checks],
    }
