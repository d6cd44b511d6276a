"""Starting the push-driven channel workers (IMAP IDLE); issue 4 fills this in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kefu.app import App


class ChannelWorker(Protocol):
    """A background worker of one channel."""

    def stop(self) -> None:
        """Stop and join the worker."""


def start_channels(app: App, wake: Callable[[str], None]) -> list[ChannelWorker]:
    """Start one worker per push-driven channel; ``wake("intake")`` asks for an intake pass."""
    return []
