"""Files queued with an email (``ctx.queue(files=…)``) reach the sender as attachments beside the text."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest

from kefu.db.engine import transaction
from kefu.outbound.dispatch import run_dispatch
from kefu.testing.outbox import outbox_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_queued_file_is_attached_to_the_email_as_it_is(outbound_app, tmp_path: Path) -> None:
    app = outbound_app()
    with transaction(app.sessions) as session:
        app.context("example", session).queue(
            key="files/1",
            channel="email",
            recipient="boss@example.com",
            template="notice.txt",
            context={"text": "附件"},
            audience="staff",
            files=[("表.xlsx", b"PK\x03\x04 binary \x00\xff", XLSX)],
        )
    run_dispatch(app)
    (row,) = outbox_rows(app)
    assert row.state == "sent", row.last_error
    msg = email.message_from_bytes(
        (tmp_path / "spool" / "mail" / f"{row.id:08d}.eml").read_bytes(), policy=policy.default
    )
    (part,) = list(msg.iter_attachments())
    assert (part.get_filename(), part.get_content_type()) == ("表.xlsx", XLSX)
    assert part.get_content() == b"PK\x03\x04 binary \x00\xff"


def test_files_on_an_sms_are_refused(outbound_app) -> None:
    app = outbound_app()
    with transaction(app.sessions) as session, pytest.raises(ValueError, match="only be attached to an email"):
        app.context("example", session).queue(
            key="files/2", channel="sms", recipient="+8613812345678", template="notice.txt", context={"text": "x"},
            files=[("a.txt", b"x", "text/plain")],
        )  # fmt: skip
