"""HTTP routes of the senders: Twilio's delivery status callbacks.

Twilio posts ``MessageSid`` and ``MessageStatus`` (queued, sent, delivered,
undelivered, failed; ``ErrorCode`` when it failed) to the ``StatusCallback`` URL we
gave it. The request is checked with the official ``RequestValidator`` against
the public URL in ``[twilio] status_callback`` (the signature binds the exact URL
Twilio called); an unsigned or forged request gets 403 and changes nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import select

from kefu.db.engine import transaction
from kefu.db.models import Case, OutboxMessage
from kefu.http.auth import signature_matches
from kefu.http.router import Request, Response
from kefu.secrets import mask

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.http.router import Router

log = logging.getLogger("kefu.outbox")
DEFAULT_PATH = "/twilio/status"
# Later statuses never go back to earlier ones (callbacks can arrive out of order).
_RANK = {"accepted": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "undelivered": 4, "failed": 4, "read": 5}


def status_path(app: App) -> str:
    """The path the status callback is served at (from ``[twilio] status_callback``)."""
    url = app.settings.twilio.status_callback
    return (urlsplit(url).path or DEFAULT_PATH) if url else DEFAULT_PATH


def add_outbound_routes(router: Router, app: App) -> None:
    """Register the Twilio status callback when Twilio sends our SMS."""
    if not app.settings.twilio.enabled and app.settings.outbound.sms_sender != "twilio":
        return
    router.add("POST", status_path(app), lambda request: twilio_status(app, request))


def twilio_status(app: App, request: Request) -> Response:
    """Validate and apply one delivery status report."""
    from kefu.senders.twilio_client import auth_token

    form = request.form()
    public = app.settings.twilio.status_callback or ""
    url = public + (f"?{request.query}" if request.query and "?" not in public else "")
    try:
        token = auth_token(app.settings)
    except Exception as exc:
        log.error("Twilio status callback refused: no auth token (%s)", exc)
        return Response.text("not configured\n", 503)
    if not public or not signature_matches(token, url, form, request.header("X-Twilio-Signature")):
        log.warning(
            "Twilio status callback with a bad signature from %s refused (check [twilio] "
            "status_callback is the exact public URL)",
            request.client,
        )
        return Response.text("invalid signature\n", 403)
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "").lower()
    if not sid or not status:
        return Response.text("MessageSid and MessageStatus are required\n", 400)
    apply_status(app, sid, status, form.get("ErrorCode") or None)
    return Response(204)


def apply_status(app: App, sid: str, status: str, error_code: str | None) -> bool:
    """Record ``status`` on the row sent as ``sid``; failures are told on the case and customer."""
    from kefu.outbound.outcomes import flag_customers, tell_case
    from kefu.senders.twilio_sms import flag_for

    now = app.clock.now()
    with transaction(app.sessions) as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.provider_id == sid)).first()
        if row is None:
            log.info("status %s for unknown message %s ignored", status, sid)
            return False
        current = _RANK.get(row.delivery_status or "", -1)
        if _RANK.get(status, 0) < current:
            return True
        row.delivery_status = status
        history = list((row.data or {}).get("delivery", []))
        history.append({"status": status, "at": now.isoformat(), "error": error_code})
        row.data = {**(row.data or {}), "delivery": history}
        if status in ("undelivered", "failed"):
            code = int(error_code) if error_code and error_code.isdigit() else None
            text = f"Twilio reports the SMS {status}" + (f" (error {code})" if code else "")
            row.last_error = text
            flag = flag_for(code)
            if flag and row.audience == "customer":
                flag_customers(session, row, flag, now, text)
            if row.case_id is not None and session.get(Case, row.case_id) is not None:
                tell_case(app, session, row, "notification_undelivered", f"SMS to {mask(row.recipient)}: {text}")
    return True
