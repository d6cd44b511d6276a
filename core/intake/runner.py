"""Intake: read every channel once and process the stored items (issue 4 fills this in)."""

from __future__ import annotations

from kefu.app import App


def run_intake(app: App) -> int:
    """Poll the channels that are not push-driven and process pending inbound items."""
    return 0
