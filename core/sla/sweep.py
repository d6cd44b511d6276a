"""The deadline sweep (issue 3 fills this in)."""

from __future__ import annotations

from kefu.app import App


def run_sweep(app: App) -> int:
    """Handle every deadline due by now; return how many were handled."""
    return 0
