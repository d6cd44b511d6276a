"""sd_notify without a dependency: READY, RELOADING, WATCHDOG, STOPPING; a no-op outside systemd."""

from __future__ import annotations

import os
import socket
import time


class Notifier:
    """Talks to systemd's notify socket (``$NOTIFY_SOCKET``) when there is one."""

    def __init__(self) -> None:
        self.address = os.environ.get("NOTIFY_SOCKET")
        if self.address and self.address.startswith("@"):
            self.address = "\0" + self.address[1:]  # abstract socket namespace
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        wanted = usec is not None and (pid is None or pid == str(os.getpid()))
        self.watchdog_interval = int(usec) / 1_000_000 / 2 if wanted and usec else None

    @property
    def enabled(self) -> bool:
        """True under systemd (Type=notify)."""
        return bool(self.address)

    def send(self, *fields: str) -> None:
        """Send ``KEY=VALUE`` fields; errors are ignored, as sd_notify(3) does."""
        if not self.address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self.address)
                sock.sendall("\n".join(fields).encode())
        except OSError:
            pass

    def ready(self, status: str = "running") -> None:
        """Tell systemd the daemon is up."""
        self.send("READY=1", f"STATUS={status}")

    def reloading(self) -> None:
        """Tell systemd a reload started (systemd ≥ 253 wants MONOTONIC_USEC with it)."""
        self.send("RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")

    def watchdog(self) -> None:
        """Feed the watchdog; called only while the daemon's loops make progress."""
        self.send("WATCHDOG=1")

    def stopping(self) -> None:
        """Tell systemd the daemon is stopping."""
        self.send("STOPPING=1")

    def status(self, text: str) -> None:
        """Set the status line ``systemctl status`` shows."""
        self.send(f"STATUS={text}")
