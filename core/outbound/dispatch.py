"""The dispatcher: claims due outbox rows, sends them, records what happened.

One run (a step of every daemon pass) repeats: release rows whose claim's lease
expired (or whose claimant provably died), claim a batch (consent and quiet hours
decided there) under a lease renewed between rows, then for each row wait for its
channel's rate slot, send, and record the outcome in its own transaction. One bad row never stops
the run; a stalled queue alarms staff.

Crash safety: outcomes are deliberately NOT recorded in groups. A claimed row
stays ``sending`` until the one UPDATE that follows its own send commits, so
after a kill -9 the only ``sending`` row that already went out is the one that
was on the wire; the rest of the batch was never sent. Recording "sent" is made
cheap instead (a precompiled UPDATE on the DBAPI connection the run keeps open),
and, for a sender that lends its wait (SMTP), it is written while the server
answers the next message's MAIL FROM, before any of that message can be
delivered: still at most the one row on the wire is sent and not recorded.

When the database fails while an outcome is written, the run stops sending (the
next row could not be recorded either) and :mod:`kefu.outbound.unrecorded` keeps
what it knew for the next run, which writes it before claiming anything.
"""

from __future__ import annotations

import base64
import logging
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kefu.app import App
from kefu.clock import SystemClock
from kefu.db.engine import transaction
from kefu.db.models import OutboxMessage, StaffMember
from kefu.outbound.claims import Claimed, LeaseKeeper, OutboxRow, claim_due, release_orphans
from kefu.outbound.outcomes import SentRecorder, mark_failed, mark_retry, mark_sent, mark_waiting
from kefu.outbound.policy import Pacer
from kefu.outbound.unrecorded import OutcomeUnrecorded, SentNotRecorded, owed_to
from kefu.secrets import mask
from kefu.senders.base import (
    Attachment,
    Outgoing,
    PermanentFailure,
    Sender,
    SendResult,
    TransientFailure,
    WaitLendingSender,
)
from kefu.senders.letter_fonts import LetterFontsMissing, Resolved, require_fonts, resolve_all
from kefu.senders.letters import LetterError, LetterSetupMissing, html_to_pdf, letter_filename

log = logging.getLogger("kefu.outbox")
# A rate slot this close is waited for on the wall clock; a later one holds the row in the queue.
MAX_PACING_WAIT = 1.0
# A letter whose fonts are missing is looked at again this often (someone installs the font).
FONT_RECHECK = timedelta(minutes=10)
_PACERS: dict[int, dict[str, Pacer]] = {}


def spool_folder(app: App) -> Path:
    """Where the spool sender writes (``[outbound.spool] path``, default ``<state_dir>/spool``)."""
    return app.settings.outbound.spool.path or app.settings.kefu.state_dir / "spool"


def make_sender(app: App, channel: str) -> Sender:
    """The configured sender for ``channel`` (email or sms)."""
    out = app.settings.outbound
    from_name = out.smtp.from_name or app.settings.kefu.site_name
    if channel == "email":
        if out.email_sender == "smtp":
            from kefu.senders.smtp import SmtpEmailSender

            return SmtpEmailSender(out.smtp, from_name, app.clock)
        from kefu.senders.spool import SpoolEmailSender

        return SpoolEmailSender(spool_folder(app), out.smtp.from_address, from_name, app.clock)
    if channel == "sms":
        if out.sms_sender == "twilio":
            from kefu.senders.twilio_sms import TwilioSmsSender

            return TwilioSmsSender(app.settings.twilio, app.settings.kefu.default_country)
        from kefu.senders.spool import SpoolSmsSender

        return SpoolSmsSender(spool_folder(app), app.clock)
    raise ValueError(f"no sender for channel {channel!r}")


def pacers(app: App) -> dict[str, Pacer]:
    """The per-channel pacers of ``app`` (kept across runs so the rate holds between passes)."""
    found = _PACERS.get(id(app))
    if found is None:
        rate = app.settings.outbound.rate
        found = {"sms": Pacer(rate.sms_per_second), "email": Pacer(rate.email_per_minute / 60)}
        _PACERS[id(app)] = found
        weakref.finalize(app, _PACERS.pop, id(app), None)
    return found


