"""What ``kefu check-config`` prints: what would run, warnings, and problems found."""

from __future__ import annotations

from typing import Any

from kefu.app import App


def summarize(app: App) -> dict[str, Any]:
    """A summary of the validated config: plugins, kinds, jobs, channels, senders, warnings."""
    s = app.settings
    problems: list[str] = []
    from kefu.templating import outbound_summary

    outbound_lines, template_problems = outbound_summary(app)
    problems.extend(template_problems)
    return {
        **outbound_lines,
        "database": s.database_url().split("@")[-1] if s.database.url else s.database_url(),
        "plugins": ", ".join(app.host.enabled) or "none",
        "case kinds": ", ".join(sorted(app.kinds)) or "none",
        "cron jobs": ", ".join(f"{jid} [{job.schedule}]" for jid, (_p, job) in sorted(app.jobs.items())) or "none",
        "channels": ", ".join(f"maildir:{name}" for name in s.channels.maildir) or "none",
        "http": f"{s.http.host}:{s.http.port}" if s.http.enabled else "off",
        "timezone": s.kefu.timezone,
        "warnings": list(app.warnings),
        "problems": problems,
    }
