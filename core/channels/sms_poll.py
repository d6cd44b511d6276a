"""Twilio SMS without a public URL: list recent inbound messages through the API.

Each of our numbers is listed for messages sent to it since the last one seen
(minus a margin, as Twilio's list is by day and by second); the store skips
MessageSids it already has, so the overlap costs nothing and loses nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kefu.app import App
from kefu.channels.config import SmsChannel
from kefu.channels.state import channel_state, record_success, update_cursor
from kefu.db.engine import transaction
from kefu.intake.store import NewItem, store_items
from kefu.phones import e164_or_as_given

if TYPE_CHECKING:  # polling imports this module to read the channel
    from kefu.channels.polling import OnStored

OVERLAP = timedelta(minutes=10)
CHANNEL = "sms"


def sms_item(fields: dict[str, Any], received_at: datetime) -> NewItem:
    """The stored form of one incoming SMS (webhook form fields or an API record)."""
    sid = str(fields.get("MessageSid") or fields.get("SmsSid") or "")
    return NewItem(
        channel=CHANNEL,
        source_key=sid,
        kind="sms",
        raw=json.dumps(fields, ensure_ascii=False).encode("utf-8"),
        received_at=received_at,
        sender=e164_or_as_given(str(fields.get("From") or "")) or None,
        data={"to": fields.get("To")},
    )


def poll_twilio(app: App, name: str, cfg: SmsChannel, *, on_stored: OnStored | None = None) -> int:
    """Store inbound messages to our numbers since the last poll; return how many were new.

    They are stored in one batch, after which nothing is left to read: ``on_stored``
    (work to overlap with further reading) is not called.
    """
    from kefu.senders.twilio_client import make_client

    if not cfg.numbers:
        raise ValueError("[channels.sms] mode = 'poll' needs numbers = ['+86…'] (our Twilio numbers)")
    client = make_client(app.settings)
    with transaction(app.sessions) as session:
        cursor = dict(channel_state(session, CHANNEL).cursor or {})
    since_text = cursor.get("last_date_sent")
    # UTC: the client writes the time with a "Z" whatever its zone.
    since = (datetime.fromisoformat(since_text) - OVERLAP).astimezone(UTC) if since_text else None
    listed: list[tuple[str, NewItem]] = []
    newest = since_text
    for number in cfg.numbers:
        kwargs: dict[str, Any] = {"to": number, "page_size": 200}
        if since is not None:
            kwargs["date_sent_after"] = since
        for record in client.messages.list(**kwargs):
            if not str(getattr(record, "direction", "inbound")).startswith("inbound"):
                continue
            sent = getattr(record, "date_sent", None)
            stamp = sent.isoformat() if isinstance(sent, datetime) else ""
            listed.append(
                (
                    stamp,
                    sms_item(
                        {
                            "MessageSid": record.sid,
                            "From": record.from_,
                            "To": record.to,
                            "Body": record.body,
                            "AccountSid": getattr(record, "account_sid", None),
                            "NumMedia": str(getattr(record, "num_media", "0")),
                        },
                        app.clock.now(),
                    ),
                )
            )
            if stamp and (newest is None or stamp > newest):
                newest = stamp
    # Twilio lists newest first; stored oldest first, a reply is processed after what it answers.
    items = [item for _stamp, item in sorted(listed, key=lambda pair: pair[0])]
    with transaction(app.sessions) as session:
        stored = store_items(session, items)
        if newest:
            update_cursor(session, CHANNEL, last_date_sent=newest)
        record_success(session, CHANNEL, app.clock.now())
    return stored
