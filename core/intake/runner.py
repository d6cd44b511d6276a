"""Intake: read the channels that are due, then process every stored item that is pending."""

from __future__ import annotations

from kefu.app import App
from kefu.channels.polling import poll_channels
from kefu.channels.silence import alert_silent_channels
from kefu.db.engine import transaction
from kefu.intake.process import process_pending


def run_intake(app: App) -> int:
    """Poll the channels that are due (IDLE-woken ones at once) and process pending items.

    Returns how many items were processed. A failing channel is recorded and
    retried with backoff; a failing item is quarantined; neither stops the pass.
    """
    processed = 0

    def process_stored() -> None:
        nonlocal processed
        processed += process_pending(app)

    # Each stored batch is processed before the next is read: a backlog becomes cases batch by batch.
    poll_channels(app, on_stored=process_stored)
    with transaction(app.sessions) as session:
        alert_silent_channels(app, session, app.clock.now())
    return processed + process_pending(app)
