"""Queueing notifications in the outbox, in the transaction of the change that causes them.

A message is rendered here, at queue time, so that a broken template fails only its
own row (state ``failed``, the error recorded) and never the case change that queued
it. Quiet hours set ``not_before`` for customers' SMS; the dispatcher re-checks
consent and quiet hours when it sends.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from kefu.context import app_of
from kefu.db.base import table_of
from kefu.db.models import Case, Customer, OutboxMessage
from kefu.outbound.moot import check_triggers
from kefu.outbound.policy import quiet_until
from kefu.templating import RenderError, render, resolve, template_marks

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kefu.app import App
    from kefu.context import PluginContext

log = logging.getLogger("kefu.outbox")
CHANNELS = ("email", "sms", "letter")
_KEYS = "kefu_outbox_keys"
_TABLE = table_of(OutboxMessage)
_KEY_LOOKUP = select(_TABLE.c.id).where(_TABLE.c.idem_key == bindparam("key"))


def queue_message(
    ctx: PluginContext,
    *,
    key: str,
    channel: str,
    recipient: str,
    template: str,
    context: dict[str, Any] | None = None,
    case: Case | None = None,
    customer: Customer | None = None,
    audience: str = "customer",
    recipient_name: str | None = None,
    urgent: bool = False,
    marketing: bool = False,
    not_before: datetime | None = None,
    letter: str | None = None,
    address: str | None = None,
    auto: bool = True,
    cancel_on: Sequence[str] = (),
    files: Sequence[tuple[str, bytes, str]] = (),
) -> OutboxMessage | None:
    """Queue one message unless a row with the same idempotency ``key`` exists (then None).

    ``key`` names the case, rule, step, recipient and channel, e.g.
    ``"HT-2026-000123/ack/customer/sms"``. ``channel`` is email, sms or letter
    (``recipient`` is then the addressee's name or the contractor). ``letter``
    names a letter template attached to an email as PDF; ``address`` is printed on
    letters. ``urgent`` rows ignore customers' quiet hours; ``audience="staff"``
    rows never obey them (their timing is the caller's ``not_before``). ``cancel_on``
    names the events of ``case`` that make the message moot while it still waits
    (``resolved``, ``closed``, ``callback_answered``; see :mod:`kefu.outbound.moot`): it
    is then cancelled with the reason instead of sent. ``files`` (filename, content, MIME
    type) are attached to an email as they are; they are kept base64 in the row's data.

    Returns None without queueing when the key exists, or when ``template`` is an
    acknowledgement (``{# kefu: ack #}``) and the case is marked ``no_ack``
    (auto-replies, bounces, lists). A template that fails to render gives a row in
    state ``failed`` with the error, so staff see it and ``kefu outbox retry`` can
    re-render it after the template is fixed.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    if audience not in ("customer", "staff"):
        raise ValueError(f"unknown audience {audience!r}; expected 'customer' or 'staff'")
    session = ctx.db()
    if _already_queued(session, key):
        return None
    values = row_values(
        ctx,
        ctx.now(),
        key=key,
        channel=channel,
        recipient=recipient,
        template=template,
        context=context,
        case=case,
        customer=customer,
        audience=audience,
        recipient_name=recipient_name,
        urgent=urgent,
        marketing=marketing,
        not_before=not_before,
        letter=letter,
        address=address,
        auto=auto,
        cancel_on=cancel_on,
    )
    if values is None:
        return None
    if files:
        if channel != "email":
            raise ValueError(f"files can only be attached to an email, not to {channel!r}")
        values["data"] = {**values["data"], "files": [file_entry(*f) for f in files]}
    row = OutboxMessage(**values)
    session.add(row)
    session.info.setdefault(_KEYS, set()).add(key)
    return row


def file_entry(filename: str, content: bytes, mime_type: str) -> dict[str, str]:
    """One attached file as the row's JSON data keeps it."""
    return {"filename": filename, "mime_type": mime_type, "content": base64.b64encode(content).decode("ascii")}


def row_values(
    ctx: PluginContext,
    now: datetime,
    *,
    key: str,
    channel: str,
    recipient: str,
    template: str,
    context: dict[str, Any] | None,
    case: Case | None,
    customer: Customer | None,
    audience: str,
    recipient_name: str | None,
    urgent: bool,
    marketing: bool,
    not_before: datetime | None,
    letter: str | None,
    address: str | None,
    auto: bool,
    base: dict[str, Any] | None = None,
    cancel_on: Sequence[str] = (),
) -> dict[str, Any] | None:
    """The column values of one new outbox row, rendered; None when the case refuses an ack.

    Shared by :func:`queue_message` and :func:`kefu.outbound.bulk.queue_many` so both
    queue exactly the same row. ``base`` is :func:`standard_context` without case,
    customer, recipient and address (computed once for many rows).
    """
    app = app_of(ctx)
    if case is not None and (case.data or {}).get("no_ack") and _is_ack(app, template, channel):
        log.info(
            "not acknowledging case %s: intake marked it no_ack (%s); template %s",
            case.number,
            case.data.get("no_ack_reason", "auto-reply/bounce/list"),
            template,
        )
        return None
    customer_id = customer.id if customer is not None else (case.customer_id if case is not None else None)
    if base is None:
        full = standard_context(app, now, case=case, customer=customer, recipient_name=recipient_name, address=address)
    else:
        full = {**base, **_row_context(case=case, customer=customer, recipient_name=recipient_name, address=address)}
    full.update(context or {})
    data: dict[str, Any] = {"context": _json_safe(context or {}), "address": address, "letter": letter, "auto": auto}
    if cancel_on:
        data["cancel_on"] = check_triggers(cancel_on)
    values: dict[str, Any] = {
        "idem_key": key,
        "plugin": ctx.name,
        "case_id": case.id if case is not None else None,
        "customer_id": customer_id,
        "channel": channel,
        "audience": audience,
        "recipient": recipient,
        "recipient_name": recipient_name,
        "template": template,
        "subject": None,
        "body": "",
        "urgent": urgent,
        "marketing": marketing,
        "created_at": now,
        "not_before": not_before or now,
        "state": "queued",
        "attempts": 0,
        "last_error": None,
        "message_id": None,
        "data": data,
    }
    try:
        values.update(rendered_fields(app, template, channel, full, case, marketing=marketing, data=data))
    except RenderError as exc:
        values["state"], values["last_error"] = "failed", f"template error: {exc}"
        log.error("outbox row %s not rendered (it will not be sent): %s", key, exc)
    if channel == "sms" and audience == "customer" and not urgent:
        cfg = app.settings.outbound.sms
        held = quiet_until(values["not_before"], cfg.quiet_start, cfg.quiet_end, app.settings.tz)
        if held is not None:
            values["not_before"] = held
            values["data"] = {**values["data"], "held": "quiet hours"}
    if channel == "email":
        values["message_id"] = new_message_id(app, case)
    return values


def _already_queued(session: Session, key: str) -> bool:
    # Rows added earlier in this transaction are pending (not flushed, for speed):
    # remember their keys on the session, and ask the database for the rest.
    if key in session.info.get(_KEYS, ()):
        return True
    # A Core statement on the session's connection: the ORM query costs more than the lookup.
    return session.connection().execute(_KEY_LOOKUP, {"key": key}).first() is not None


def _is_ack(app: App, template: str, channel: str) -> bool:
    try:
        return template_marks(app, resolve(app, template, channel)).ack
    except RenderError:
        return False  # a missing template fails its own row below


def standard_context(
    app: App,
    now: datetime,
    *,
    case: Case | None = None,
    customer: Customer | None = None,
    recipient_name: str | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """What every template may use besides the caller's context."""
    out = base_context(app, now)
    out.update(_row_context(case=case, customer=customer, recipient_name=recipient_name, address=address))
    return out


def base_context(app: App, now: datetime) -> dict[str, Any]:
    """The part of :func:`standard_context` that is the same for every row queued at ``now``."""
    settings = app.settings
    letters = settings.outbound.letters
    local = now.astimezone(settings.tz)
    return {
        "site_name": settings.kefu.site_name,
        "now": local,
        "today": local.date(),
        "letter": {
            "sender_name": letters.sender_name or settings.kefu.site_name,
            "return_address": letters.return_address,
            "phone": letters.phone,
            "fonts": list(letters.fonts),
            "page_size": letters.page_size,
        },
    }


def _row_context(
    *, case: Case | None, customer: Customer | None, recipient_name: str | None, address: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "recipient_name": recipient_name or (customer.name if customer is not None else "") or "",
        "case_number": case.number if case is not None else "",
    }
    if address is not None:
        out["address"] = address
    if case is not None:
        out["case"] = {
            "number": case.number,
            "title": case.title,
            "kind": case.kind,
            "unit": case.unit,
            "state": case.state,
            "opened_at": case.opened_at,
            "urgent": case.urgent,
        }
    if customer is not None:
        out["customer"] = {
            "name": customer.name,
            "ref": customer.ref,
            "unit": customer.unit,
            "address": customer.address,
        }
    return out


def fill_rendered(app: App, row: OutboxMessage, context: dict[str, Any], case: Case | None) -> None:
    """Render ``row``'s template (and attached letter) into its subject and body."""
    fields = rendered_fields(
        app, row.template, row.channel, context, case, marketing=row.marketing, data=row.data or {}
    )
    for name, value in fields.items():
        setattr(row, name, value)


def rendered_fields(
    app: App,
    template: str,
    channel: str,
    context: dict[str, Any],
    case: Case | None,
    *,
    marketing: bool,
    data: dict[str, Any],
) -> dict[str, Any]:
    """The columns rendering gives a row: marketing, body, subject and the new ``data``.

    Raises RenderError when the template (or the letter attached to an email) fails.
    """
    rendered = render(app, template, channel, context, marketing=marketing)
    out: dict[str, Any] = {"marketing": marketing or rendered.marks.marketing, "body": rendered.body}
    if channel == "email":
        subject = rendered.subject or (case.title if case is not None else "") or app.settings.kefu.site_name
        if case is not None and f"[{case.number}]" not in subject:
            subject = f"[{case.number}] {subject}"
        out["subject"] = subject
        letter = data.get("letter")
        if letter:
            html = render(app, letter, "letter", context).body
            data = {**data, "letter_html": html}
    elif channel == "letter":
        out["subject"] = _html_title(rendered.body) or template
    if rendered.segments is not None:
        data = {**data, "segments": rendered.segments}
    out["data"] = data
    return out


def _html_title(html: str) -> str | None:
    start, end = html.find("<title>"), html.find("</title>")
    if start < 0 or end < start:
        return None
    return html[start + 7 : end].strip() or None


def new_message_id(app: App, case: Case | None) -> str:
    """Our Message-ID: signed with the case number when the site secret is set (replies thread)."""
    domain = app.settings.outbound.smtp.domain
    if case is not None and app.settings.kefu.link_secret:
        from kefu.channels.threading_ids import make_message_id, site_secret

        secret = site_secret(app.settings)
        if secret:
            return make_message_id(case.number, secret, domain)
    return make_msgid(domain=domain)


_PLAIN = (str, int, float, bool, type(None))


def _json_safe(value: dict[str, Any]) -> dict[str, Any]:
    # The context is kept so a failed row can be re-rendered; dates and amounts become text.
    if all(type(v) in _PLAIN for v in value.values()) and all(type(k) is str for k in value):
        return dict(value)  # already what JSON gives back (a campaign's usual context): skip the round trip
    result: dict[str, Any] = json.loads(json.dumps(value, ensure_ascii=False, default=str))
    return result