class Dispatcher:
    """One dispatch run of one app: senders are opened lazily and closed at the end."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.senders: dict[str, Sender] = {}
        self.pacers = pacers(app)
        self.real_time = isinstance(app.clock, SystemClock)
        self.recorder: SentRecorder | None = None  # where sent rows are recorded, one transaction each
        # The row last sent by a sender that lends its wait, not recorded yet (see _send_overlapped).
        self.pending: tuple[OutboxRow, SendResult, datetime] | None = None
        # The letter fonts as fontconfig resolves them, asked once per run at its first letter.
        self.fonts: Resolved | LetterFontsMissing | None = None
        self.font_waits: list[int] = []  # rows held for fonts this run, told once at its end
        self.font_wait_reason = ""

    def run(self, max_rounds: int = 1000) -> int:
        """Send everything due now; return how many rows were handled (sent, held, failed …)."""
        app = self.app
        owed = owed_to(app)
        if owed:
            owed.settle(app)  # raises while the database is still away: nothing is sent meanwhile
        released = release_orphans(app, app.clock.now())
        if released:
            log.warning("gave back %d outbox rows a stopped dispatcher had claimed", released)
        handled = 0
        batch = app.settings.outbound.batch_size
        lease = LeaseKeeper(app)
        try:
            for _round in range(max_rounds):
                now = app.clock.now()
                claimed, other = claim_due(app, now, batch)
                lease.claimed(now)
                handled += other
                still_ours: set[int] | None = None
                for index, item in enumerate(claimed):
                    try:
                        held = lease.tick(app.clock.now())
                        still_ours = held if held is not None else still_ours
                        if still_ours is not None and item.row.id not in still_ours:
                            log.warning(
                                "outbox row %d: our lease lapsed and another dispatcher took it over; not sent here",
                                item.row.id,
                            )
                            continue
                        handled += self.handle(item)
                    except (OutcomeUnrecorded, SQLAlchemyError) as exc:
                        self._stop(claimed[index:], exc)
                        raise
                if len(claimed) + other < batch:
                    break
        finally:
            if self.font_waits:
                log.error(
                    "%d letter(s) wait for their fonts (rows %s): %s",
                    len(self.font_waits),
                    ", ".join(map(str, self.font_waits[:10])),
                    self.font_wait_reason,
                )
            self._flush_sent()
        return handled

    def _stop(self, rest: list[Claimed], exc: Exception) -> None:
        """The database failed mid-run: keep what is owed to it, and stop sending."""
        with suppress(OutcomeUnrecorded):  # a failed record is kept in what is owed
            self._flush_sent()
        owed = owed_to(self.app)
        owed.unsent.update(item.row.id for item in rest if item.row.id not in owed.sent)
        log.error(
            "the database failed while outbox outcomes were written (%s): sending stops until it answers; "
            "%d row(s) went out and wait to be recorded sent, %d claimed row(s) go back to the queue",
            exc,
            len(owed.sent),
            len(owed.unsent),
        )

    def handle(self, item: Claimed) -> int:
        """Send one claimed row and record the outcome.

        Raises :class:`OutcomeUnrecorded` when the database fails as the outcome is
        written (the run must stop sending); any other error is the row's own.
        """
        app, row = self.app, item.row
        try:
            if not self._paced(row):
                return 1
            if row.channel == "letter":
                pdf = self._pdf(row.body)
                result = self._spool_letter(row, item.case_number, pdf)
                self._record_sent(row, result, app.clock.now(), letter_pdf=pdf)
                return 1
            letter_pdf = None
            attachments: tuple[Attachment, ...] = ()
            letter_html = (row.data or {}).get("letter_html")
            if row.channel == "email" and letter_html:
                letter_pdf = self._pdf(letter_html)
                title = _title(letter_html) or "letter"
                attachments = (Attachment(letter_filename(title, item.case_number, row.id), letter_pdf),)
            if row.channel == "email":
                attachments += _files(row)
            sender = self.sender(row.channel)
            outgoing = _outgoing(row, item.case_number, attachments)
            if letter_pdf is None and getattr(sender, "lends_wait", False):
                self._send_overlapped(sender, row, outgoing)
                return 1
            result = sender.send(outgoing)
            self._record_sent(row, result, app.clock.now(), letter_pdf=letter_pdf)
        except OutcomeUnrecorded:
            raise
        except LetterSetupMissing as exc:  # a font or a library: the site installs it, the letter waits
            with self._recording(row):
                mark_waiting(app, row, str(exc), app.clock.now() + FONT_RECHECK)
            self.font_waits.append(row.id)
            self.font_wait_reason = str(exc)
        except PermanentFailure as exc:
            with self._recording(row):
                mark_failed(app, row, exc, app.clock.now())
        except (TransientFailure, LetterError) as exc:
            with self._recording(row):
                mark_retry(app, row, exc, app.clock.now())
        except Exception as exc:  # a bug or an unexpected library error: retried, then dead
            self._unexpected(row, exc)
        return 1

    @contextmanager
    def _recording(self, row: OutboxRow) -> Iterator[None]:
        """Write an unsent row's outcome; a database failure stops the run, the row goes back."""
        try:
            yield
        except SQLAlchemyError as exc:
            raise OutcomeUnrecorded(row.id, sent=False) from exc

    def _pdf(self, html: str) -> bytes:
        """The letter's PDF, once the fonts are known to draw every character of it."""
        if self.fonts is None:
            try:
                self.fonts = resolve_all(self.app.settings.outbound.letters.fonts)
            except LetterFontsMissing as exc:
                self.fonts = exc
        if isinstance(self.fonts, LetterFontsMissing):
            raise self.fonts
        require_fonts(self.app, html, self.fonts)
        return html_to_pdf(html)

    def _send_overlapped(self, sender: Sender, row: OutboxRow, outgoing: Outgoing) -> None:
        """Send ``row``, recording the previous row while the server answers MAIL FROM.

        This row is recorded in turn during the next send, or when the run ends.
        """
        try:
            result = cast(WaitLendingSender, sender).send(outgoing, meanwhile=self._flush_sent)
        finally:
            self._flush_sent()  # the sender failed before it lent its wait
        self.pending = (row, result, self.app.clock.now())

    def _flush_sent(self) -> None:
        """Record the row whose recording was deferred, if any.

        Raises :class:`OutcomeUnrecorded` when that fails: raised in a sender's lent
        wait, it abandons the next message before any of it is sent.
        """
        pending, self.pending = self.pending, None
        if pending is None:
            return
        row, result, sent = pending
        self._record_sent(row, result, sent)

    def _unexpected(self, row: OutboxRow, exc: Exception) -> None:
        log.exception("outbox row %d (%s to %s): unexpected error", row.id, row.channel, mask(row.recipient))
        try:
            with self._recording(row):
                mark_retry(self.app, row, exc, self.app.clock.now())
        except OutcomeUnrecorded:
            raise
        except Exception:
            log.exception("outbox row %d: could not record the failure; it will be given back", row.id)

    def _record_sent(self, row: OutboxRow, result: SendResult, now: datetime, letter_pdf: bytes | None = None) -> None:
        """Record ``row`` sent; when that fails it is owed to the database and the run stops."""
        try:
            if letter_pdf is not None:
                mark_sent(self.app, row, result, now, letter_pdf=letter_pdf)
                return
            if self.recorder is None:
                self.recorder = SentRecorder(self.app.engine)
            self.recorder.record(row.id, result, now)
        except Exception as exc:
            self._drop_connection()  # a broken connection is not reused for the next row
            owed_to(self.app).sent[row.id] = SentNotRecorded(row, result, now, letter_pdf)
            raise OutcomeUnrecorded(row.id, sent=True) from exc

    def _drop_connection(self) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            try:
                recorder.close()
            except Exception:
                log.exception("closing the dispatcher's database connection failed")

    def _paced(self, row: OutboxRow) -> bool:
        """Wait for the channel's slot, or hold the row until it; False when held."""
        pacer = self.pacers.get(row.channel)
        if pacer is None:
            return True
        now = self.app.clock.now()
        wait = pacer.wait(now)
        if not wait:
            pacer.take(now)
            return True
        if self.real_time and wait.total_seconds() <= MAX_PACING_WAIT:
            self._flush_sent()  # not left unrecorded while we sleep
            time.sleep(wait.total_seconds())  # a rate slot, not a deadline: the wall clock is the rate's clock
            pacer.take(now + wait)
            return True
        slot = now + wait
        with transaction(self.app.sessions) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(
                    state="queued",
                    not_before=slot,
                    claimed_by=None,
                    claimed_at=None,
                    attempts=OutboxMessage.attempts - 1,
                )
            )
        return False

    def sender(self, channel: str) -> Sender:
        """The open sender for ``channel``."""
        found = self.senders.get(channel)
        if found is None:
            try:
                found = make_sender(self.app, channel)
            except Exception as exc:  # a sender that cannot start is a transient, visible failure
                raise TransientFailure(f"the {channel} sender cannot start: {exc}") from exc
            self.senders[channel] = found
        return found

    def _spool_letter(self, row: OutboxRow, case_number: str | None, pdf: bytes) -> SendResult:
        folder = spool_folder(self.app) / "letters"
        from kefu.senders.spool import write_atomically

        name = letter_filename(row.subject or row.template, case_number, row.id)
        write_atomically(folder / f"{row.id:08d}-{name}", pdf)
        return SendResult(provider_id=f"letter:{row.id}")

    def close(self) -> None:
        """Record the last row sent, then close every sender (SMTP QUIT) and the database connection."""
        try:
            self._flush_sent()
        except OutcomeUnrecorded as exc:
            log.error("%s; it is recorded at the next dispatch run", exc)
        self._drop_connection()
        for sender in self.senders.values():
            try:
                sender.close()
            except Exception:
                log.exception("closing a sender failed")
        self.senders.clear()


