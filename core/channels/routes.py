"""HTTP routes of the inbound channels (Twilio webhook, hotline API); issue 4 fills this in."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.http.router import Router


def add_channel_routes(router: Router, app: App) -> None:
    """Register the routes of every configured channel that receives over HTTP."""
