"""Claims carry the process's identity and a lease: only an expired lease or a dead claimant is taken over."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

from sqlalchemy import update

from kefu import identity
from kefu.db.engine import transaction
from kefu.db.models import OutboxMessage
from kefu.outbound.claims import LeaseKeeper, claim_due, claim_token, release_orphans
from kefu.outbound.dispatch import Dispatcher
from kefu.senders.base import SendResult
from kefu.testing.outbox import outbox_rows, queue

PHONE = "+8613812345678"


def queue_sms(app, count: int) -> None:
    for i in range(count):
        queue(
            app,
            key=f"l{i}",
            channel="sms",
            recipient=PHONE,
            urgent=True,
            template="example/notice.txt",
            context={"text": str(i)},
        )


def token_of(pid: int, nonce: str) -> str:
    """A claim token of process ``pid`` of this machine, under the same node_name as ours."""
    return dataclasses.replace(identity.current("test"), pid=pid, nonce=nonce).token


def set_claimant(app, token: str) -> None:
    with transaction(app.sessions) as session:
        session.execute(update(OutboxMessage).values(claimed_by=token))


def test_the_identity_is_unique_per_process_whatever_the_node_name() -> None:
    here = identity.current("same-name")
    code = "from kefu import identity; print(identity.current('same-name').token)"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other != here.token
    parsed = identity.parse(other)
    assert parsed is not None and parsed.label == "same-name" and parsed.pid != os.getpid()
    assert parsed.host == here.host and here.same_kernel_and_pids(parsed)
    assert identity.parse("test:999:abc") is None  # an older kefu's token: left to its lease


def test_a_live_daemon_with_the_same_node_name_keeps_its_claims(outbound_app, clock) -> None:
    app = outbound_app(outbound={"claim_timeout": "10m"})
    queue_sms(app, 3)
    claim_due(app, clock.now(), 10)
    set_claimant(app, token_of(os.getppid(), "alive"))  # a live process: pytest's parent
    assert release_orphans(app, clock.now()) == 0
    clock.advance(minutes=9)
    assert release_orphans(app, clock.now()) == 0
    clock.advance(minutes=2)  # its lease expired: it stopped renewing
    assert release_orphans(app, clock.now()) == 3


def test_a_claim_of_an_earlier_process_with_our_pid_is_taken_at_once(outbound_app, clock) -> None:
    app = outbound_app()
    queue_sms(app, 2)
    claim_due(app, clock.now(), 10)
    set_claimant(app, token_of(os.getpid(), "earlier"))
    assert release_orphans(app, clock.now()) == 2


def test_our_own_claims_are_never_given_back_while_the_lease_holds(outbound_app, clock) -> None:
    app = outbound_app(outbound={"claim_timeout": "10m"})
    queue_sms(app, 2)
    claimed, _ = claim_due(app, clock.now(), 10)
    assert {c.row.claimed_by for c in claimed} == {claim_token(app)}
    assert release_orphans(app, clock.now()) == 0


def test_the_lease_is_renewed_while_the_work_runs(outbound_app, clock) -> None:
    app = outbound_app(outbound={"claim_timeout": "9m"})
    queue_sms(app, 3)
    keeper = LeaseKeeper(app)
    claim_due(app, clock.now(), 10)
    keeper.claimed(clock.now())
    clock.advance(minutes=2)
    assert not keeper.due(clock.now()) and keeper.tick(clock.now()) is None
    clock.advance(minutes=2)  # a third of the lease passed: renewed until 4 + 9 = 13 min
    assert keeper.tick(clock.now()) is None
    set_claimant(app, token_of(os.getppid(), "other"))  # seen from another daemon: a live claim
    with transaction(app.sessions) as session:
        session.execute(update(OutboxMessage).values(claimed_by=claim_token(app)))
    clock.advance(minutes=8)  # 12 min: past the first lease, inside the renewed one
    assert release_orphans(app, clock.now()) == 0
    clock.advance(minutes=2)  # 14 min: nobody renewed since
    assert release_orphans(app, clock.now()) == 3


class StallingSender:
    """Sends instantly, except that the first send hangs past the lease while another daemon takes over."""

    lends_wait = False

    def __init__(self, app, clock, take_over) -> None:
        self.app, self.clock, self.take_over = app, clock, take_over
        self.sent: list[int] = []

    def send(self, message) -> SendResult:
        if not self.sent:
            self.clock.advance(minutes=11)
            self.take_over()
        self.sent.append(message.id)
        return SendResult(provider_id=f"test:{message.id}")

    def close(self) -> None:
        pass


def test_rows_taken_over_after_a_lapsed_lease_are_not_sent_again(outbound_app, clock) -> None:
    app = outbound_app(outbound={"claim_timeout": "10m", "batch_size": 10})
    queue_sms(app, 4)
    other = token_of(os.getppid(), "other")

    def take_over() -> None:
        # Another daemon saw the lease expire, released the rows and claimed those still queued.
        with transaction(app.sessions) as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.state == "sending").values(claimed_by=other))

    dispatcher = Dispatcher(app)
    sender = StallingSender(app, clock, take_over)
    dispatcher.senders["sms"] = sender
    try:
        dispatcher.run()
    finally:
        dispatcher.close()
    rows = outbox_rows(app)
    assert len(sender.sent) == 1  # only the row on the wire when the lease lapsed
    assert [r.state for r in rows].count("sent") == 1
    assert {r.claimed_by for r in rows if r.state == "sending"} == {other}
