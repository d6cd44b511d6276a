"""A mail dropped into a Maildir is read at once, and polling keeps its configured rhythm."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kefu.app import App
from kefu.channels import polling
from kefu.channels.maildir_watch import MaildirWatcher
from kefu.testing.mail import build_mail, deliver_to_maildir


def test_a_channel_is_read_again_at_the_next_tick_however_long_its_read_took(make_app, clock, monkeypatch) -> None:
    app = make_app(config={"channels": {"maildir": {"box": {"path": "box", "poll_interval": "30s"}}}})
    reads: list[Any] = []

    def slow_read(app: App, name: str, cfg: Any, *, on_stored: Any = None) -> int:
        reads.append(app.clock.now())
        clock.advance(timedelta(seconds=2))  # the read takes two seconds
        return 0

    cfg = app.settings.channels.maildir["box"]
    monkeypatch.setattr(polling, "polled_channels", lambda _app: {"maildir:box": (cfg, slow_read)})
    start = clock.now()
    for tick in range(1, 5):  # the intake interval's ticks, 30 s apart from the first read
        polling.poll_channels(app)
        clock.advance(start + timedelta(seconds=30 * tick) - clock.now())
    assert reads == [start + timedelta(seconds=30 * n) for n in range(4)]


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    root = tmp_path / "maildir"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    return root


def test_the_watcher_wakes_intake_within_two_seconds_of_a_drop(make_app, maildir) -> None:
    app = make_app(config={"channels": {"maildir": {"box": {"path": str(maildir)}}}})
    woken = threading.Event()
    calls: list[str] = []

    def wake(what: str) -> None:
        calls.append(what)
        woken.set()

    watcher = MaildirWatcher(app, "box", maildir, wake).start()
    try:
        assert woken.wait(5)  # the first wake: mail that came before the watch began
        woken.clear()
        polling.schedule_for(app).take_due(["maildir:box"], app.clock.now())
        dropped = time.monotonic()
        deliver_to_maildir(maildir, build_mail())
        assert woken.wait(5), "the drop did not wake intake"
        assert time.monotonic() - dropped < 2
        assert calls[-1] == "intake"
        assert polling.schedule_for(app).take_due(["maildir:box"], app.clock.now()) == ["maildir:box"]
    finally:
        watcher.stop()


def test_a_maildir_created_after_the_start_is_watched_once_it_exists(make_app, tmp_path) -> None:
    root = tmp_path / "later"
    app = make_app(config={"channels": {"maildir": {"box": {"path": str(root)}}}})
    woken = threading.Event()
    watcher = MaildirWatcher(app, "box", root, lambda _what: woken.set()).start()
    try:
        assert not woken.wait(0.2)
        for sub in ("new", "cur", "tmp"):
            (root / sub).mkdir(parents=True)
        assert woken.wait(5)
        woken.clear()
        deliver_to_maildir(root, build_mail())
        assert woken.wait(5)
    finally:
        watcher.stop()


def test_a_mail_copied_straight_into_new_is_read_only_once_complete(make_app, maildir) -> None:
    # `cp leak.eml maildir/new/` writes in place: waking at creation read an empty message.
    app = make_app(config={"channels": {"maildir": {"box": {"path": str(maildir)}}}})
    woken = threading.Event()
    sizes: list[int] = []
    target = maildir / "new" / "copied.eml"
    raw = build_mail()

    def wake(_what: str) -> None:
        sizes.append(target.stat().st_size if target.exists() else -1)
        woken.set()

    watcher = MaildirWatcher(app, "box", maildir, wake).start()
    try:
        assert woken.wait(5)  # the first wake, before anything was dropped
        woken.clear()
        sizes.clear()
        with target.open("wb") as fh:
            fh.write(raw[:10])
            fh.flush()
            woken.wait(1)  # time for a wake at creation to happen, if the watcher did that
            fh.write(raw[10:])
        assert woken.wait(5)
        assert sizes and sizes[0] == len(raw)
    finally:
        watcher.stop()