def _files(row: OutboxRow) -> tuple[Attachment, ...]:
    """The files queued with an email (``data["files"]``, base64), as attachments."""
    return tuple(
        Attachment(f["filename"], base64.b64decode(f["content"]), f["mime_type"])
        for f in (row.data or {}).get("files") or ()
    )


def _title(html: str) -> str | None:
    start, end = html.find("<title>"), html.find("</title>")
    return html[start + 7 : end].strip() if 0 <= start < end else None


def _outgoing(row: OutboxRow, case_number: str | None, attachments: tuple[Attachment, ...]) -> Outgoing:
    data = row.data or {}
    return Outgoing(
        id=row.id,
        key=row.idem_key,
        channel=row.channel,
        audience=row.audience,
        recipient=row.recipient,
        recipient_name=row.recipient_name,
        subject=row.subject,
        body=row.body,
        message_id=row.message_id,
        case_number=case_number,
        auto=bool(data.get("auto", True)),
        marketing=row.marketing,
        attachments=attachments,
    )


def oldest_due(session: Session, now: datetime) -> tuple[int, OutboxMessage | None]:
    """How many rows are due and waiting, and the one waiting longest."""
    waiting = (OutboxMessage.state.in_(["queued", "sending"]), OutboxMessage.not_before <= now)
    count = session.scalar(select(func.count()).select_from(OutboxMessage).where(*waiting)) or 0
    oldest = session.scalars(select(OutboxMessage).where(*waiting).order_by(OutboxMessage.not_before).limit(1)).first()
    return int(count), oldest


