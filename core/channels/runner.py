"""The push-driven channel workers: one IMAP IDLE thread per mailbox that offers IDLE.

A worker never reads mail itself: when the server reports new mail it marks its
channel woken and asks the main loop for an intake pass (``wake("intake")``), so
every store, mark and case change happens in the one main thread. It renews IDLE
before servers drop it (``idle_renew``), treats a silent or closed connection as
lost, and reconnects with exponential backoff up to ``reconnect_max``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from kefu.app import App
from kefu.channels.config import ImapChannel
from kefu.channels.polling import schedule_for

log = logging.getLogger("kefu.channels.idle")
CHECK_SECONDS = 1.0


class ChannelWorker(Protocol):
    """A background worker of one channel."""

    def stop(self) -> None:
        """Stop and join the worker."""


class ImapIdleWorker:
    """Holds an IDLE connection to one mailbox and wakes intake when mail arrives."""

    def __init__(self, app: App, name: str, cfg: ImapChannel, wake: Callable[[str], None]) -> None:
        self.app, self.name, self.cfg, self._wake = app, name, cfg, wake
        self.channel = f"imap:{name}"
        self.stopping = threading.Event()
        self.idle_supported: bool | None = None
        self.thread = threading.Thread(target=self._run, name=f"kefu-idle-{name}", daemon=True)

    def start(self) -> ImapIdleWorker:
        """Start the thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Ask the thread to stop and wait for it (at most a few seconds)."""
        self.stopping.set()
        self.thread.join(timeout=self.cfg.timeout.total_seconds() + 5)

    def wake(self) -> None:
        """Mark the channel due and ask the main loop for an intake pass."""
        schedule_for(self.app).wake(self.channel)
        self._wake("intake")

    def _run(self) -> None:
        backoff = 1.0
        limit = self.cfg.reconnect_max.total_seconds()
        while not self.stopping.is_set():
            try:
                self._session()
                if self.idle_supported is False:
                    log.info(
                        "%s: server offers no IDLE; the channel is polled every %s",
                        self.channel,
                        self.cfg.poll_interval,
                    )
                    return
                backoff = 1.0
            except Exception as exc:
                log.warning(
                    "%s: IDLE connection lost (%s: %s); reconnecting in %.0fs",
                    self.channel,
                    type(exc).__name__,
                    exc,
                    backoff,
                )
                if self.stopping.wait(backoff):
                    return
                backoff = min(backoff * 2, limit)

    def _session(self) -> None:
        from kefu.channels.imap import connect

        client = connect(self.cfg)
        try:
            if not client.has_capability("IDLE"):
                self.idle_supported = False
                return
            self.idle_supported = True
            client.select_folder(self.cfg.mailbox, readonly=True)
            self.wake()  # mail that came while we were not listening
            renew_at = time.monotonic() + self.cfg.idle_renew.total_seconds()
            client.idle()
            empty_wakeups = 0
            while not self.stopping.is_set():
                started = time.monotonic()
                responses = client.idle_check(timeout=CHECK_SECONDS)
                if any(_is_news(r) for r in responses):
                    self.wake()
                if not responses and time.monotonic() - started < CHECK_SECONDS / 2:
                    # The socket was readable but yielded nothing: the server closed it.
                    empty_wakeups += 1
                    if empty_wakeups >= 3:
                        raise ConnectionError("the server closed the IDLE connection")
                else:
                    empty_wakeups = 0
                if time.monotonic() >= renew_at:
                    # idle_done waits for the server under the read timeout: a hung server is caught here.
                    client.idle_done()
                    client.noop()
                    client.idle()
                    renew_at = time.monotonic() + self.cfg.idle_renew.total_seconds()
            client.idle_done()
        finally:
            try:
                client.logout()
            except Exception:
                log.debug("%s: logout after IDLE failed", self.channel, exc_info=True)


def _is_news(response: object) -> bool:
    return isinstance(response, tuple) and len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")


def start_channels(app: App, wake: Callable[[str], None]) -> list[ChannelWorker]:
    """Start one worker per push-driven channel; ``wake("intake")`` asks for an intake pass."""
    from kefu.channels.maildir_watch import MaildirWatcher

    workers: list[ChannelWorker] = []
    for name, cfg in app.settings.channels.imap.items():
        if cfg.idle:
            workers.append(ImapIdleWorker(app, name, cfg, wake).start())
    for name, mcfg in app.settings.channels.maildir.items():
        if mcfg.watch:
            workers.append(MaildirWatcher(app, name, mcfg.path, wake).start())
    return workers
