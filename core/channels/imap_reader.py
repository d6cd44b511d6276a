"""Talking to the IMAP server in a thread of its own while the main thread stores and processes.

Fetching a batch and marking one are mostly waiting on the server (Dovecot moving
and renaming files, answering the FETCH); done in line, the daemon waits out every
one of them. A :class:`MailboxReader` owns the connection after the mailbox is
selected: it fetches up to ``AHEAD`` batches ahead of the main thread, and marks a
batch only when the main thread says it is committed (:meth:`MailboxReader.committed`),
marks before fetches. The ordering the channel promises is unchanged — nothing is
marked before it is stored — and only the main thread touches the database.

A failure in the thread (a dropped connection, a timeout) is raised in the main
thread at its next call, so the channel fails and backs off as before; batches
stored but not marked are found stored on the next poll and only marked.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from imapclient import IMAPClient

log = logging.getLogger("kefu.channels.imap")

AHEAD = 2  # fetched batches held for the main thread: enough to hide a fetch, little memory
_JOIN_SLACK_S = 5.0


class MailboxReader:
    """Fetch the planned batches ahead in a thread, and mark the ones the main thread committed.

    ``plan`` lists, per batch, the UIDs to fetch (those not stored yet) and the UIDs
    to mark once the batch is committed. ``mark(uids)`` is called in the thread.
    Use as a context manager: leaving it stops the thread and waits for it, so the
    connection is the caller's again.
    """

    def __init__(self, client: IMAPClient, plan: list[tuple[list[int], list[int]]],
                 mark: Callable[[list[int]], None], timeout_s: float) -> None:
        self.client, self.plan, self._mark, self.timeout_s = client, plan, mark, timeout_s
        self._cond = threading.Condition()
        self._ready: deque[tuple[list[int], list[int], dict[int, dict[bytes, Any]]]] = deque()
        self._to_mark: deque[list[int]] = deque()
        self._fetched_all = not plan
        self._main_done = False
        self._stopping = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kefu-imap-reader", daemon=True)

    def __enter__(self) -> MailboxReader:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        # Every call in the thread is under the connection's timeout: it ends within one.
        self._thread.join(timeout=self.timeout_s + _JOIN_SLACK_S)
        if self._thread.is_alive():
            log.error("the IMAP reader thread did not stop within %.0fs; abandoning the connection",
                      self.timeout_s + _JOIN_SLACK_S)

    def batches(self) -> Iterator[tuple[list[int], list[int], dict[int, dict[bytes, Any]]]]:
        """Each planned batch in order: (UIDs to mark, UIDs fetched, the FETCH answer by UID)."""
        while True:
            with self._cond:
                while not self._ready and not self._fetched_all and self._error is None:
                    self._cond.wait()
                self._raise_error()
                if not self._ready:
                    return
                batch = self._ready.popleft()
                self._cond.notify_all()  # room to fetch another ahead
            yield batch

    def committed(self, uids: list[int]) -> None:
        """The batch holding ``uids`` is committed: the thread may mark it now."""
        with self._cond:
            self._to_mark.append(uids)
            self._cond.notify_all()

    def finish(self) -> None:
        """Wait until every committed batch is marked; raise what failed in the thread."""
        with self._cond:
            self._main_done = True
            self._cond.notify_all()
        # Every call in the thread is under the connection's timeout; one per committed batch is left.
        self._thread.join(timeout=(len(self.plan) + 1) * self.timeout_s + _JOIN_SLACK_S)
        self._raise_error()
        if self._thread.is_alive():
            raise TimeoutError("the IMAP reader thread did not finish marking in time")

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        planned = deque(self.plan)
        try:
            while True:
                with self._cond:
                    while not (self._stopping or self._to_mark
                               or (planned and len(self._ready) < AHEAD)
                               or (self._main_done and not self._to_mark)):
                        self._cond.wait()
                    if self._stopping:
                        return
                    if self._to_mark:
                        action, uids = "mark", self._to_mark.popleft()
                    elif planned and len(self._ready) < AHEAD:
                        action, (uids, missing) = "fetch", planned.popleft()
                    else:
                        return  # the main thread is done and everything committed is marked
                if action == "mark":
                    self._mark(uids)
                    continue
                # BODY.PEEK[] leaves \Seen alone: marking is a separate, later step.
                fetched = self.client.fetch(missing, ["BODY.PEEK[]"]) if missing else {}
                with self._cond:
                    self._ready.append((uids, missing, fetched))
                    self._fetched_all = not planned
                    self._cond.notify_all()
        except BaseException as exc:  # raised again in the main thread
            with self._cond:
                self._error = exc
                self._cond.notify_all()
        finally:
            with self._cond:
                self._fetched_all = True
                self._cond.notify_all()
