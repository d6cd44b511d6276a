"""Which channels to read now: each on its own interval, at once when IDLE says so, backing off on errors.

The schedule lives in memory per running application (``kefu run --once`` reads
every channel); the channels' positions and health live in the database.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from kefu.app import App
from kefu.channels.config import ImapChannel, MaildirChannel
from kefu.channels.imap import poll_imap
from kefu.channels.maildir import poll_maildir
from kefu.channels.sms_poll import poll_twilio
from kefu.channels.state import record_error
from kefu.db.engine import transaction

log = logging.getLogger("kefu.channels")
FIRST_BACKOFF = timedelta(seconds=5)


@dataclass
class PollSchedule:
    """When each channel is next due, its consecutive failures, and the channels woken by IDLE."""

    next_at: dict[str, datetime] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    woken: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wake(self, channel: str) -> None:
        """Read ``channel`` at the next intake pass, whatever its interval says."""
        with self.lock:
            self.woken.add(channel)

    def take_due(self, channels: list[str], now: datetime) -> list[str]:
        """The channels due now (woken ones first); clears their wake flags."""
        with self.lock:
            woken = [c for c in channels if c in self.woken]
            self.woken.difference_update(woken)
            due = [c for c in channels if c not in woken and self.next_at.get(c, now) <= now]
            return woken + due


_SCHEDULES: dict[int, PollSchedule] = {}
# Re-entrant: the collector may finalize an old app (and drop its schedule) while the lock is held.
_SCHEDULES_LOCK = threading.RLock()


def schedule_for(app: App) -> PollSchedule:
    """The poll schedule of this running application."""
    with _SCHEDULES_LOCK:
        found = _SCHEDULES.get(id(app))
        if found is None:
            found = _SCHEDULES[id(app)] = PollSchedule()
            # Keyed by id: dropped when the app is gone, else a later app given the same id
            # would inherit its channels' due times and backoff (a channel not read at all).
            weakref.finalize(app, _drop, id(app), found)
        return found


def _drop(key: int, schedule: PollSchedule) -> None:
    with _SCHEDULES_LOCK:
        if _SCHEDULES.get(key) is schedule:
            del _SCHEDULES[key]


# The caller's work on what a channel stored (processing it).
OnStored = Callable[[], object]


class PollFunction(Protocol):
    """Reads one channel: stores what came in and returns how many items were stored.

    ``on_stored`` is the caller's work on what was stored (processing it), called
    after each stored batch, so a backlog becomes cases batch by batch.
    """

    def __call__(self, app: App, name: str, cfg: Any, *, on_stored: OnStored | None = None) -> int:
        """Read the channel ``name`` configured by ``cfg``."""


def polled_channels(app: App) -> dict[str, tuple[Any, PollFunction]]:
    """Every channel read by polling: full name → (config, poll function).

    The poll functions are imported with this module, not at the first poll: the daemon
    loads them when it starts, so the first mail waits on no import.
    """
    cfg = app.settings.channels
    found: dict[str, tuple[Any, PollFunction]] = {}
    for name, mcfg in cfg.maildir.items():
        found[f"maildir:{name}"] = (mcfg, poll_maildir)
    for name, icfg in cfg.imap.items():
        found[f"imap:{name}"] = (icfg, poll_imap)
    if cfg.sms.enabled and cfg.sms.mode == "poll":
        found["sms"] = (cfg.sms, poll_twilio)
    return found


def poll_channels(app: App, *, force: bool = False, on_stored: OnStored | None = None) -> int:
    """Read every channel that is due (all of them with ``force``); return how many items were stored.

    ``on_stored`` is handed to each channel's reader (see :class:`PollFunction`).

    A channel that fails is recorded (``kefu status``, /healthz) and retried with
    exponential backoff up to its ``reconnect_max``; the others go on.
    """
    channels = polled_channels(app)
    schedule = schedule_for(app)
    now = app.clock.now()
    due = list(channels) if force else schedule.take_due(list(channels), now)
    stored = 0
    for full in due:
        cfg, poll = channels[full]
        name = full.partition(":")[2]
        try:
            stored += poll(app, name, cfg, on_stored=on_stored)
        except Exception as exc:
            failures = schedule.failures.get(full, 0) + 1
            schedule.failures[full] = failures
            limit = getattr(cfg, "reconnect_max", timedelta(minutes=5))
            wait = min(FIRST_BACKOFF * (2 ** (failures - 1)), limit)
            schedule.next_at[full] = app.clock.now() + wait
            log.error(
                "channel %s failed (%d in a row), retrying in %ds: %s: %s",
                full,
                failures,
                wait.total_seconds(),
                type(exc).__name__,
                exc,
            )
            try:
                with transaction(app.sessions) as session:
                    record_error(session, full, app.clock.now(), f"{type(exc).__name__}: {exc}")
            except Exception:
                log.exception("could not record the failure of channel %s", full)
            continue
        schedule.failures.pop(full, None)
        # From the start of this pass, not the end of the read: the next intake tick, one interval
        # later, must find the channel due (from the end it just missed it: read every 2nd tick).
        schedule.next_at[full] = now + poll_interval(cfg)
    return stored


def poll_interval(cfg: ImapChannel | MaildirChannel | Any) -> timedelta:
    """The channel's polling interval."""
    value = getattr(cfg, "poll_interval", timedelta(seconds=60))
    return value if isinstance(value, timedelta) else timedelta(seconds=60)
