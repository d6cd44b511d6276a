"""``[channels]``: the inboxes kefu reads (Maildir, IMAP, Twilio SMS, hotline)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class MaildirChannel(BaseModel):
    """A local Maildir folder read like a mailbox (the embedded default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path
    default_kind: str | None = None


class ChannelsSection(BaseModel):
    """Every configured channel, by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    maildir: dict[str, MaildirChannel] = Field(default_factory=dict)
