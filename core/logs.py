"""Logging to stderr in a journald-friendly form, with personal data masked.

Each line starts with the sd-daemon priority prefix (``<3>`` error … ``<7>``
debug) that journald turns into the entry's priority, then the logger name.
Phone numbers, e-mail addresses and ID numbers are masked in every message,
whoever logged it.
"""

from __future__ import annotations

import logging
import re
import sys

from kefu.secrets import mask

_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}
_PERSONAL = re.compile(
    r"(?<![\w.@+-])(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail address
    r"|\d{17}[\dXx]"  # 18-digit resident ID number
    r"|(?:\+?86[- ]?)?1[3-9]\d{9}"  # mainland mobile number
    r"|0\d{2,3}-?\d{7,8}"  # landline with area code
    r"|\+\d{7,15})(?![\w@])"  # any other E.164 number
)


def mask_personal(text: str) -> str:
    """Mask every phone number, e-mail address and ID number in ``text``."""
    return _PERSONAL.sub(lambda m: mask(m.group(0).replace(" ", "").replace("-", "")), text)


class MaskingFormatter(logging.Formatter):
    """Formats with the journald priority prefix and masks personal data."""

    def __init__(self, journald: bool) -> None:
        fmt = "%(name)s: %(message)s" if journald else "%(asctime)s %(levelname)s %(name)s: %(message)s"
        super().__init__(fmt)
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        text = mask_personal(super().format(record))
        if self.journald:
            prio = _PRIORITY.get(record.levelno, 6)
            return "\n".join(f"<{prio}>{line}" for line in text.splitlines())
        return text


def setup_logging(level: int = logging.INFO) -> None:
    """Log to stderr; under systemd (JOURNAL_STREAM set) with priority prefixes, no timestamps."""
    import os

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter(journald=bool(os.environ.get("JOURNAL_STREAM"))))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # WeasyPrint logs each step and fontTools each subset table at INFO: hundreds of lines a letter.
    for noisy in ("apscheduler", "twilio.http_client", "imapclient", "alembic", "weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
