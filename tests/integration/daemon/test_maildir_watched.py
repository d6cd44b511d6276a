"""A real ``kefu run``: a mail dropped into its Maildir becomes a case without waiting for a poll."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from kefu.db.engine import make_engine
from kefu.db.models import Case
from kefu.testing.mail import build_mail, deliver_to_maildir

from .support import daemon_config, migrate

pytestmark = pytest.mark.slow


def test_a_dropped_mail_becomes_a_case_without_waiting_for_the_poll(start_daemon, sqlite_url, tmp_path):
    migrate(sqlite_url)
    root = tmp_path / "maildir"
    config = daemon_config(
        tmp_path,
        sqlite_url,
        channels={"maildir": {"box": {"path": str(root), "default_kind": "example.request", "poll_interval": "1h"}}},
    )
    config["scheduler"]["intake_interval"] = "1h"  # only the watcher can make it read the mail now
    d = start_daemon(config)
    d.wait_ready()
    engine = make_engine(sqlite_url)
    try:
        deadline = time.monotonic() + 15
        while not (root / "new").is_dir() and time.monotonic() < deadline:
            time.sleep(0.05)  # the first intake pass creates the demo Maildir
        deliver_to_maildir(root, build_mail())
        dropped, count = time.monotonic(), 0
        while not count and time.monotonic() < deadline:
            with engine.connect() as conn:
                count = conn.scalar(select(func.count()).select_from(Case)) or 0
            if not count:
                time.sleep(0.05)
        assert count == 1, d.log()
        print(f"dropped mail to case: {time.monotonic() - dropped:.2f}s")
    finally:
        engine.dispose()
