"""The sent record a lending sender defers: written in its wait, or at once when the next send fails."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kefu.outbound.dispatch import run_dispatch
from kefu.senders.base import Outgoing, SendResult, TransientFailure
from kefu.testing.outbox import outbox_rows, queue


class LendingSender:
    """Fails the rows named in ``fail_before_wait`` before lending its wait, like a refused connect."""

    lends_wait = True

    def __init__(
        self, fail_before_wait: set[str], seen: list[tuple[str, list[str]]], states: Callable[[], list[str]]
    ) -> None:
        self.fail_before_wait, self.seen, self.states = fail_before_wait, seen, states

    def send(self, message: Outgoing, meanwhile: Callable[[], object] | None = None) -> SendResult:
        if message.recipient in self.fail_before_wait:
            raise TransientFailure("cannot connect to SMTP: refused")
        assert meanwhile is not None
        meanwhile()
        self.seen.append((message.recipient, self.states()))  # what is recorded once the wait is lent
        return SendResult(provider_id=f"Q-{message.recipient}")

    def close(self) -> None:
        pass


@pytest.fixture
def lending(monkeypatch: pytest.MonkeyPatch):
    def install(app, fail_before_wait: set[str]) -> list[tuple[str, list[str]]]:
        seen: list[tuple[str, list[str]]] = []
        sender = LendingSender(fail_before_wait, seen, lambda: [r.state for r in outbox_rows(app)])
        monkeypatch.setattr("kefu.outbound.dispatch.make_sender", lambda _app, _channel: sender)
        return seen

    return install


def test_the_previous_row_is_recorded_in_the_next_ones_wait(outbound_app, lending) -> None:
    app = outbound_app()
    for i in range(3):
        queue(
            app,
            key=f"w{i}",
            channel="email",
            recipient=f"w{i}@example.com",
            template="example/notice.txt",
            context={"text": "x"},
        )
    seen = lending(app, set())
    run_dispatch(app)
    assert seen == [
        ("w0@example.com", ["sending"] * 3),
        ("w1@example.com", ["sent", "sending", "sending"]),
        ("w2@example.com", ["sent", "sent", "sending"]),
    ]
    rows = outbox_rows(app)
    assert [(r.state, r.provider_id) for r in rows] == [("sent", f"Q-w{i}@example.com") for i in range(3)]


def test_a_send_failing_before_the_wait_still_records_the_row_before_it(outbound_app, lending) -> None:
    app = outbound_app(outbound={"retry": {"jitter": 0}})
    for i in range(3):
        queue(
            app,
            key=f"f{i}",
            channel="email",
            recipient=f"f{i}@example.com",
            template="example/notice.txt",
            context={"text": "x"},
        )
    lending(app, {"f1@example.com"})
    run_dispatch(app)
    rows = outbox_rows(app)
    assert [r.state for r in rows] == ["sent", "queued", "sent"]
    assert rows[0].provider_id == "Q-f0@example.com" and "refused" in rows[1].last_error
