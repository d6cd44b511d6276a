"""A sent email is recorded while the next one's MAIL FROM is answered, never after its DATA.

That ordering is what keeps "kill -9 resends at most the in-flight row" true now that
the sent-row commit no longer waits its own turn.
"""

from __future__ import annotations

from typing import Any

from kefu.db.engine import transaction
from kefu.db.models import OutboxMessage
from kefu.outbound.dispatch import run_dispatch
from kefu.testing.outbox import outbox_rows, queue


def test_every_delivered_row_is_sent_when_the_next_data_arrives(outbound_app, smtp_server) -> None:
    app = outbound_app(outbound=smtp_server.config())
    for i in range(6):
        queue(
            app,
            key=f"n{i}",
            channel="email",
            recipient=f"h{i}@example.com",
            template="example/notice.txt",
            context={"text": f"第{i}户"},
        )
    unrecorded: list[int] = []
    handler = smtp_server.recorder
    original = type(handler).handle_DATA

    async def look_then_accept(self: Any, server: Any, session: Any, envelope: Any) -> str:
        delivered = {m.rcpt_tos[0] for m in smtp_server.messages}
        with transaction(app.sessions) as db:
            states = {row.recipient: row.state for row in db.query(OutboxMessage)}
        unrecorded.append(sum(states[address] != "sent" for address in delivered))
        return await original(self, server, session, envelope)

    handler.handle_DATA = look_then_accept.__get__(handler)
    run_dispatch(app)
    assert [r.state for r in outbox_rows(app)] == ["sent"] * 6
    assert len(smtp_server.messages) == 6
    assert unrecorded == [0] * 6  # before each DATA, every message already delivered was recorded
