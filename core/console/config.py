"""``[console]``: the staff console's listener, its cookies, timeouts and sign-in backoff."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from kefu.durations import Duration


class ConsoleSection(BaseModel):
    """``[console]``: a second listener beside ``[http]``, loopback by default (a proxy in front).

    ``public_origin`` is the scheme, host and port people type (``https://kefu.example.cn``):
    state changes from any other Origin are refused, and ``https`` makes cookies ``Secure``.
    ``due_soon`` is the look-ahead of the 即将超时 queue per case kind (``"heating.leak" = "2h"``),
    ``due_soon_default`` for the rest.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8490, ge=0, le=65535)
    public_origin: str | None = None
    secure_cookies: bool | None = Field(default=None, description="default: true when public_origin is https")
    idle_timeout: Duration = timedelta(hours=2)
    absolute_timeout: Duration = timedelta(hours=12)
    lock_after: int = Field(default=5, ge=1, description="failed sign-ins in a row before the backoff starts")
    lock_for: Duration = Field(default=timedelta(minutes=1), description="first backoff; doubles each further failure")
    lock_max: Duration = timedelta(hours=1)
    due_soon_default: Duration = timedelta(hours=8)
    due_soon: dict[str, Duration] = Field(default_factory=dict)
    page_size: int = Field(default=50, ge=5, le=500)

    @property
    def secure(self) -> bool:
        """Whether cookies carry ``Secure`` (behind TLS)."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return bool(self.public_origin and self.public_origin.startswith("https://"))
