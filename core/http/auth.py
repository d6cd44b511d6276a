"""Checking what a caller presents: a bearer token, a Twilio signature.

Whatever a client sends in these headers — wrong, empty, malformed, non-ASCII —
is a mismatch (401/403), never an exception: the server reads header bytes as
Latin-1, and ``hmac.compare_digest`` refuses ``str`` with non-ASCII characters,
so tokens are compared as bytes; and Twilio's validator parses the URL, which
the Host header can make unparseable.
"""

from __future__ import annotations

import hmac

from twilio.request_validator import RequestValidator


def bearer_matches(header: str, expected: str) -> bool:
    """True when ``header`` is ``Bearer <expected>`` (the scheme in any case)."""
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(
        given.strip().encode("utf-8", "surrogateescape"),
        expected.encode("utf-8", "surrogateescape"),
    )


def signature_matches(token: str, url: str, params: dict[str, str], signature: str) -> bool:
    """Twilio's ``RequestValidator`` on the request; a URL it cannot parse is a mismatch."""
    if not signature:
        return False
    try:
        return bool(RequestValidator(token).validate(url, params, signature))
    except ValueError:
        return False
