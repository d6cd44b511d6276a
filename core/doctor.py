"""``kefu doctor``: everything outside the Python package that kefu needs, each with its fix.

System libraries (WeasyPrint's Pango, HarfBuzz subset, fontconfig), the letter
fonts, the config, the database, the directories kefu writes, the peers the
config names (IMAP, SMTP), and the test peers (Dovecot, PostgreSQL, chromium),
which only the test suite needs and so never count as a problem.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import socket
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kefu.senders.letters import LIBRARIES_FIX

if TYPE_CHECKING:
    from kefu.app import App

Status = Literal["OK", "missing", "optional"]
CONNECT_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report."""

    area: str
    name: str
    status: Status
    detail: str
    fix: str = ""


def _library(name: str, soname: str, package: str, why: str) -> Finding:
    found = ctypes.util.find_library(soname)
    if found:
        return Finding("system", name, "OK", f"{found} ({why})")
    return Finding("system", name, "missing", f"lib{soname} not found ({why})", f"apt-get install {package}")


def system_findings() -> Iterator[Finding]:
    """Python, the libraries WeasyPrint loads, fontconfig and WeasyPrint itself."""
    ok = sys.version_info >= (3, 11)
    yield Finding(
        "system",
        "python",
        "OK" if ok else "missing",
        sys.version.split()[0],
        "" if ok else "Python 3.11 or later",
    )
    yield _library("pango", "pango-1.0", "libpango-1.0-0", "WeasyPrint lays out letters with it")
    yield _library("pangoft2", "pangoft2-1.0", "libpangoft2-1.0-0", "Pango's fontconfig backend")
    yield _library(
        "harfbuzz-subset",
        "harfbuzz-subset",
        "libharfbuzz-subset0",
        "WeasyPrint embeds only the glyphs a letter uses",
    )
    fc = shutil.which("fc-match")
    yield Finding(
        "system",
        "fontconfig",
        "OK" if fc else "missing",
        fc or "fc-match not found (kefu asks it which fonts are installed)",
        "" if fc else "apt-get install fontconfig",
    )
    try:
        import weasyprint

        yield Finding("system", "weasyprint", "OK", f"WeasyPrint {weasyprint.__version__}")
    except Exception as exc:  # OSError when Pango is missing: cffi cannot open it
        yield Finding(
            "system",
            "weasyprint",
            "missing",
            f"{type(exc).__name__}: {exc}",
            LIBRARIES_FIX,
        )


def font_findings(app: App | None) -> Iterator[Finding]:
    """The letter fonts of the config (the default fonts without one)."""
    from kefu.senders.config import LetterSettings
    from kefu.senders.letter_fonts import check_app_fonts, check_fonts

    report = check_app_fonts(app) if app is not None else check_fonts(LetterSettings().fonts)
    if report.ok:
        for face in report.faces:
            yield Finding("fonts", face.requested, "OK", face.file)
        return
    for problem in report.problems:
        fix = problem.rpartition(": ")[2] if "apt-get" in problem else "see [outbound.letters] fonts"
        yield Finding("fonts", "letter fonts", "missing", problem, fix)


def _writable(path: Path) -> tuple[bool, str]:
    """Whether kefu can write in ``path`` (or create it), and what it found."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return False, f"{probe} is not a directory"
    if not os.access(probe, os.W_OK | os.X_OK):
        return False, f"{probe} is not writable by uid {os.getuid()}"
    return True, str(path) if path.exists() else f"{path} (created at start)"


def directory_findings(app: App) -> Iterator[Finding]:
    """The state directory, the spool, each Maildir and the site template folder."""
    s = app.settings
    dirs = {"state_dir": Path(s.kefu.state_dir)}
    dirs["spool"] = Path(s.outbound.spool.path) if s.outbound.spool.path else dirs["state_dir"] / "spool"
    for name, cfg in s.channels.maildir.items():
        dirs[f"maildir:{name}"] = Path(cfg.path)
    for name, path in dirs.items():
        ok, detail = _writable(path)
        yield Finding(
            "directories",
            name,
            "OK" if ok else "missing",
            detail,
            "" if ok else f"create it and give it to the user running kefu: install -d -o kefu {path}",
        )
    if s.outbound.templates is not None:
        folder = Path(s.outbound.templates)
        yield Finding(
            "directories",
            "templates",
            "OK" if folder.is_dir() else "missing",
            str(folder),
            "" if folder.is_dir() else "create it or fix [outbound] templates",
        )


def _reachable(host: str, port: int) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS):
            return None
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


def peer_findings(app: App) -> Iterator[Finding]:
    """The database (reachable, schema current) and each server the config names."""
    from kefu.db.schema import check_schema

    url = app.engine.url.render_as_string(hide_password=True)
    try:
        check_schema(app.engine)
        yield Finding("peers", "database", "OK", url)
    except Exception as exc:
        fix = "kefu db upgrade" if "db upgrade" in str(exc) else "check [database] url and that the server runs"
        yield Finding("peers", "database", "missing", f"{url}: {exc}", fix)
    s = app.settings
    servers: dict[str, tuple[str, int]] = {
        f"imap:{name}": (cfg.host, cfg.effective_port) for name, cfg in s.channels.imap.items()
    }
    if s.outbound.email_sender == "smtp":
        servers["smtp"] = (s.outbound.smtp.host, s.outbound.smtp.port)
    for name, (host, port) in servers.items():
        error = _reachable(host, port)
        yield Finding(
            "peers",
            name,
            "OK" if error is None else "missing",
            f"{host}:{port}" + (f": {error}" if error else ""),
            "" if error is None else "check the host and port in the config, and the firewall",
        )


def test_peer_findings() -> Iterator[Finding]:
    """What only the test suite needs; missing ones make those tests skip (never a problem here)."""
    from kefu.testing.databases import postgres_available

    dovecot = shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.access(p, os.X_OK)), None)
    yield Finding(
        "tests",
        "dovecot",
        "OK" if dovecot else "optional",
        dovecot or "not installed",
        "" if dovecot else "apt-get install dovecot-imapd (or tools/bootstrap --tests)",
    )
    reason = postgres_available()
    yield Finding(
        "tests",
        "postgresql",
        "OK" if reason is None else "optional",
        "127.0.0.1:5432, database test" if reason is None else reason,
        "" if reason is None else "tools/bootstrap --tests",
    )
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    yield Finding(
        "tests",
        "chromium",
        "OK" if chromium else "optional",
        chromium or "not installed",
        "" if chromium else "apt-get install chromium",
    )


def diagnose(app: App | None, config_error: str | None, *, tests: bool = True) -> list[Finding]:
    """Every finding; ``app`` is None when the config could not be read (``config_error``)."""
    findings = list(system_findings())
    findings += font_findings(app)
    if app is None:
        findings.append(
            Finding(
                "config",
                "config",
                "missing",
                config_error or "not readable",
                "kefu check-config names the file, the key and what was expected",
            )
        )
    else:
        findings.append(Finding("config", "config", "OK", str(app.config_path)))
        findings += directory_findings(app)
        findings += peer_findings(app)
    if tests:
        findings += test_peer_findings()
    return findings


def as_rows(findings: list[Finding]) -> list[dict[str, Any]]:
    """The findings as JSON-ready dicts."""
    return [asdict(f) for f in findings]