_WAITING = (OutboxMessage.state.in_(["queued", "sending"]), OutboxMessage.not_before <= bindparam("now"))
# Built once: every dispatch run asks it, and the answer is almost always "nothing old".
_OLDEST_DUE_AT = select(func.min(OutboxMessage.not_before)).where(*_WAITING)


def alarm_if_stalled(app: App) -> bool:
    """Tell ``[outbound] alarm_staff`` (once an hour) when a due row waits past ``alarm_age``."""
    from kefu.outbound.outbox import queue_message

    now = app.clock.now()
    limit = app.settings.outbound.alarm_age
    with app.engine.connect() as conn:  # one prebuilt query first; the Session and ORM rows only when stalled
        oldest_at = conn.scalar(_OLDEST_DUE_AT, {"now": now})
    if oldest_at is None or now - oldest_at <= limit:
        return False
    with transaction(app.sessions) as session:
        count, oldest = oldest_due(session, now)
        if oldest is None or now - oldest.not_before <= limit:
            return False
        age = now - oldest.not_before
        log.error(
            "outbox stalled: %d due rows waiting, the oldest (#%d, %s) for %d minutes",
            count,
            oldest.id,
            oldest.channel,
            age // timedelta(minutes=1),
        )
        hour = now.astimezone(app.settings.tz).strftime("%Y-%m-%dT%H")
        ctx = app.context("core", session)
        for key in app.settings.outbound.alarm_staff:
            person = session.get(StaffMember, key)
            if person is None or not (person.email or person.phone):
                log.error("outbox alarm: staff %r has no email or phone in [staff.people]", key)
                continue
            channel = "email" if person.email else "sms"
            queue_message(
                ctx,
                key=f"outbox-alarm/{hour}/{key}/{channel}",
                channel=channel,
                audience="staff",
                recipient=person.email or person.phone or "",
                recipient_name=person.name,
                template="core/outbox_alarm.txt",
                urgent=True,
                context={
                    "waiting": count,
                    "age_minutes": age // timedelta(minutes=1),
                    "alarm_minutes": limit // timedelta(minutes=1),
                    "oldest_id": oldest.id,
                    "oldest_channel": oldest.channel,
                    "oldest_error": oldest.last_error or "",
                },
            )
        return True


def run_dispatch(app: App) -> int:
    """Send every outbox row that is due; return how many were handled."""
    dispatcher = Dispatcher(app)
    try:
        handled = dispatcher.run()
    finally:
        dispatcher.close()
    try:
        alarm_if_stalled(app)
    except Exception:
        log.exception("checking the outbox age failed")
    return handled
