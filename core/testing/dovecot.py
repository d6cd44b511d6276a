"""A private Dovecot for tests and benchmarks: own config, own users, loopback, a free port.

Nothing in /etc/dovecot is used. Started as root, Dovecot refuses root as the mail
user, so mail belongs to ``nobody``/``nogroup`` (see ../shared/PEERS.md); as an
ordinary user the same config runs with that user's ids.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from imapclient import IMAPClient

from kefu.testing.ports import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "kefu", "kefu-test-pw"


class Dovecot:
    """One running Dovecot with one user; ``append`` delivers, ``client`` logs in."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.host = "127.0.0.1"
        self.port = free_port()
        self.user, self.password = USER, PASSWORD
        self.maildir = root / "mail" / USER
        self.conf = root / "dovecot.conf"
        self.process: subprocess.Popen[bytes] | None = None
        self._write_config()

    def _ids(self) -> tuple[str, str, int]:
        if os.geteuid() == 0:
            import grp
            import pwd

            return "nobody", "nogroup", min(pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
        import grp
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name, 1

    def _write_config(self) -> None:
        user, group, lowest = self._ids()
        for sub in ("base", "state", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        passwd = self.root / "passwd"
        passwd.write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        if os.geteuid() == 0:
            import grp
            import pwd

            os.chmod(self.root, 0o755)
            os.chown(passwd, 0, grp.getgrnam("dovecot").gr_gid)
            os.chmod(passwd, 0o640)
            uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
            os.chown(self.root / "mail", uid, gid)
        self.conf.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.root / "base"}
state_dir = {self.root / "state"}
log_path = {self.root / "dovecot.log"}
info_log_path = {self.root / "dovecot.log"}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = {lowest}
first_valid_gid = {lowest}
mail_uid = {user}
mail_gid = {group}
{"default_internal_user = dovecot" if os.geteuid() == 0 else f"default_internal_user = {user}"}
{"default_login_user = dovenull" if os.geteuid() == 0 else f"default_login_user = {user}"}
default_internal_group = {"dovecot" if os.geteuid() == 0 else group}
mail_location = maildir:{self.root / "mail"}/%u
mail_fsync = never
passdb {{
  driver = passwd-file
  args = {passwd}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={self.root / "mail"}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
""")

    def start(self) -> Dovecot:
        """Start Dovecot and wait until it accepts connections."""
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"dovecot exited at start: {err}{self.log()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not start within 10 s: {self.log()}")

    def stop(self) -> None:
        """Stop Dovecot (the mail stays)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port; UIDs and UIDVALIDITY survive."""
        self.stop()
        self.start()

    def log(self) -> str:
        """Dovecot's log so far (for failure messages)."""
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client(self) -> IMAPClient:
        """A logged-in IMAPClient."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        """Deliver ``messages`` to ``folder`` over IMAP APPEND."""
        client = self.client()
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for raw in messages:
                client.append(folder, raw)
        finally:
            client.logout()

    def flags(self, folder: str = "INBOX") -> dict[int, set[bytes]]:
        """Every message's flags in ``folder``, by UID (read-only: nothing is changed)."""
        client = self.client()
        try:
            client.select_folder(folder, readonly=True)
            return {uid: set(found) for uid, found in client.get_flags(client.search("ALL")).items()}
        finally:
            client.logout()

    def recreate(self, folder: str = "INBOX") -> None:
        """Delete and re-create ``folder``'s storage, which changes its UIDVALIDITY."""
        path = self.maildir if folder == "INBOX" else self.maildir / f".{folder}"
        for name in ("dovecot-uidlist", "dovecot-uidvalidity"):
            target = path / name
            if target.exists():
                target.unlink()
        for stale in path.glob("dovecot-uidvalidity.*"):
            stale.unlink()

    def channel_config(self, **extra: object) -> dict[str, object]:
        """A ``[channels.imap.NAME]`` table for this server (password secret ``test_imap``)."""
        os.environ["KEFU_TEST_IMAP"] = self.password
        return {
            "host": self.host,
            "port": self.port,
            "security": "plain",
            "user": self.user,
            "password_secret": "test_imap",
            "timeout": "5s",
            **extra,
        }


def start_dovecot(root: Path) -> Dovecot:
    """Start a Dovecot under ``root``; skip (or fail in CI) when the binary is missing."""
    from kefu.testing.fixtures import skip_or_fail

    if not Path(DOVECOT).exists():
        skip_or_fail(f"dovecot is not installed ({DOVECOT}); apt-get install dovecot-imapd")
    return Dovecot(root).start()


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A fresh private Dovecot (user ``kefu``), stopped and removed after the test."""
    # Not under pytest's tmp_path: its folders are private to us, and Dovecot's own
    # users (dovecot, nobody) must reach the passwd file and the mail.
    root = Path(tempfile.mkdtemp(prefix="kefu-dovecot-"))
    os.chmod(root, 0o755)
    try:
        server = start_dovecot(root)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
