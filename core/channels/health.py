"""Health of the inbound channels: a channel silent beyond its ``silence_alarm`` fails the check.

A channel never read successfully always fails it, marked SILENT (as the staff
alarm says) once its first try is further back than the limit. Staff are also
told of the silence (:mod:`kefu.channels.silence`), once per episode.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.channels.silence import alert_silent_channels, silence_limits
from kefu.channels.state import ALERTED, silent_since
from kefu.db.models import ChannelState, InboundItem

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.health import Check

log = logging.getLogger("kefu.channels")
__all__ = ["alert_silent_channels", "channel_checks", "silence_limits"]


def channel_checks(app: App, session: Session, now: datetime) -> list[Check]:
    """One check per channel (last successful read within its limit), and one for quarantine."""
    from kefu.health import Check

    states = {s.name: s for s in session.scalars(select(ChannelState))}
    checks = []
    for name, limit in silence_limits(app).items():
        state = states.get(name)
        last = state.last_success_at if state else None
        error = (
            f"; last error: {state.last_error}"
            if state and state.last_error and (last is None or (state.last_error_at and state.last_error_at > last))
            else ""
        )
        since = silent_since(state)
        told = _told(state)
        if last is None:
            # Never read is never healthy; past the limit it is a silence staff are told of.
            if since is None:
                checks.append(Check(f"channel:{name}", False, f"never read successfully{error}"))
                continue
            age = now - since
            detail = (
                f"never read successfully, first tried {int(age.total_seconds())}s ago "
                f"(limit {int(limit.total_seconds())}s){error}{told}"
            )
            checks.append(Check(f"channel:{name}", False, f"SILENT: {detail}" if age > limit else detail))
            continue
        age = now - last
        ok = age <= limit
        detail = f"last read {int(age.total_seconds())}s ago (limit {int(limit.total_seconds())}s){error}{told}"
        checks.append(Check(f"channel:{name}", ok, detail if ok else f"SILENT: {detail}", last))
    quarantined = session.scalar(
        select(func.count()).select_from(InboundItem).where(InboundItem.status == "quarantined")
    )
    unclaimed = session.scalar(select(func.count()).select_from(InboundItem).where(InboundItem.status == "unclaimed"))
    # Quarantined and unclaimed items need a person, but they do not make the daemon unhealthy.
    checks.append(
        Check(
            "inbound:attention",
            True,
            f"{quarantined or 0} quarantined, {unclaimed or 0} unclaimed (kefu inbound list --quarantined)",
        )
    )
    return checks


def _told(state: ChannelState | None) -> str:
    """Who the current silence was told to, for the check's detail ('' before any alarm)."""
    cursor = (state.cursor or {}) if state else {}
    if not cursor.get(ALERTED):
        return ""
    told = cursor.get("silence_told") or []
    return f"; staff told: {', '.join(told)}" if told else "; no staff to tell (set alarm_staff)"
