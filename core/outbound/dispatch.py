"""The dispatcher (issue 5 fills this in)."""

from __future__ import annotations

from kefu.app import App


def run_dispatch(app: App) -> int:
    """Send every outbox row that is due; return how many were handled."""
    return 0
