"""Secrets: read from systemd credentials or the environment, never from the TOML file.

A config field whose name ends in ``_secret`` holds the *name* of a secret, e.g.
``password_secret = "imap_password"``. The value is read from
``$CREDENTIALS_DIRECTORY/imap_password`` (systemd ``LoadCredential=imap_password:…``),
or ``$CREDENTIALS_DIRECTORY/kefu_imap_password`` (what the shipped unit's
``LoadCredential=kefu:/etc/kefu/credentials`` makes of the file
``/etc/kefu/credentials/imap_password``), or, failing both, from the environment
variable ``KEFU_IMAP_PASSWORD``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# systemd names each file of a credential directory "<ID>_<file name>"; our unit's ID is "kefu".
CREDENTIAL_DIR_PREFIX = "kefu_"


class MissingSecret(LookupError):
    """A secret named in the config is neither a credential file nor an environment variable."""


def env_name(name: str) -> str:
    """Return the environment variable that holds secret ``name``."""
    return "KEFU_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def find_secret(name: str) -> str | None:
    """Return the secret's value, or None when it is not provided anywhere."""
    if not _NAME.match(name):
        raise ValueError(f"secret name {name!r} may only hold letters, digits, '_', '.', '-'")
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if cred_dir:
        for candidate in (name, CREDENTIAL_DIR_PREFIX + name):
            path = Path(cred_dir) / candidate
            if path.is_file():
                return path.read_text(encoding="utf-8").strip()
    return os.environ.get(env_name(name))


def get_secret(name: str) -> str:
    """Return the secret's value or raise :class:`MissingSecret` saying where it was looked for."""
    value = find_secret(name)
    if value is None:
        raise MissingSecret(
            f"secret {name!r} is missing: set the environment variable {env_name(name)} "
            f"or provide the systemd credential {name!r} (a file /etc/kefu/credentials/{name} "
            f"with the shipped unit, or LoadCredential={name}:/path)"
        )
    return value


def mask(text: str | None) -> str:
    """Mask a phone number, e-mail address or ID number for logs (13812345678 → 138****5678)."""
    if not text:
        return ""
    if "@" in text:
        local, _, domain = text.partition("@")
        return (local[:1] + "***@" + domain) if local else "***@" + domain
    digits = text.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 11 else 1
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]
