"""The official Twilio client, pointed at the configured API base.

Tests (and the benchmark) run a local Twilio-compatible endpoint; rewriting the
scheme and host of ``*.twilio.com`` URLs inside the client's HTTP layer keeps the
client's own auth, headers and error handling, and works whatever domain (api,
messaging, edge/region hosts) a resource lives on — setting ``client.api.base_url``
would cover only the ``api`` domain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from kefu.secrets import get_secret

if TYPE_CHECKING:
    from kefu.config import CoreSettings
    from kefu.twilio_config import TwilioSection


class RebasedHttpClient(TwilioHttpClient):
    """A ``TwilioHttpClient`` that sends every ``*.twilio.com`` request to ``api_base`` instead."""

    def __init__(self, api_base: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        parts = urlsplit(api_base)
        if not parts.scheme or not parts.netloc:
            raise ValueError(f"[twilio] api_base {api_base!r} is not a URL like http://127.0.0.1:8089")
        self.base_scheme, self.base_netloc = parts.scheme, parts.netloc
        self.base_path = parts.path.rstrip("/")

    def rebase(self, url: str) -> str:
        """``url`` with scheme and host replaced when it points at Twilio."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host == "twilio.com" or host.endswith(".twilio.com"):
            return urlunsplit(
                (self.base_scheme, self.base_netloc, self.base_path + parts.path, parts.query, parts.fragment)
            )
        return url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        """Send the request to the rebased URL."""
        return super().request(method, self.rebase(url), *args, **kwargs)


def make_client(settings: CoreSettings | TwilioSection) -> Client:
    """The official client for the ``[twilio]`` section (the whole settings or the section).

    The auth token is read from the secret named by ``auth_token_secret``; a
    missing secret raises :class:`kefu.secrets.MissingSecret` naming where to put it.
    """
    section = cast("TwilioSection", getattr(settings, "twilio", settings))
    if not section.account_sid:
        raise ValueError("[twilio] account_sid is not set (the AC… id from the Twilio console)")
    if not section.auth_token_secret:
        raise ValueError("[twilio] auth_token_secret is not set (the name of the secret holding the token)")
    token = get_secret(section.auth_token_secret)
    http: TwilioHttpClient
    if section.api_base:
        http = RebasedHttpClient(section.api_base, timeout=section.timeout_seconds)
    else:
        http = TwilioHttpClient(timeout=section.timeout_seconds)
    return Client(section.account_sid, token, http_client=http)


def auth_token(settings: CoreSettings | TwilioSection) -> str:
    """The account's auth token (what ``RequestValidator`` checks webhook signatures with)."""
    section = cast("TwilioSection", getattr(settings, "twilio", settings))
    if not section.auth_token_secret:
        raise ValueError("[twilio] auth_token_secret is not set")
    return get_secret(section.auth_token_secret)
