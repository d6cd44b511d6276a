"""Turning a stored item (mail, SMS, hotline call) into the one plain object intake works on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from kefu.channels.config import ChannelsSection
from kefu.db.models import InboundItem
from kefu.intake.mailparse import ParsedAttachment, ParseError, parse_mail
from kefu.intake.message import InboundMessage
from kefu.intake.noise import Bounce, detect_noise, read_bounce
from kefu.phones import e164_or_as_given


@dataclass
class Understood:
    """An item understood: the message, its attachments, a bounce report if it is one, and what
    of it could not be read (a broken attachment kept raw)."""

    message: InboundMessage
    attachments: list[ParsedAttachment] = field(default_factory=list)
    bounce: Bounce | None = None
    problems: list[str] = field(default_factory=list)


def inbox_settings(channels: ChannelsSection, channel: str) -> Any:
    """The config of the channel an item came from (None if it was removed from the config)."""
    family, _, name = channel.partition(":")
    if family == "imap":
        return channels.imap.get(name)
    if family == "maildir":
        return channels.maildir.get(name)
    if family == "sms":
        return channels.sms
    if family == "hotline":
        return channels.hotline
    return None


def no_nul(text: str) -> str:
    """``text`` without NUL characters: no text column holds one (PostgreSQL refuses them, and
    SQLite would keep them), while the raw bytes of the item keep everything."""
    return text.replace("\x00", "") if "\x00" in text else text


def understand(item: InboundItem, channels: ChannelsSection, raw: bytes | None = None) -> Understood:
    """Parse ``item`` once (``raw``: its bytes, when the caller read them with it). Raises
    :class:`ParseError` with the reason when it cannot be."""
    if raw is None:
        raw = item.raw
    channel, kind = item.channel, item.kind
    cfg = inbox_settings(channels, channel)
    base: dict[str, Any] = {
        "item_id": item.id,
        "channel": channel,
        "kind": kind,
        "received_at": item.received_at,
        "default_kind": getattr(cfg, "default_kind", None),
        "inbox": channel.partition(":")[2] or channel,
    }
    if kind == "email":
        return _clean(_mail(base, raw, channels, cfg))
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParseError(f"stored {kind} item is not UTF-8 JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ParseError(f"stored {kind} item is not a JSON object")
    if kind == "sms":
        phone = e164_or_as_given(no_nul(str(payload.get("From") or "").strip()))
        if not phone:
            raise ParseError("SMS without a From number")
        return _clean(
            Understood(
                InboundMessage(
                    **base,
                    sender=phone,
                    phone=phone,
                    subject="",
                    text=str(payload.get("Body") or "").strip(),
                    message_id=None,
                    to=[str(payload.get("To") or "")],
                )
            )
        )
    if kind == "hotline":
        caller = str(payload.get("caller") or "").strip()
        text = str(payload.get("text") or "").strip()
        if not caller and not text:
            raise ParseError("hotline call with neither caller nor text")
        category = str(payload.get("category") or "").strip() or None
        return _clean(
            Understood(
                InboundMessage(
                    **base,
                    sender=caller or None,
                    phone=caller or None,
                    subject=category or "",
                    text=text,
                    category=category,
                    address=payload.get("address") or None,
                    account=payload.get("account") or None,
                    occurred_at=_call_time(payload),
                )
            )
        )
    raise ParseError(f"unknown item kind {kind!r}")


def _call_time(payload: dict[str, Any]) -> datetime | None:
    """The time the customer called (stored ISO, with its zone, by the hotline channel), or None."""
    try:
        at = datetime.fromisoformat(str(payload.get("at") or ""))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def _mail(base: dict[str, Any], raw: bytes, channels: ChannelsSection, cfg: Any) -> Understood:
    parsed = parse_mail(raw, channels.limits)
    assert parsed.message is not None
    noise = detect_noise(parsed.message, parsed.sender, parsed.headers, parsed.subject)
    own = {cfg.user} if cfg is not None and isinstance(getattr(cfg, "user", None), str) else set()
    bounce = read_bounce(parsed.message, own) if noise is not None and noise.kind == "bounce" else None
    msg = InboundMessage(
        **base,
        sender=parsed.sender,
        sender_name=parsed.sender_name,
        subject=parsed.subject,
        text=parsed.text,
        message_id=parsed.message_id,
        in_reply_to=parsed.references,
        to=parsed.to,
        attachments=[a.filename for a in parsed.attachments],
        noise=noise.kind if noise else None,
        noise_reason=noise.reason if noise else None,
        auto_reply=noise is not None,
    )
    return Understood(msg, parsed.attachments, bounce, parsed.problems)


def _has_nul(understood: Understood) -> bool:
    """Whether any text of the message, its problems or its attachments' names holds a NUL."""
    for value in vars(understood.message).values():
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, list):
            for v in value:
                if isinstance(v, str) and "\x00" in v:
                    return True
    return any("\x00" in p for p in understood.problems) or any("\x00" in a.filename for a in understood.attachments)


def _clean(understood: Understood) -> Understood:
    """No NUL in any text intake writes (see :func:`no_nul`)."""
    msg = understood.message
    if understood.bounce is None and not _has_nul(understood):
        return understood
    for f in fields(msg):
        value = getattr(msg, f.name)
        if isinstance(value, str) and "\x00" in value:
            setattr(msg, f.name, no_nul(value))
        elif isinstance(value, list) and any(isinstance(v, str) and "\x00" in v for v in value):
            setattr(msg, f.name, [no_nul(v) if isinstance(v, str) else v for v in value])
    for att in understood.attachments:
        att.filename = no_nul(att.filename)
    understood.problems = [no_nul(p) for p in understood.problems]
    if understood.bounce is not None:
        b = understood.bounce
        b.recipients = [no_nul(a) for a in b.recipients]
        b.original_ids = [no_nul(a) for a in b.original_ids]
        b.diagnostic = no_nul(b.diagnostic)
    return understood
