"""Message-IDs that carry their case: how a reply threads even when its subject was edited.

Every message we send gets a Message-ID made by :func:`make_message_id`; a
customer's reply quotes it in In-Reply-To/References, and :func:`parse_message_id`
gives back the case number. The case number is signed with the site secret
(``[kefu] link_secret``), so nobody can forge a Message-ID that injects mail into
somebody else's case.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING

from kefu.secrets import get_secret

if TYPE_CHECKING:
    from kefu.config import CoreSettings

# <kefu.HT-2026-000123.3f9a1c0b2d4e.6c1d...@example.com>
_OURS = re.compile(r"^kefu\.([A-Za-z0-9-]{1,40})\.([0-9a-f]{12})\.([0-9a-f]{24})@[^\s<>@]+$")
_SIG_HEX = 24


def _signature(case_number: str, nonce: str, site_secret: str) -> str:
    mac = hmac.new(site_secret.encode("utf-8"), f"{case_number}.{nonce}".encode(), hashlib.sha256)
    return mac.hexdigest()[:_SIG_HEX]


def make_message_id(case_number: str, site_secret: str, domain: str) -> str:
    """A fresh, unique Message-ID (with angle brackets) that names ``case_number``, signed.

    ``domain`` is the right-hand side (the sending domain); ``site_secret`` is the
    value of the secret named by ``[kefu] link_secret``.
    """
    if not site_secret:
        raise ValueError("make_message_id needs the site secret ([kefu] link_secret)")
    if not re.fullmatch(r"[A-Za-z0-9-]{1,40}", case_number):
        raise ValueError(f"case number {case_number!r} cannot be put in a Message-ID")
    nonce = secrets.token_hex(6)
    return f"<kefu.{case_number}.{nonce}.{_signature(case_number, nonce, site_secret)}@{domain}>"


def parse_message_id(msgid: str, site_secret: str) -> str | None:
    """The case number of one of our Message-IDs, or None if it is not ours or not signed right."""
    if not msgid or not site_secret:
        return None
    found = _OURS.match(msgid.strip().strip("<>").strip())
    if found is None:
        return None
    number, nonce, signature = found.groups()
    if not hmac.compare_digest(signature, _signature(number, nonce, site_secret)):
        return None
    return number


def site_secret(settings: CoreSettings) -> str | None:
    """The value of the ``[kefu] link_secret`` secret, or None when none is configured."""
    name = settings.kefu.link_secret
    return get_secret(name) if name else None
