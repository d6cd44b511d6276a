"""Two real daemons on one PostgreSQL under one node_name send each of 1,000 messages exactly once.

With the host name as the default node_name, two daemons on one host (two units,
two containers with one hostname, a restart overlapping the old process) used to
hand each other's in-flight claims back as their own stale ones and send them
again. The test runs two ``kefu run`` processes with the same node_name against
one schema and one SMTP server that is slow enough for their runs to overlap.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kefu.app import build_app
from kefu.db.engine import transaction
from kefu.db.models import OutboxMessage
from kefu.outbound.outbox import queue_message
from kefu.testing.databases import postgres_available, postgres_schema
from kefu.testing.fixtures import merge, skip_or_fail
from kefu.testing.outbox import write_templates

from .support import daemon_config, migrate

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
COUNT = 1000


def unsent(url_app) -> int:
    with url_app.sessions() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state.in_(["queued", "sending"]))
            )
            or 0
        )


def test_two_daemons_with_one_node_name_send_1000_messages_exactly_once(
    start_daemon, smtp_server, tmp_path: Path
) -> None:
    reason = postgres_available()
    if reason:
        skip_or_fail(reason)
    smtp_server.delay = 0.004  # each send takes a moment: the two daemons' runs overlap
    templates = write_templates(tmp_path / "templates")
    with postgres_schema() as url:
        migrate(url)
        cfg = daemon_config(
            tmp_path,
            url,
            kefu={"node_name": "same-host"},
            outbound=merge(
                smtp_server.config(),
                {
                    "batch_size": 25,
                    "rate": {"email_per_minute": 600_000},
                    "templates": str(templates),
                },
            ),
        )
        daemons = [start_daemon(cfg, name=name) for name in ("first", "second")]
        for daemon in daemons:
            daemon.wait_ready()
        t0 = time.monotonic()
        app = build_app(tmp_path / "queue.toml", raw=cfg)
        try:
            with transaction(app.sessions) as session:
                ctx = app.context("example", session)
                for i in range(COUNT):
                    queue_message(
                        ctx,
                        key=f"two-daemons/{i}",
                        channel="email",
                        audience="staff",
                        recipient=f"staff{i:04d}@example.com",
                        template="example/notice.txt",
                        context={"text": str(i)},
                    )
            t1 = time.monotonic()
            deadline = time.monotonic() + 180
            while unsent(app) and time.monotonic() < deadline:
                time.sleep(0.2)  # observing two other processes, not timing our own work
            left = unsent(app)
            print(f"ready {t0 - daemons[0].started_at:.1f}s queue {t1 - t0:.1f}s send {time.monotonic() - t1:.1f}s")
        finally:
            app.dispose()
        for daemon in daemons:
            code, _took = daemon.stop(timeout=30)
            assert code == 0, daemon.log()
    assert left == 0, "messages still unsent"
    sent = Counter(rcpt for m in smtp_server.messages for rcpt in m.rcpt_tos if rcpt.startswith("staff"))
    twice = {rcpt: n for rcpt, n in sent.items() if n > 1}
    print(f"sent {sum(sent.values())} messages to {len(sent)} recipients; twice: {len(twice)}")
    assert not twice, f"{len(twice)} messages sent more than once"
    assert len(sent) == COUNT and sum(sent.values()) == COUNT
    logs = [d.log() for d in daemons]
    # Started together on a fresh schema: neither fails on the other's first heartbeat row.
    assert all("Traceback" not in log and " ERROR " not in log for log in logs), logs
