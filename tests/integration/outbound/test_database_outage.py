"""The database crashing mid-run sends nothing twice: the run stops, and the next one settles.

A private PostgreSQL cluster is crashed (``pg_ctl stop -m immediate``) while the
SMTP server holds the second message's DATA. Before the fix, the run went on
sending the whole batch, none of it recordable, and every row was sent again
once its claim was given back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from kefu.outbound.dispatch import run_dispatch
from kefu.outbound.unrecorded import OutcomeUnrecorded, owed_to
from kefu.testing import pgcluster
from kefu.testing.fixtures import skip_or_fail
from kefu.testing.outbox import outbox_rows, queue


@pytest.fixture
def private_pg() -> Iterator[pgcluster.PrivatePostgres]:
    reason = pgcluster.unavailable()
    if reason is not None:
        skip_or_fail(f"a private PostgreSQL cluster cannot run here: {reason}")
    cluster = pgcluster.PrivatePostgres().start()
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the database is the private cluster
def test_a_database_crash_mid_run_stops_sending_and_sends_nothing_twice(outbound_app, smtp_server, private_pg) -> None:
    app = outbound_app(url=private_pg.url, outbound=smtp_server.config())
    for i in range(6):
        queue(
            app,
            key=f"o{i}",
            channel="email",
            recipient=f"o{i}@example.com",
            template="example/notice.txt",
            context={"text": f"第{i}户"},
        )
    handler = smtp_server.recorder
    original = type(handler).handle_DATA

    async def crash_on_the_second(self: Any, server: Any, session: Any, envelope: Any) -> str:
        answer = await original(self, server, session, envelope)
        if len(smtp_server.messages) == 2 and private_pg.running():
            private_pg.stop("immediate")  # before the 250: the client has no idea yet
        return answer

    handler.handle_DATA = crash_on_the_second.__get__(handler)
    with pytest.raises(OutcomeUnrecorded):
        run_dispatch(app)
    # The second went out and is owed as sent; the third was abandoned before its DATA.
    assert len(smtp_server.messages) == 2
    owed = owed_to(app)
    assert len(owed.sent) == 1 and len(owed.unsent) == 4

    with pytest.raises(OperationalError):  # still away: the next run fails before it sends anything
        run_dispatch(app)
    assert len(smtp_server.messages) == 2

    private_pg.start()
    run_dispatch(app)
    assert not owed
    received = Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    assert received == Counter(f"o{i}@example.com" for i in range(6))  # each once
    rows = outbox_rows(app)
    assert [r.state for r in rows] == ["sent"] * 6
    # A row given back was never tried: its claim's attempt is returned.
    assert [r.attempts for r in rows] == [1] * 6
