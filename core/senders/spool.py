"""The spool sender, the embedded default: what would be sent is written into a folder.

Emails are ``<spool>/mail/<row id>.eml`` (written to a temporary name, then renamed,
so a reader never sees half a file, and a re-sent row replaces its own file); SMS
are JSON lines appended to ``<spool>/sms.jsonl``; letters are PDFs in
``<spool>/letters/``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from kefu.clock import Clock
from kefu.senders.base import Outgoing, PermanentFailure, SendResult
from kefu.senders.mime import email_bytes
from kefu.templating import sms_segments


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class SpoolEmailSender:
    """Writes each email as an .eml file."""

    def __init__(self, folder: Path, from_address: str, from_name: str, clock: Clock) -> None:
        self.folder = folder / "mail"
        self.from_address, self.from_name, self.clock = from_address, from_name, clock

    def send(self, message: Outgoing) -> SendResult:
        """Write the message; an impossible address is a permanent failure."""
        try:
            payload = email_bytes(
                message,
                from_address=self.from_address,
                from_name=self.from_name,
                now=self.clock.now(),
                transfer_encoding="8bit",
            )
        except ValueError as exc:
            raise PermanentFailure(str(exc), flag="email_undeliverable") from exc
        name = f"{message.id:08d}.eml"
        write_atomically(self.folder / name, payload)
        return SendResult(provider_id=f"spool:mail/{name}")

    def close(self) -> None:
        """Nothing to release."""


class SpoolSmsSender:
    """Appends each SMS as one JSON line."""

    def __init__(self, folder: Path, clock: Clock) -> None:
        self.path = folder / "sms.jsonl"
        self.clock = clock

    def send(self, message: Outgoing) -> SendResult:
        """Append the SMS (recipient, text, parts) to the spool file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "id": message.id,
                "key": message.key,
                "to": message.recipient,
                "body": message.body,
                "segments": sms_segments(message.body),
                "case": message.case_number,
                "at": self.clock.now().isoformat(),
            },
            ensure_ascii=False,
        )
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return SendResult(provider_id=f"spool:sms/{message.id}")

    def close(self) -> None:
        """Nothing to release."""
