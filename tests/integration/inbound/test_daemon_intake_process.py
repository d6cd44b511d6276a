"""A real ``kefu run`` reading a real Dovecot: intake runs in the daemon's own process.

No parse process is forked (so a SIGHUP reload cannot fork while threads hold locks, and a
kill -9 leaves no orphan holding IMAP connections): the daemon never has a child, reloads
under load lose and repeat nothing, and after a kill -9 a restart finishes the mailbox with
each message stored and opened once.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kefu.db.engine import make_engine, session_factory
from kefu.db.models import Case, InboundItem
from kefu.db.schema import upgrade
from kefu.testing.daemons import DaemonProcess, write_config
from kefu.testing.dovecot import Dovecot
from kefu.testing.mail import build_mail

pytestmark = pytest.mark.slow
MESSAGES = 400


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def _running_with(marker: str) -> list[int]:
    """Processes whose command line names ``marker`` (the test's own config path)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue
    return found


def _counts(url: str) -> tuple[int, int, int, int]:
    """(items, items still pending, cases, distinct Message-IDs among the items)."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            items = s.scalar(select(func.count()).select_from(InboundItem)) or 0
            pending = (
                s.scalar(select(func.count()).select_from(InboundItem).where(InboundItem.status == "pending")) or 0
            )
            cases = s.scalar(select(func.count()).select_from(Case)) or 0
            mids = s.scalar(select(func.count(func.distinct(InboundItem.message_id)))) or 0
            return items, pending, cases, mids
    finally:
        engine.dispose()


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the code's schema, as ``kefu db upgrade`` does."""
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def _config(tmp_path: Path, url: str, dovecot: Dovecot) -> dict[str, Any]:
    """A daemon with the example plugin reading the Dovecot INBOX in batches of 25, every second."""
    return {
        "kefu": {"state_dir": str(tmp_path / "state"), "node_name": "d1"},
        "database": {"url": url},
        "plugins": {"enabled": ["example"]},
        "http": {"enabled": False, "port": 0},
        "scheduler": {"sweep_interval": "1s", "dispatch_interval": "1s", "intake_interval": "1s"},
        "outbound": {"spool": {"path": str(tmp_path / "spool")}},
        "channels": {
            "imap": {
                "service": dovecot.channel_config(
                    idle=False, poll_interval="1s", batch_size=25, default_kind="example.request"
                )
            }
        },
    }


def _wait(predicate: Any, what: str, daemon: DaemonProcess, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        assert daemon.proc.poll() is None, daemon.log()
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not happen within {timeout}s; the daemon's log:\n{daemon.log()}")


def _fill(dovecot: Dovecot, tag: str, count: int = MESSAGES) -> None:
    dovecot.append(
        *[build_mail(subject=f"报修 {i}", text=f"{tag} 第{i}号", message_id=f"<{tag}{i}@client>") for i in range(count)]
    )


def test_sighup_reloads_under_load_with_no_child_process(tmp_path: Path, sqlite_url: str, dovecot: Dovecot) -> None:
    migrate(sqlite_url)
    _fill(dovecot, "reload")
    config = write_config(tmp_path / "kefu.toml", _config(tmp_path, sqlite_url, dovecot))
    daemon = DaemonProcess(config, tmp_path)
    try:
        daemon.wait_ready(timeout=30)
        _wait(lambda: _counts(sqlite_url)[0] > 0, "the first stored mail", daemon)
        reloads = 0
        while _counts(sqlite_url)[2] < MESSAGES and reloads < 5:
            assert _children(daemon.pid) == []  # intake forks nothing, loaded or not
            daemon.signal(signal.SIGHUP)
            reloads += 1
            daemon.notify.wait_for("READY", count=reloads + 1, timeout=30)
        assert reloads >= 1
        _wait(lambda: _counts(sqlite_url)[2] == MESSAGES, "every message's case", daemon)
        items, pending, cases, mids = _counts(sqlite_url)
        assert (items, pending, cases, mids) == (MESSAGES, 0, MESSAGES, MESSAGES)
        assert dovecot.flags() == {uid: {b"\\Seen", b"KefuStored"} for uid in range(1, MESSAGES + 1)}
        assert _children(daemon.pid) == []
        code, _took = daemon.stop()
        assert code == 0, daemon.log()
    finally:
        daemon.close()


def test_kill_9_during_intake_leaves_no_orphan_and_a_restart_finishes_once(
    tmp_path: Path, sqlite_url: str, dovecot: Dovecot
) -> None:
    migrate(sqlite_url)
    # More mail than a quiet machine reads between the first stored batch and the kill.
    total = 4 * MESSAGES
    _fill(dovecot, "kill", total)
    config = write_config(tmp_path / "kefu.toml", _config(tmp_path, sqlite_url, dovecot))
    first = DaemonProcess(config, tmp_path, name="first")
    try:
        first.wait_ready(timeout=30)
        _wait(lambda: _counts(sqlite_url)[0] > 0, "the first stored mail", first)
        assert _children(first.pid) == []
        first.kill()
    finally:
        first.close()
    assert _running_with(str(config)) == []  # nothing of the daemon outlives it
    assert _counts(sqlite_url)[2] < total, "killed too late to test anything: fill more mail"
    second = DaemonProcess(config, tmp_path, name="second")
    try:
        second.wait_ready(timeout=30)
        _wait(lambda: _counts(sqlite_url)[2] == total, "every message's case after the restart", second)
        items, pending, cases, mids = _counts(sqlite_url)
        assert (items, pending, cases, mids) == (total, 0, total, total)
        assert dovecot.flags() == {uid: {b"\\Seen", b"KefuStored"} for uid in range(1, total + 1)}
        code, _took = second.stop()
        assert code == 0, second.log()
    finally:
        second.close()
