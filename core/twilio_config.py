"""``[twilio]``: the account both the SMS sender and the SMS channels use."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class TwilioSection(BaseModel):
    """Twilio account, how our SMS are sent, and where its API lives (a local endpoint in tests).

    ``api_base`` (e.g. ``http://127.0.0.1:8089``) replaces scheme and host of every
    ``*.twilio.com`` URL the official client calls; leave it unset in production.
    ``status_callback`` is the public URL Twilio posts delivery reports to (exactly
    as Twilio calls it: the signature binds scheme, host, port and path); the
    listener serves it at that URL's path.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    account_sid: str = ""
    auth_token_secret: str | None = None
    api_base: str | None = None
    messaging_service_sid: str | None = Field(
        default=None, description="send through this Messaging Service (MG…); else from_number"
    )
    from_number: str | None = Field(default=None, description="E.164 sender number when no service")
    status_callback: str | None = Field(
        default=None,
        description="public URL of our delivery-status callback, e.g. https://kefu.example.com/twilio/status",
    )
    timeout_seconds: float = 15.0

    @field_validator("api_base", "status_callback")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/") if value else value
