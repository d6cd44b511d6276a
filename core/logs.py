"""Logging to stderr in a journald-friendly form, with personal data masked.

Each line starts with the sd-daemon priority prefix (``<3>`` error … ``<7>``
debug) that journald turns into the entry's priority, then the logger name.
Phone numbers, e-mail addresses and ID numbers are masked in every message,
whoever logged it, and in the exception text and traceback logged with it;
uncaught exceptions (main thread or any other) go through the same masking.

The patterns never rely on ``\\b``: between 汉字 and digits there is no word
boundary (``电话13812345678``), so a number is delimited by "no ASCII digit
before or after" instead, and an address by ASCII letters only (``邮箱a@b.cn谢谢``).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from types import TracebackType

from kefu.secrets import mask

_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}
# One separator people put inside numbers: a space, a dash, a no-break or ideographic space.
_SEP = r"[ \-\u00a0\u3000]?"
_PERSONAL = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"  # e-mail address (ASCII only)
    r"|(?<![0-9])(?:"
    r"[1-9][0-9]{5}" + _SEP + r"(?:18|19|20)[0-9]{6}" + _SEP + r"[0-9]{3}[0-9Xx]"  # 身份证号 6-8-4
    r"|[0-9]{17}[0-9Xx]"  # any other 18-character ID number
    r"|(?:\+?86" + _SEP + r")?1[3-9][0-9]" + _SEP + r"[0-9]{4}" + _SEP + r"[0-9]{4}"  # mobile
    r"|0[0-9]{2,3}" + _SEP + r"[0-9]{7,8}"  # landline with its area code
    r"|\+[1-9][0-9]{0,3}(?:" + _SEP + r"[0-9]{2,5}){3,5}"  # any other E.164 number
    r")(?![0-9])"
)
_SEPARATORS = re.compile(r"[ \-\u00a0\u3000]")


def mask_personal(text: str) -> str:
    """Mask every phone number, e-mail address and ID number in ``text``."""
    return _PERSONAL.sub(lambda m: mask(_SEPARATORS.sub("", m.group(0))), text)


class MaskingFormatter(logging.Formatter):
    """Formats with the journald priority prefix and masks personal data (tracebacks too)."""

    def __init__(self, journald: bool) -> None:
        fmt = "%(name)s: %(message)s" if journald else "%(asctime)s %(levelname)s %(name)s: %(message)s"
        super().__init__(fmt)
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        """The record as one masked text: message, exception text and stack included."""
        text = mask_personal(super().format(record))
        if self.journald:
            prio = _PRIORITY.get(record.levelno, 6)
            return "\n".join(f"<{prio}>{line}" for line in text.splitlines())
        return text


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    logging.getLogger("kefu").critical("uncaught exception", exc_info=(kind, exc, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("kefu").error(
        "uncaught exception in thread %s", name, exc_info=(args.exc_type, args.exc_value, args.exc_traceback)
    )


def setup_logging(level: int = logging.INFO) -> None:
    """Log to stderr; under systemd (JOURNAL_STREAM set) with priority prefixes, no timestamps.

    Uncaught exceptions are logged (and so masked) instead of printed raw by Python.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter(journald=bool(os.environ.get("JOURNAL_STREAM"))))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    # WeasyPrint logs each step and fontTools each subset table at INFO: hundreds of lines a letter.
    for noisy in ("apscheduler", "twilio.http_client", "imapclient", "alembic", "weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
