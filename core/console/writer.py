"""Where the console's case changes run: in the daemon's main thread, as every case change does.

The architecture keeps one writer thread for cases, deadlines and the outbox
(docs/architecture.md). A request thread hands its change to :class:`LoopWriter`,
which the daemon's main loop runs between its steps (``Daemon.handle("console")``)
in one transaction, and waits for the result. Without a daemon (a test's app, the
bench) :class:`DirectWriter` runs it at once, one at a time. The console's own
tables (sign-in, sessions) are written in the request thread: they are not cases.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Protocol, TypeVar

from sqlalchemy.orm import Session

from kefu.db.engine import transaction

if TYPE_CHECKING:
    from kefu.app import App

T = TypeVar("T")
WAIT_SECONDS = 60.0


class Busy(Exception):
    """The main loop did not take the change in time (a long intake step); nothing was written."""


class Writer(Protocol):
    """Runs ``fn(session)`` in one transaction that commits when it returns."""

    def run(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` and return its result (its exception, after the rollback)."""
        ...


class DirectWriter:
    """Runs each change in the calling thread, one at a time."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._lock = threading.Lock()

    def run(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` in a transaction of its own, now."""
        with self._lock, transaction(self.app.sessions) as session:
            return fn(session)


class LoopWriter:
    """Queues each change for the daemon's main loop and waits for it (see the module's text)."""

    def __init__(self, wake: Callable[[str], None]) -> None:
        self.wake = wake
        self.jobs: queue.SimpleQueue[tuple[Callable[[Session], object], Future[object]]] = queue.SimpleQueue()
        self.app: App | None = None

    def run(self, fn: Callable[[Session], T]) -> T:
        """Hand ``fn`` to the main loop and wait; :class:`Busy` if it is not run within a minute."""
        future: Future[object] = Future()
        self.jobs.put((fn, future))
        self.wake("console")
        try:
            return future.result(timeout=WAIT_SECONDS)  # type: ignore[return-value]
        except TimeoutError as exc:
            if future.cancel():
                raise Busy("系统繁忙，请稍后再试") from exc
            return future.result()  # type: ignore[return-value]

    def drain(self, app: App) -> int:
        """In the main thread: run every queued change, each in its own transaction; how many ran."""
        done = 0
        while True:
            try:
                fn, future = self.jobs.get_nowait()
            except queue.Empty:
                return done
            if not future.set_running_or_notify_cancel():
                continue
            try:
                with transaction(app.sessions) as session:
                    result = fn(session)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)
            done += 1
