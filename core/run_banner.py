"""What ``kefu run`` tells a person at a terminal: where mail goes in, where messages land,
which URL serves what, and the next command to try.

Printed only when stderr is a terminal: under systemd the journal gets the usual
log lines and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from kefu.app import App

# What each core route is for; a plugin's routes are shown by their path.
ROUTE_PURPOSE = {
    "/healthz": "health (503 when a loop stalls; times in UTC)",
    "/metrics": "Prometheus metrics",
}


def should_show(stream: TextIO) -> bool:
    """True when ``stream`` is a terminal a person reads."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _here(path: Path) -> str:
    """``path`` as short as it can be written from the current directory."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path.resolve())


def _spool(app: App) -> Path:
    s = app.settings
    return Path(s.outbound.spool.path) if s.outbound.spool.path else Path(s.kefu.state_dir) / "spool"


def _sample_mail(app: App) -> Path | None:
    """A demo mail shipped by an enabled plugin (``demo/*.eml``), to try the Maildir with."""
    for name in app.host.enabled:
        module = app.host.pm.get_plugin(name)
        file = getattr(module, "__file__", None)
        if file:
            found = sorted((Path(file).parent / "demo").glob("*.eml"))
            if found:
                return found[0]
    return None


def banner(app: App, routes: list[tuple[str, str]], base_url: str | None) -> str:
    """The lines to print; ``routes`` are the listener's (method, path), ``base_url`` its address."""
    s = app.settings
    kefu = f"kefu --config {_here(app.config_path)}"
    lines = [
        f"kefu is running ({', '.join(app.host.enabled) or 'no plugins'}); Ctrl-C stops it.",
        "",
    ]
    lines.append("Mail in:")
    for name, cfg in s.channels.maildir.items():
        lines.append(f"  drop .eml files into {_here(Path(cfg.path) / 'new')}/   (maildir:{name})")
    for name, icfg in s.channels.imap.items():
        lines.append(f"  imap:{name}: {icfg.user}@{icfg.host} {icfg.mailbox}" + (" (IDLE)" if icfg.idle else ""))
    if not s.channels.maildir and not s.channels.imap:
        lines.append("  no mail channel configured ([channels.maildir.*] or [channels.imap.*])")
    if s.channels.hotline.enabled:
        lines.append(f"  96123 call records: {kefu} import hotline FILE.csv")
    lines.append("Messages out:")
    spool = _spool(app)
    if s.outbound.sms_sender == "spool":
        lines.append(f"  SMS      {_here(spool / 'sms.jsonl')}")
    else:
        lines.append("  SMS      Twilio")
    if s.outbound.email_sender == "spool":
        lines.append(f"  mail     {_here(spool / 'mail')}/")
    else:
        lines.append(f"  mail     SMTP {s.outbound.smtp.host}:{s.outbound.smtp.port}")
    lines.append(f"  letters  {_here(spool / 'letters')}/  (to post: {kefu} letters pending)")
    if base_url:
        purpose = {
            **ROUTE_PURPOSE,
            s.channels.hotline.path: "hotline API for the call centre (Bearer token)",
            s.channels.sms.path: "Twilio SMS webhook (signed)",
        }
        lines.append(f"HTTP on {base_url}:")
        for method, path in sorted(routes, key=lambda r: (r[1], r[0])):
            lines.append(f"  {method:<4} {base_url}{path}  {purpose.get(path, '')}".rstrip())
    else:
        lines.append("HTTP: off ([http] enabled = false)")
    if s.console.enabled:
        lines.append(
            f"Staff console on http://{s.console.host}:{s.console.port}/ (passwords: {kefu} staff passwd NAME)"
        )
    lines.append("Try next (in a second terminal):")
    sample = _sample_mail(app)
    if sample is not None and s.channels.maildir:
        first = next(iter(s.channels.maildir.values()))
        lines.append(f"  cp {_here(sample)} {_here(Path(first.path) / 'new')}/")
    lines.append(f"  {kefu} cases list")
    lines.append(f"  {kefu} status")
    return "\n".join(lines)
