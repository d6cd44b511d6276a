"""kill -9 in the middle of a dispatch run, then a restart: nothing lost, at most one row sent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from kefu.outbound.dispatch import run_dispatch
from kefu.testing.outbox import SAMPLE_TEMPLATES, outbox_rows, queue, write_templates

ROWS = 40


def toml_config(tmp_path: Path, db_url: str, smtp_port: int, templates: Path) -> Path:
    path = tmp_path / "kefu.toml"
    path.write_text(
        f'''
[kefu]
state_dir = "{tmp_path / "state"}"
node_name = "test"
[database]
url = "{db_url}"
[plugins]
enabled = ["example"]
[http]
enabled = false
[outbound]
email_sender = "smtp"
templates = "{templates}"
[outbound.smtp]
host = "127.0.0.1"
port = {smtp_port}
from = "kefu@kefu.example"
[outbound.rate]
email_per_minute = 60000
''',
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
def test_kill_9_mid_dispatch_loses_nothing_and_resends_at_most_one(outbound_app, smtp_server, db_url, tmp_path) -> None:
    app = outbound_app(outbound={**smtp_server.config(), "rate": {"email_per_minute": 60000}})
    for i in range(ROWS):
        queue(
            app,
            key=f"crash/{i}",
            channel="email",
            recipient=f"h{i}@example.com",
            template="example/notice.txt",
            context={"text": f"第{i}户"},
        )
    templates = write_templates(tmp_path / "tpl", SAMPLE_TEMPLATES)
    config = toml_config(tmp_path, db_url, smtp_server.port, templates)
    smtp_server.delay = 0.05  # slow enough to kill the dispatcher while it is sending
    proc = subprocess.Popen(
        [sys.executable, "-c", "from kefu.cli.main import main; main()", "--config", str(config), "run", "--once"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "KEFU_CONFIG": str(config)},
    )
    try:
        deadline = time.monotonic() + 60
        while len(smtp_server.messages) < 8 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    before = len(smtp_server.messages)
    assert 8 <= before < ROWS
    stuck = [r for r in outbox_rows(app) if r.state == "sending"]
    assert stuck, "the killed dispatcher left claimed rows behind"

    smtp_server.delay = 0
    run_dispatch(app)  # the restart: this node's dead process's claims are given back at once

    rows = outbox_rows(app)
    assert [r.state for r in rows] == ["sent"] * ROWS
    received = Counter(m.parsed()["Message-ID"].strip() for m in smtp_server.messages)
    assert set(received) == {r.message_id for r in rows}  # nothing lost
    assert sum(received.values()) - ROWS <= 1  # at most the one in-flight row twice
    assert all(n <= 2 for n in received.values())
