"""Watching a Maildir's ``new/`` folder so a mail dropped there is read at once.

The watchdog library uses inotify on Linux (and the platform's own notification
elsewhere, or a polling observer); like the IMAP IDLE worker, the watcher never
reads mail itself: it marks its channel woken and asks the main loop for an
intake pass. A Maildir that does not exist yet (the demo's, created by the first
pass) is looked for every second until it does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from kefu.app import App
from kefu.channels.polling import schedule_for

log = logging.getLogger("kefu.channels.maildir")
LOOK_FOR_FOLDER_SECONDS = 1.0


class _Handler(FileSystemEventHandler):
    """Wakes intake when a file appears in ``new/`` (delivered, or renamed into it from ``tmp/``)."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self.wake = wake

    def on_created(self, event: FileSystemEvent) -> None:
        """A file was written straight into ``new/``."""
        if not event.is_directory:
            self.wake()

    def on_moved(self, event: FileSystemEvent) -> None:
        """A file was renamed into ``new/`` (how Maildir delivery finishes)."""
        if not event.is_directory:
            self.wake()


class MaildirWatcher:
    """Watches one Maildir's ``new/`` and wakes intake when mail lands there."""

    def __init__(self, app: App, name: str, path: Path, wake: Callable[[str], None]) -> None:
        self.app, self.name, self._wake = app, name, wake
        self.channel = f"maildir:{name}"
        self.folder = Path(path) / "new"
        self.stopping = threading.Event()
        self.observer: BaseObserver | None = None
        self.thread = threading.Thread(target=self._run, name=f"kefu-watch-{name}", daemon=True)

    def start(self) -> MaildirWatcher:
        """Start watching (at once, or as soon as the folder exists)."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop the observer and the thread."""
        self.stopping.set()
        self.thread.join(timeout=5)
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)

    def wake(self) -> None:
        """Mark the channel due and ask the main loop for an intake pass."""
        schedule_for(self.app).wake(self.channel)
        self._wake("intake")

    def _run(self) -> None:
        while not self.stopping.is_set():
            if self.folder.is_dir():
                try:
                    observer = Observer()
                    observer.schedule(_Handler(self.wake), str(self.folder), recursive=False)
                    observer.start()
                except Exception as exc:  # no inotify watches left, a folder gone meanwhile …
                    log.warning(
                        "%s: cannot watch %s (%s: %s); it is polled every %s",
                        self.channel,
                        self.folder,
                        type(exc).__name__,
                        exc,
                        self.app.settings.channels.maildir[self.name].poll_interval,
                    )
                    return
                self.observer = observer
                log.debug("%s: watching %s", self.channel, self.folder)
                self.wake()  # mail that came before the watch began
                return
            self.stopping.wait(LOOK_FOR_FOLDER_SECONDS)
