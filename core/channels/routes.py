"""HTTP routes of the inbound channels: Twilio's incoming-SMS webhook and the hotline API."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from kefu.channels.hotline import BadCall, call_item
from kefu.channels.sms_poll import sms_item
from kefu.db.engine import transaction
from kefu.db.models import Case, InboundItem
from kefu.http.auth import bearer_matches, signature_matches
from kefu.http.router import Request, Response
from kefu.intake.process import process_pending
from kefu.intake.store import NewItem, store_items
from kefu.secrets import find_secret

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.http.router import Router

log = logging.getLogger("kefu.channels.http")
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def add_channel_routes(router: Router, app: App) -> None:
    """Register the routes of every configured channel that receives over HTTP."""
    channels = app.settings.channels
    if channels.sms.enabled and channels.sms.mode == "webhook":
        router.add("POST", channels.sms.path, lambda request: twilio_webhook(app, request))
    if channels.hotline.enabled:
        router.add("POST", channels.hotline.path, lambda request: hotline_api(app, request))


def webhook_url(app: App, request: Request) -> str:
    """The URL Twilio signed: ``[http] public_url`` + path when set, else the request's own URL."""
    query = f"?{request.query}" if request.query else ""
    public = app.settings.http.public_url
    if public:
        return public.rstrip("/") + request.path + query
    host = request.header("host") or f"{app.settings.http.host}:{app.settings.http.port}"
    return f"http://{host}{request.path}{query}"


def twilio_webhook(app: App, request: Request) -> Response:
    """Twilio's incoming-message webhook: validate the signature, store once, answer empty TwiML."""
    name = app.settings.twilio.auth_token_secret
    token = find_secret(name) if name else None
    if not token:
        log.error("SMS webhook called but [twilio] auth_token_secret is not set or empty; refused")
        return Response.text("webhook not configured\n", 503)
    params = request.form()
    signature = request.header("x-twilio-signature")
    if not signature_matches(token, webhook_url(app, request), params, signature):
        log.warning(
            "SMS webhook: %s request from %s refused (X-Twilio-Signature does not match %s)",
            "unsigned" if not signature else "forged",
            request.client,
            webhook_url(app, request),
        )
        return Response.text("forbidden\n", 403)
    if not (params.get("MessageSid") or params.get("SmsSid")):
        return Response.text("MessageSid missing\n", 400)
    _store_and_process(app, [sms_item(params, app.clock.now())])
    return Response(200, EMPTY_TWIML, "text/xml; charset=utf-8")


def hotline_api(app: App, request: Request) -> Response:
    """``POST`` one call (a JSON object) or ``{"calls": [...]}`` with ``Authorization: Bearer``."""
    cfg = app.settings.channels.hotline
    expected = find_secret(cfg.token_secret) if cfg.token_secret else None
    if not expected:
        log.error("hotline API called but [channels.hotline] token_secret is not set; refused")
        return Response.json({"error": "the hotline API has no token configured"}, 503)
    if not bearer_matches(request.header("authorization"), expected):
        log.warning("hotline API: request from %s refused (bad or missing bearer token)", request.client)
        return Response.json({"error": "bad or missing bearer token"}, 401, headers={"WWW-Authenticate": "Bearer"})
    try:
        body = request.json()
    except ValueError as exc:
        return Response.json({"error": str(exc)}, 400)
    calls = body.get("calls") if isinstance(body, dict) and "calls" in body else [body]
    if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
        return Response.json({"error": 'send a call object or {"calls": [call, ...]}'}, 400)
    items, errors = [], []
    for index, call in enumerate(calls):
        try:
            items.append(
                call_item(
                    call, cfg, app.settings.tz, app.clock.now(), source="api", country=app.settings.kefu.default_country
                )
            )
        except BadCall as exc:
            errors.append({"index": index, "error": str(exc)})
    if errors:
        return Response.json({"error": "some calls are invalid; nothing was stored", "calls": errors}, 422)
    return Response.json({"calls": _store_and_process(app, items)})


def _without_nul(item: NewItem) -> NewItem:
    """The item with NUL removed from its text columns (PostgreSQL refuses NUL in text; the raw
    bytes keep it): a request carrying one gets its answer, not an error."""

    def clean(text: str | None) -> str | None:
        return text.replace("\x00", "") if text else text

    return dataclasses.replace(
        item,
        source_key=clean(item.source_key) or "",
        message_id=clean(item.message_id),
        sender=clean(item.sender),
        subject=clean(item.subject),
    )


def _store_and_process(app: App, items: list[NewItem]) -> list[dict[str, Any]]:
    """Store, process at once, and say what became of each item."""
    items = [_without_nul(item) for item in items]
    with transaction(app.sessions) as session:
        store_items(session, items)
    keys = [(i.channel, i.source_key) for i in items]
    with transaction(app.sessions) as session:
        rows = {
            (r.channel, r.source_key): r
            for r in session.query(InboundItem).filter(InboundItem.source_key.in_([k for _c, k in keys]))
        }
    process_pending(app, ids=[r.id for r in rows.values() if r.status == "pending"])
    out = []
    with transaction(app.sessions) as session:
        for key in keys:
            row = rows.get(key)
            if row is None:
                continue
            row = session.get(InboundItem, row.id)
            assert row is not None
            case = session.get(Case, row.case_id) if row.case_id else None
            out.append(
                {
                    "id": key[1],
                    "item": row.id,
                    "status": row.status,
                    "case": case.number if case else None,
                    "reason": row.reason,
                }
            )
    return out
