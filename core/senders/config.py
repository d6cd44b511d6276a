"""``[outbound]``: how notifications leave (spool, SMTP, Twilio, letters) and when.

Every default here is a business rule the README states (quiet hours 21:00–08:00, signature 【…】, opt-out
hint 回T退订) or our documented choice; a department changes them in its TOML.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kefu.durations import Duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpoolSender(_Strict):
    """Write every message into a folder instead of sending it (the embedded default).

    Emails become ``<path>/mail/<row>.eml``, SMS JSON lines in ``<path>/sms.jsonl``,
    letters ``<path>/letters/<case>-<row>.pdf``. Default: ``<state_dir>/spool``.
    """

    path: Path | None = None


class SmtpSender(_Strict):
    """An SMTP relay: SSL (465), STARTTLS (587) or plain (loopback only)."""

    host: str = "127.0.0.1"
    port: int = 25
    security: Literal["ssl", "starttls", "plain"] = "plain"
    user: str | None = None
    password_secret: str | None = None
    from_address: str = Field(default="kefu@localhost", alias="from")
    from_name: str | None = Field(default=None, description="display name; default [kefu] site_name")
    timeout_seconds: float = 30.0
    reuse_connection: bool = True
    max_messages_per_connection: int = Field(default=100, ge=1)
    verify_tls: bool = True

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _plain_only_on_loopback(self) -> SmtpSender:
        if self.security == "plain" and self.user and self.host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError(
                "security = 'plain' with a password is only allowed to a loopback relay; use 'ssl' or 'starttls'"
            )
        return self

    @property
    def domain(self) -> str:
        """The right-hand side of our Message-IDs."""
        return self.from_address.rpartition("@")[2] or "localhost"


def _clock_time(value: str | time) -> time:
    if isinstance(value, time):
        return value
    if not re.fullmatch(r"\d{1,2}:\d{2}", str(value)):
        raise ValueError(f"{value!r} is not a time of day like '21:00'")
    hours, minutes = (int(p) for p in str(value).split(":"))
    return time(hours, minutes)


class SmsSettings(_Strict):
    """What every SMS obeys: signature, length, opt-out wording, customers' quiet hours."""

    signature: str = "【客服中心】"
    max_segments: int = Field(default=3, ge=1, le=10)
    opt_out_hint: str = "回T退订"
    opt_out_words: list[str] = Field(default_factory=lambda: ["TD", "T", "N", "退订", "STOP"])
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)

    @field_validator("quiet_start", "quiet_end", mode="before")
    @classmethod
    def _time(cls, value: str | time) -> time:
        return _clock_time(value)

    @field_validator("signature")
    @classmethod
    def _bracketed(cls, value: str) -> str:
        if not (value.startswith("【") and value.endswith("】")):
            raise ValueError("the SMS signature is written in 【】, e.g. '【某某物业】'")
        return value


class LetterSettings(_Strict):
    """Printed letters: fonts (a CJK font must be installed), sender and return address."""

    fonts: list[str] = Field(default_factory=lambda: ["Noto Serif CJK SC", "Noto Sans CJK SC"])
    sender_name: str | None = Field(default=None, description="default [kefu] site_name")
    return_address: str = ""
    phone: str = ""
    page_size: str = "A4"


class RateLimits(_Strict):
    """Per-channel send rates, honoured by holding rows back, never by dropping them."""

    sms_per_second: float = Field(default=1.0, gt=0, description="Twilio: messages/s per sender")
    email_per_minute: float = Field(default=600.0, gt=0)


class RetrySettings(_Strict):
    """Transient failures are retried with exponential backoff and jitter, then the row is dead."""

    max_attempts: int = Field(default=8, ge=1)
    first_delay: Duration = timedelta(minutes=1)
    max_delay: Duration = timedelta(hours=2)
    jitter: float = Field(default=0.2, ge=0, le=1, description="± share of each delay")


class OutboundSection(_Strict):
    """Senders and the rules every notification obeys."""

    email_sender: Literal["spool", "smtp"] = "spool"
    sms_sender: Literal["spool", "twilio"] = "spool"
    spool: SpoolSender = Field(default_factory=SpoolSender)
    smtp: SmtpSender = Field(default_factory=SmtpSender)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    letters: LetterSettings = Field(default_factory=LetterSettings)
    rate: RateLimits = Field(default_factory=RateLimits)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    templates: Path | None = Field(
        default=None, description="site template folder; a template here overrides the shipped one"
    )
    alarm_age: Duration = Field(
        default=timedelta(minutes=30), description="a due row waiting longer alarms staff and /healthz"
    )
    alarm_staff: list[str] = Field(default_factory=list, description="staff keys told of a stalled outbox")
    batch_size: int = Field(default=200, ge=1, description="rows claimed per round")
    claim_timeout: Duration = Field(
        default=timedelta(minutes=10),
        description="the lease of a claimed row: renewed while its dispatcher works, and only once "
        "it expired (or its claimant provably died) may another daemon send the row",
    )
