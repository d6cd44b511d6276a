"""Marking committed batches from a thread of its own while the main thread goes on.

Marking is mostly waiting on the server: Dovecot renames every file twice, once when
the mailbox is first opened read-write (taking the messages out of "recent") and once
for the flags. Done in line, the daemon waits out every one of them. A :class:`Marker`
owns the poll's connection once the batches are planned; the main thread hands it
each batch after the transaction that stored it commits (:meth:`Marker.committed`),
so the ordering the channel promises is unchanged — nothing is marked before it is
stored — and only the main thread touches the database.

A failure in the thread (a dropped connection, a timeout) is raised in the main
thread at its next call, so the channel fails and backs off as before; batches
stored but not marked are found stored on the next poll and only marked.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("kefu.channels.imap")

_JOIN_SLACK_S = 5.0
_END, _STOP = object(), object()


class Marker:
    """Calls ``mark(uids)`` in a thread for each committed batch, in order.

    Use as a context manager: leaving it stops the thread and waits for it, so the
    connection is the caller's again. With ``threaded=False`` (the caller uses the
    connection meanwhile) each batch is marked at once, in the caller's thread.
    """

    def __init__(self, mark: Callable[[list[int]], None], timeout_s: float, *, threaded: bool = True) -> None:
        self._mark, self.timeout_s, self.threaded = mark, timeout_s, threaded
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._pending = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kefu-imap-marker", daemon=True)

    def __enter__(self) -> Marker:
        if self.threaded:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.threaded:
            return
        self._queue.put(_STOP)
        # Every call in the thread is under the connection's timeout: it ends within one.
        self._thread.join(timeout=self.timeout_s + _JOIN_SLACK_S)
        if self._thread.is_alive():
            log.error("the IMAP marking thread did not stop within %.0fs; abandoning the connection",
                      self.timeout_s + _JOIN_SLACK_S)

    def committed(self, uids: list[int]) -> None:
        """The batch holding ``uids`` is committed: mark it. Raises what failed in the thread."""
        self._raise_error()
        if not self.threaded:
            self._mark(uids)
            return
        self._pending += 1
        self._queue.put(uids)

    def finish(self) -> None:
        """Wait until every committed batch is marked; raise what failed in the thread."""
        if not self.threaded:
            return
        self._queue.put(_END)
        # One call per batch still to mark, each under the connection's timeout.
        self._thread.join(timeout=(self._pending + 2) * self.timeout_s + _JOIN_SLACK_S)
        self._raise_error()
        if self._thread.is_alive():
            raise TimeoutError("the IMAP marking thread did not finish in time")

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            uids = self._queue.get()
            if uids is _END or uids is _STOP:
                return
            try:
                self._mark(uids)  # type: ignore[arg-type]
            except BaseException as exc:  # raised again in the main thread
                self._error = exc
                return
