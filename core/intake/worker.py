"""A worker process that reads and parses mail while the daemon stores and processes it.

Reading a mailbox costs the daemon CPU twice over: IMAPClient parsing the server's
answers, and parsing each mail (charsets, MIME, HTML). Both are pure Python and,
under the GIL, as much time as everything else the daemon does to a mail. A worker
process on the machine's other core takes them off the main process: the IMAP
reader asks it for each batch (:mod:`kefu.channels.imap_fetch`), and it answers
with the raw mail and what parsing found — a
:class:`~kefu.intake.understand.MailReading`, or the :class:`ParseError` the item is
quarantined with, exactly what parsing in line gives.

The worker only reads (EXAMINE, ``BODY.PEEK[]``): storing, marking and every
database write stay in the daemon, so exactly-once is the daemon's business as
before. Nothing depends on the worker: an answer that fails (a crashed worker, its
connection refused) is fetched and parsed in line instead, and a broken pool is
replaced at the next submit. One worker is enough: its share of a mail takes less
time than the daemon's own.

The worker is forked (it needs no imports and starts in milliseconds); the daemon
starts it before its own threads start (:meth:`IntakeWorker.start`), so the fork
copies a single-threaded process. It runs only the functions submitted to it and
exits with ``_exit``: it never touches the database connections it inherits.
"""

from __future__ import annotations

import copyreg
import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import fields
from typing import Any, TypeVar

from kefu.intake.mailparse import ParsedAttachment, ParsedMail, ParseError
from kefu.intake.noise import Bounce, Noise
from kefu.intake.understand import MailReading, read_mail

log = logging.getLogger("kefu.intake.worker")

T = TypeVar("T")
# How long the daemon waits for an answer before doing the work itself: far more than a
# batch takes, so only a stuck worker is given up on.
WAIT_S = 30.0

Reading = MailReading | ParseError | None


def _as_constructor_call(reading: Any) -> tuple[type, tuple[Any, ...]]:
    return type(reading), tuple(getattr(reading, f.name) for f in fields(reading))


# The readings cross to the daemon as constructor calls: unpickled field by field (the default
# for a dataclass), they cost the daemon twice the time, and the daemon's time is intake's limit.
for _cls in (MailReading, ParsedMail, ParsedAttachment, Noise, Bounce):
    copyreg.pickle(_cls, _as_constructor_call)


def read_mails(raws: list[bytes]) -> list[Reading]:
    """Read each raw mail. None where parsing failed unexpectedly: the daemon parses that one
    again in line, so a parser bug is handled there as always (the item is quarantined)."""
    readings: list[Reading] = []
    for raw in raws:
        try:
            readings.append(read_mail(raw))
        except ParseError as exc:
            readings.append(exc)
        except Exception:
            readings.append(None)
    return readings


def _ready() -> bool:
    return True


def _in_worker() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the daemon stops the worker itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class IntakeWorker:
    """A one-worker process pool for intake; forked at :meth:`start` or at first use."""

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    @staticmethod
    def available() -> bool:
        """True where worker processes can be forked (Linux, the BSDs; not Windows)."""
        return "fork" in multiprocessing.get_all_start_methods()

    def start(self) -> None:
        """Fork the worker now (the daemon calls this before starting its threads)."""
        # ProcessPoolExecutor forks its workers at the first submit.
        future = self.submit(_ready)
        if future is not None:
            future.result(timeout=WAIT_S)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T] | None:
        """Run ``fn(*args)`` in the worker; None if the worker cannot take work (do it in line)."""
        with self._lock:
            if self._closed or not self.available():
                return None
            if self._executor is None:
                self._executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                                                     initializer=_in_worker)
            executor = self._executor
            try:
                return executor.submit(fn, *args)
            except Exception as exc:  # BrokenProcessPool: the worker died
                log.warning("the intake worker is gone (%s: %s); working in line until it is replaced",
                            type(exc).__name__, exc)
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)
        return None

    def close(self) -> None:
        """Stop the worker (after the task it is on, if any)."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def pid(self) -> int | None:
        """The worker's process id, if it runs (tests stop it to see the daemon read in line)."""
        with self._lock:
            processes = getattr(self._executor, "_processes", None) or {}
            return next(iter(processes), None)


def answer(future: Future[T], what: str) -> T | None:
    """The worker's answer, or None (logged) if it failed or did not come within ``WAIT_S``."""
    try:
        return future.result(timeout=WAIT_S)
    except FutureTimeout:
        log.warning("the intake worker did not answer %s within %.0fs; doing it in line", what, WAIT_S)
    except Exception as exc:
        log.warning("the intake worker failed %s (%s: %s); doing it in line", what, type(exc).__name__, exc)
    return None


class ReadAhead:
    """Readings of stored mail by (channel, source key), each taken once by processing."""

    def __init__(self) -> None:
        self._readings: dict[tuple[str, str], MailReading | ParseError] = {}

    def add(self, channel: str, keys: list[str], readings: list[Reading]) -> None:
        """The readings of the mails stored under ``keys`` on ``channel``, in the same order."""
        for key, reading in zip(keys, readings, strict=True):
            if reading is not None:
                self._readings[(channel, key)] = reading

    def take(self, channel: str, source_key: str) -> MailReading | ParseError | None:
        """The item's reading, or None if it was not read ahead (parse it in line)."""
        return self._readings.pop((channel, source_key), None)

    def __len__(self) -> int:
        return len(self._readings)
