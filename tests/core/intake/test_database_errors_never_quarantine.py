"""A database that cannot do its part just now (a lock held too long) never quarantines good mail.

The item stays pending and opens its case at the next pass; quarantine is for mail kefu
cannot handle, which staff must look at, not for the database's moment.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from kefu.app import App
from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.models import Case, InboundItem
from kefu.intake.runner import run_intake
from kefu.testing.mail import build_mail
from kefu.testing.mail import deliver_to_maildir as deliver


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # a lock timeout is PostgreSQL's
def test_a_lock_timeout_leaves_the_mail_pending_and_the_next_pass_opens_its_case(
    heat_app: Callable[..., App], maildir: Path, db_url: str, clock: FakeClock
) -> None:
    impatient = db_url + "%20-clock_timeout%3D300"  # the server gives up waiting for a lock after 0.3 s
    app = heat_app(config={"database": {"url": impatient}})
    deliver(maildir, build_mail(subject="3号楼暖气漏水", text="楼上跑水了"))
    holder = create_engine(db_url)
    try:
        with holder.connect() as conn:
            conn.execute(text("LOCK TABLE case_sequences IN EXCLUSIVE MODE"))  # as a long report or migration might
            # The intake step fails (the daemon logs it and runs it again at its next interval).
            with pytest.raises(OperationalError):
                run_intake(app)
            conn.rollback()
    finally:
        holder.dispose()
    with transaction(app.sessions) as session:
        assert [i.status for i in session.scalars(select(InboundItem))] == ["pending"]
    clock.advance(minutes=1)  # past the channel's retry delay
    run_intake(app)
    with transaction(app.sessions) as session:
        assert [i.status for i in session.scalars(select(InboundItem))] == ["processed"]
        assert [c.kind for c in session.scalars(select(Case))] == ["heat.leak"]
