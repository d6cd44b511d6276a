"""Watching a Maildir so a mail dropped into its ``new/`` folder is read at once.

The watchdog library uses inotify on Linux (and the platform's own notification
elsewhere, or a polling observer); like the IMAP IDLE worker, the watcher never
reads mail itself: it marks its channel woken and asks the main loop for an
intake pass. A Maildir that does not exist yet (the demo's, created by the first
pass) is looked for every second until it does.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

try:
    from watchdog.observers.inotify import InotifyObserver
except ImportError:  # not Linux: no inotify, no close events
    InotifyObserver = None  # type: ignore[assignment,misc]

from kefu.app import App
from kefu.channels.polling import schedule_for

log = logging.getLogger("kefu.channels.maildir")
LOOK_FOR_FOLDER_SECONDS = 1.0


class _Handler(FileSystemEventHandler):
    """Wakes intake when a complete file is in ``new/``: renamed into it (from ``tmp/``, how a
    Maildir delivery finishes) or, for a file written there directly (``cp``), once it is closed.

    The whole Maildir is watched so a rename from ``tmp/`` is seen as one; files kefu itself
    moves on to ``cur/`` wake nothing. Waking at creation would read a file ``cp`` has not
    finished writing (an empty message, quarantined); observers without close events (no
    inotify) can only wake at creation.
    """

    def __init__(self, new: Path, wake: Callable[[], None], *, close_events: bool) -> None:
        self.new = new
        self.wake = wake
        self.close_events = close_events

    def _in_new(self, path: str | bytes) -> bool:
        return Path(os.fsdecode(path)).parent == self.new

    def on_created(self, event: FileSystemEvent) -> None:
        """A file appeared; complete only where the observer cannot tell when it is closed."""
        if not event.is_directory and not self.close_events and self._in_new(event.src_path):
            self.wake()

    def on_closed(self, event: FileSystemEvent) -> None:
        """A file written in ``new/`` was closed: it is complete."""
        if not event.is_directory and self._in_new(event.src_path):
            self.wake()

    def on_moved(self, event: FileSystemEvent) -> None:
        """A file was renamed into ``new/``."""
        if not event.is_directory and self._in_new(event.dest_path):
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
                    close_events = InotifyObserver is not None and isinstance(observer, InotifyObserver)
                    handler = _Handler(self.folder, self.wake, close_events=close_events)
                    observer.schedule(handler, str(self.folder.parent), recursive=True)
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
