"""A real SMTP server for tests: aiosmtpd on a free loopback port, recording what it receives.

``smtp_server`` answers ``250 OK queued as <id>`` like a real relay; a test can make it
refuse a recipient (``server.refuse["x@example.com"] = "550 5.1.1 no such user"``),
slow down (``server.delay = 0.05``) or accept AUTH (user ``kefu``, password
``smtp-secret``, without TLS on loopback).
"""

from __future__ import annotations

import asyncio
import email
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.policy import compat32
from typing import Any

import pytest

from kefu.testing.ports import free_port

SMTP_USER, SMTP_PASSWORD = "kefu", "smtp-secret"


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    session_id: int
    queue_id: str

    def parsed(self) -> Message:
        """The message parsed (compat32, as kefu's intake reads mail)."""
        return email.message_from_bytes(self.content, policy=compat32)


@dataclass
class _Recorder:
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        answer = self.refuse.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            queue_id = f"Q{len(self.received) + 1:06d}"
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    bytes(envelope.original_content or envelope.content),
                    id(session),
                    queue_id,
                )
            )
        return f"250 OK queued as {queue_id}"


class SmtpServer:
    """A running aiosmtpd server; ``messages`` lists what it accepted."""

    def __init__(self, port: int | None = None) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        def authenticator(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and data.login.decode() == SMTP_USER
                and data.password.decode() == SMTP_PASSWORD
            )
            return AuthResult(success=ok)

        self.recorder = _Recorder()
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.controller = Controller(
            self.recorder,
            hostname=self.host,
            port=self.port,
            authenticator=authenticator,
            auth_require_tls=False,
            decode_data=False,
        )

    @property
    def messages(self) -> list[Received]:
        """Every accepted message, in order."""
        with self.recorder.lock:
            return list(self.recorder.received)

    @property
    def refuse(self) -> dict[str, str]:
        """Recipient (lower case) → SMTP reply to RCPT TO, e.g. ``"550 5.1.1 unknown user"``."""
        return self.recorder.refuse

    @property
    def delay(self) -> float:
        """Seconds the server waits before answering DATA."""
        return self.recorder.delay

    @delay.setter
    def delay(self, value: float) -> None:
        self.recorder.delay = value

    def config(self, **smtp: Any) -> dict[str, Any]:
        """The ``[outbound]`` config that sends through this server."""
        return {
            "email_sender": "smtp",
            "smtp": {"host": self.host, "port": self.port, "security": "plain", "from": "kefu@kefu.example", **smtp},
        }

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until ``count`` messages arrived (for servers fed by another process)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.messages

    def start(self) -> SmtpServer:
        """Start serving in the controller's thread."""
        self.controller.start()
        self.running = True
        return self

    def stop(self) -> None:
        """Stop serving (again is harmless: a test may stop it to simulate an outage)."""
        if getattr(self, "running", False):
            self.controller.stop()
            self.running = False


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free loopback port, stopped after the test."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()
