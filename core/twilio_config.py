"""``[twilio]``: the account both the SMS sender and the SMS channels use."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class TwilioSection(BaseModel):
    """Twilio account and where its API lives (a local endpoint in tests)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    account_sid: str = ""
    auth_token_secret: str | None = None
    api_base: str | None = None
