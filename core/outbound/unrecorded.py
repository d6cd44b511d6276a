"""What a dispatch run could not write down because the database went away.

When the database fails while a run records what it did, the run stops sending
at once: the next row would go out with nobody able to record it, and be sent a
second time once its claim was given back. What the run knew stays in this
process instead: the row that went out but is not recorded sent yet, and the
claimed rows it never sent. The next run writes that down before it claims
anything, and while the database is still away it fails before sending.

A database outage therefore sends nothing twice, unless this process dies before
the database is back. Then the one row that went out and was not recorded is
sent again, which is the same promise a kill makes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import DBAPIError

from kefu.app import App
from kefu.outbound.claims import OutboxRow, give_back
from kefu.outbound.outcomes import mark_sent
from kefu.senders.base import SendResult

log = logging.getLogger("kefu.outbox")


class OutcomeUnrecorded(Exception):
    """Writing row ``row_id``'s outcome failed (``sent`` says whether it went out): the run stops sending."""

    def __init__(self, row_id: int, *, sent: bool) -> None:
        verb = "went out but is not recorded sent" if sent else "could not be recorded"
        super().__init__(f"outbox row {row_id} {verb}: the database failed")
        self.row_id, self.sent = row_id, sent


@dataclass(frozen=True)
class SentNotRecorded:
    """A row that went out, with what is needed to record it later."""

    row: OutboxRow
    result: SendResult
    at: datetime
    letter_pdf: bytes | None = None


@dataclass
class Unrecorded:
    """One database's outcomes this process still owes it."""

    sent: dict[int, SentNotRecorded] = field(default_factory=dict)
    unsent: set[int] = field(default_factory=set)  # claimed by this process, never sent

    def __bool__(self) -> bool:
        return bool(self.sent or self.unsent)

    def settle(self, app: App) -> None:
        """Record what an earlier run could not; raises, keeping the rest, while the database is still away."""
        for row_id, owed in list(self.sent.items()):
            try:
                mark_sent(app, owed.row, owed.result, owed.at, letter_pdf=owed.letter_pdf)
            except DBAPIError:
                raise  # still away: kept for the next run
            except Exception:
                # Not the database but the letter's archive: the send itself is what must not repeat.
                log.exception("outbox row %d: its letter could not be archived; recording it sent without", row_id)
                mark_sent(app, owed.row, owed.result, owed.at)
            del self.sent[row_id]
            log.warning("outbox row %d: recorded sent now that the database answers again", row_id)
        if self.unsent:
            back = give_back(app, self.unsent)
            log.warning("gave back %d outbox rows claimed before the database failed; none of them was sent", back)
            self.unsent.clear()


_OWED: dict[str, Unrecorded] = {}


def owed_to(app: App) -> Unrecorded:
    """What this process owes ``app``'s database (kept across runs and config reloads)."""
    return _OWED.setdefault(app.engine.url.render_as_string(hide_password=True), Unrecorded())
