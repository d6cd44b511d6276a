"""HTTP routes of the senders (Twilio status callbacks); issue 5 fills this in."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.http.router import Router


def add_outbound_routes(router: Router, app: App) -> None:
    """Register the routes senders need (delivery status callbacks)."""
