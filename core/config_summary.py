"""What ``kefu check-config`` prints: what would run, warnings, and problems found."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url

from kefu.app import App
from kefu.channels.config import ChannelsSection


def _channels(channels: ChannelsSection) -> list[str]:
    """Every channel that would read something, as the daemon names it."""
    names = [f"maildir:{name}" for name in channels.maildir]
    names += [f"imap:{name} ({cfg.host})" for name, cfg in channels.imap.items()]
    if channels.sms.enabled:
        names.append(f"sms ({channels.sms.mode})")
    if channels.hotline.enabled:
        names.append("hotline")
    return names


def summarize(app: App) -> dict[str, Any]:
    """A summary of the validated config: plugins, kinds, jobs, channels, senders, warnings."""
    s = app.settings
    problems: list[str] = []
    from kefu.senders.letter_fonts import check_app_fonts
    from kefu.templating import outbound_summary

    outbound_lines, template_problems = outbound_summary(app)
    problems.extend(template_problems)
    fonts = check_app_fonts(app)
    problems.extend(fonts.problems)
    return {
        **outbound_lines,
        "letter fonts": fonts.summary().removeprefix("letter fonts: ") if fonts.ok else "MISSING (see below)",
        "database": make_url(s.database_url()).render_as_string(hide_password=True),
        "plugins": ", ".join(app.host.enabled) or "none",
        "case kinds": ", ".join(sorted(app.kinds)) or "none",
        "cron jobs": ", ".join(f"{jid} [{job.schedule}]" for jid, (_p, job) in sorted(app.jobs.items())) or "none",
        "channels": ", ".join(_channels(s.channels)) or "none",
        "http": f"{s.http.host}:{s.http.port}" if s.http.enabled else "off",
        "console": f"{s.console.host}:{s.console.port}" if s.console.enabled else "off",
        "timezone": s.kefu.timezone,
        "warnings": list(app.warnings),
        "problems": problems,
    }
