"""Loopback ports for the servers tests start (Dovecot, aiosmtpd, PostgreSQL, the console)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
