"""Telling staff that a channel has fallen silent, once per silence, not only failing /healthz.

A channel is silent when it has not been read successfully for longer than its
``silence_alarm`` (a changed mailbox password, a full disk at the provider, a
Twilio account suspended). Each silence episode starts at the channel's last
successful read, or, for a channel never read (a wrong password or a mistyped
host from the first start), at its first try; the staff message's idempotency
key names that moment, so a daemon restart, a second daemon, or every further
pass of the same silence queue nothing more, and the next silence (after a
successful read) alarms again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from difflib import get_close_matches
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from kefu.channels.state import ALERTED, channel_state, note_first_try, silent_since

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.config import CoreSettings
    from kefu.staff_config import StaffSection

log = logging.getLogger("kefu.channels")
TEMPLATE = "core/channel_silent.txt"
SMS_TEMPLATE = "core/channel_silent.sms.txt"


def silence_limits(app: App) -> dict[str, timedelta]:
    """Every channel with a silence limit: full name → limit."""
    return {name: limit for name, (limit, _targets) in _silence_settings(app).items()}


def alarm_targets(app: App) -> dict[str, list[str]]:
    """Who each channel's silence is told to (roles, people, ``rota:NAME``): full name → targets."""
    return {name: targets for name, (_limit, targets) in _silence_settings(app).items()}


def _silence_settings(app: App) -> dict[str, tuple[timedelta, list[str]]]:
    cfg = app.settings.channels
    default = list(cfg.alarm_staff)
    found: dict[str, tuple[timedelta, list[str]]] = {}
    for name, mcfg in cfg.maildir.items():
        found[f"maildir:{name}"] = (mcfg.silence_alarm, _or(mcfg.alarm_staff, default))
    for name, icfg in cfg.imap.items():
        found[f"imap:{name}"] = (icfg.silence_alarm, _or(icfg.alarm_staff, default))
    if cfg.sms.enabled and cfg.sms.mode == "poll" and cfg.sms.silence_alarm is not None:
        found["sms"] = (cfg.sms.silence_alarm, _or(cfg.sms.alarm_staff, default))
    return found


def _or(own: list[str] | None, default: list[str]) -> list[str]:
    return list(own) if own is not None else default


def alarm_staff_problems(settings: CoreSettings) -> tuple[list[str], list[str]]:
    """(problems that refuse the start, warnings) for the names in every ``alarm_staff``.

    Checked at start and by ``kefu check-config``, not first when a channel falls
    silent. As in escalation chains, a rota missing from ``[staff.rotas]`` is only
    a warning: shifts imported into ``rota_shifts`` can fill it.
    """
    cfg, staff = settings.channels, settings.staff
    lists: list[tuple[str, list[str] | None]] = [("channels.alarm_staff", cfg.alarm_staff)]
    lists += [(f"channels.maildir.{n}.alarm_staff", c.alarm_staff) for n, c in cfg.maildir.items()]
    lists += [(f"channels.imap.{n}.alarm_staff", c.alarm_staff) for n, c in cfg.imap.items()]
    lists.append(("channels.sms.alarm_staff", cfg.sms.alarm_staff))
    problems: list[str] = []
    warnings: list[str] = []
    for path, targets in lists:
        for target in targets or []:
            if target.startswith("rota:"):
                if target[5:] not in staff.rotas:
                    warnings.append(
                        f"{path}: rota {target[5:]!r} is not in [staff.rotas] "
                        f"(rotas: {_names(staff.rotas)}); only imported shifts can fill it"
                    )
            elif target not in staff.roles and target not in staff.people:
                problems.append(
                    f"{path}: unknown staff {target!r}{_did_you_mean(staff, target)} "
                    f"(people: {_names(staff.people)} / roles: {_names(staff.roles)} / "
                    f"rotas: {_names(staff.rotas)})"
                )
    return problems, warnings


def _names(keys: Iterable[str]) -> str:
    # A large staff list would bury the error; the first names show the spelling in use.
    names = sorted(keys)
    if not names:
        return "none"
    shown = ", ".join(names[:12])
    return shown + (f" and {len(names) - 12} more" if len(names) > 12 else "")


def _did_you_mean(staff: StaffSection, target: str) -> str:
    close = get_close_matches(target, [*staff.people, *staff.roles], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def alert_silent_channels(app: App, session: Session, now: datetime) -> list[str]:
    """Log and tell staff, once per silence episode, of each channel silent beyond its limit.

    A channel never read successfully is silent since its first try (the first
    failure recorded, else the first pass that watched it). Returns the channels
    found newly silent. Staff are told through the outbox (``audience="staff"``),
    by email when the person has an address, else by SMS.
    """
    silent = []
    settings = _silence_settings(app)
    for name, (limit, targets) in settings.items():
        state = channel_state(session, name)
        note_first_try(state, now)
        since = silent_since(state)
        if since is None or now - since <= limit or state.cursor.get(ALERTED):
            continue
        never_read = state.last_success_at is None
        log.error(
            "channel %s has %s for %s (limit %s): check the mailbox, its password "
            "and the server; `kefu status` shows the last error (%s)",
            name,
            "never been read successfully" if never_read else "not been read",
            now - since,
            limit,
            state.last_error or "none",
        )
        told = tell_staff(
            app,
            session,
            name,
            since=since,
            now=now,
            limit=limit,
            targets=targets,
            last_error=state.last_error,
            never_read=never_read,
        )
        state.cursor = {**state.cursor, ALERTED: now.isoformat(), "silence_told": told}
        silent.append(name)
    return silent


def tell_staff(
    app: App,
    session: Session,
    name: str,
    *,
    since: datetime,
    now: datetime,
    limit: timedelta,
    targets: list[str],
    last_error: str | None,
    never_read: bool = False,
) -> list[str]:
    """Queue the staff message for one silence episode of channel ``name``; the staff keys told.

    ``since`` is the episode's start: the last successful read, or the first try
    of a channel ``never_read``.
    """
    from kefu.outbound.outbox import queue_message
    from kefu.sla.recipients import UnknownRecipient, resolve

    staff, tz = app.settings.staff, app.settings.tz
    keys: list[str] = []
    for target in targets:
        try:
            keys += [k for k in resolve(staff, target, now, tz, session=session) if k not in keys]
        except UnknownRecipient as exc:
            log.error("[channels] alarm_staff of %s: %s", name, exc)
    if not keys:
        log.error(
            "nobody to tell that channel %s is silent: set [channels] alarm_staff = ['role'] "
            "(or alarm_staff on the channel)",
            name,
        )
        return []
    ctx = app.context("core", session)
    context = {
        "channel": name,
        "site_name": app.settings.kefu.site_name,
        "since": since.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "silent_minutes": (now - since) // timedelta(minutes=1),
        "limit_minutes": limit // timedelta(minutes=1),
        "last_error": last_error or "",
        "never_read": never_read,
    }
    told = []
    for key in keys:
        person = staff.people[key]
        channel = "email" if person.email else "sms" if person.phone else None
        if channel is None:
            log.error("channel %s is silent but staff %r has no email or phone in [staff.people]", name, key)
            continue
        queue_message(
            ctx,
            key=f"channel-silent/{name}/{since.isoformat()}/{key}/{channel}",
            channel=channel,
            audience="staff",
            recipient=(person.email if channel == "email" else person.phone) or "",
            recipient_name=person.name,
            template=TEMPLATE if channel == "email" else SMS_TEMPLATE,
            context=context,
            urgent=True,
        )
        told.append(key)
    return told
