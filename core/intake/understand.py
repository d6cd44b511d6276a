"""Turning a stored item (mail, SMS, hotline call) into the one plain object intake works on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kefu.channels.config import ChannelsSection
from kefu.db.models import InboundItem
from kefu.intake.mailparse import ParsedAttachment, ParsedMail, ParseError, parse_mail
from kefu.intake.message import InboundMessage
from kefu.intake.noise import Bounce, Noise, detect_noise, read_bounce


@dataclass
class Understood:
    """An item understood: the message, its attachments, and a bounce report if it is one."""

    message: InboundMessage
    attachments: list[ParsedAttachment] = field(default_factory=list)
    bounce: Bounce | None = None


@dataclass
class MailReading:
    """What parsing one raw mail found, without the parser's objects: it pickles, so a parse
    worker (:mod:`kefu.intake.worker`) can make it and send it back."""

    parsed: ParsedMail
    noise: Noise | None = None
    bounce: Bounce | None = None


def read_mail(raw: bytes) -> MailReading:
    """Parse a raw mail and find its noise and bounce report. Raises :class:`ParseError`."""
    parsed = parse_mail(raw)
    assert parsed.message is not None
    noise = detect_noise(parsed.message, parsed.sender)
    bounce = read_bounce(parsed.message) if noise is not None and noise.kind == "bounce" else None
    parsed.message = None  # read: nothing later needs the parser's tree
    return MailReading(parsed, noise, bounce)


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


def understand(item: InboundItem, channels: ChannelsSection,
               reading: MailReading | ParseError | None = None) -> Understood:
    """Parse ``item`` once. Raises :class:`ParseError` with the reason when it cannot be.

    ``reading`` is the item's mail already read (or found unreadable) by a parse worker.
    """
    channel, kind = item.channel, item.kind  # each read of a mapped attribute goes through the ORM
    cfg = inbox_settings(channels, channel)
    default_kind = getattr(cfg, "default_kind", None)
    base: dict[str, Any] = {
        "item_id": item.id, "channel": channel, "kind": kind,
        "received_at": item.received_at, "default_kind": default_kind,
        "inbox": channel.partition(":")[2] or channel,
    }
    if kind == "email":
        if isinstance(reading, ParseError):
            raise reading
        return _mail(base, reading if reading is not None else read_mail(item.raw))
    try:
        payload = json.loads(item.raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParseError(f"stored {item.kind} item is not UTF-8 JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ParseError(f"stored {item.kind} item is not a JSON object")
    if item.kind == "sms":
        phone = str(payload.get("From") or "").strip()
        if not phone:
            raise ParseError("SMS without a From number")
        return Understood(InboundMessage(
            **base, sender=phone, phone=phone, subject="", text=str(payload.get("Body") or "").strip(),
            message_id=None, to=[str(payload.get("To") or "")],
        ))
    if item.kind == "hotline":
        caller = str(payload.get("caller") or "").strip()
        text = str(payload.get("text") or "").strip()
        if not caller and not text:
            raise ParseError("hotline call with neither caller nor text")
        category = str(payload.get("category") or "").strip() or None
        return Understood(InboundMessage(
            **base, sender=caller or None, phone=caller or None, subject=category or "",
            text=text, category=category, address=payload.get("address") or None,
            account=payload.get("account") or None, occurred_at=_call_time(payload),
        ))
    raise ParseError(f"unknown item kind {item.kind!r}")


def _call_time(payload: dict[str, Any]) -> datetime | None:
    """The time the customer called (stored ISO, with its zone, by the hotline channel), or None."""
    try:
        at = datetime.fromisoformat(str(payload.get("at") or ""))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def _mail(base: dict[str, Any], reading: MailReading) -> Understood:
    parsed, noise = reading.parsed, reading.noise
    msg = InboundMessage(
        **base, sender=parsed.sender, sender_name=parsed.sender_name, subject=parsed.subject,
        text=parsed.text, message_id=parsed.message_id, in_reply_to=parsed.references,
        to=parsed.to, attachments=[a.filename for a in parsed.attachments],
        noise=noise.kind if noise else None, noise_reason=noise.reason if noise else None,
        auto_reply=noise is not None,
    )
    return Understood(msg, parsed.attachments, reading.bounce)
