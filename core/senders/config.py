"""``[outbound]``: how notifications leave (spool, SMTP, Twilio, letters) and when."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class SpoolSender(BaseModel):
    """Write every message into a folder instead of sending it (the embedded default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path | None = None


class OutboundSection(BaseModel):
    """Senders and the rules every notification obeys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spool: SpoolSender = Field(default_factory=SpoolSender)
