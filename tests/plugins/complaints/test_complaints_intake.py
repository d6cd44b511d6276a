"""Mail from an owner through the Maildir channel: classified, threaded to the home, acknowledged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from kefu.app import App
from kefu.db.models import Case, OutboxMessage
from kefu.passes import PassResult
from kefu.testing.mail import build_mail, deliver_to_maildir


def test_mail_repair_report_opens_a_leak_repair_for_the_owners_home_and_is_acked(
    mail_app: tuple[App, Path], run_pass: Callable[[App], PassResult]
) -> None:
    app, maildir = mail_app
    deliver_to_maildir(
        maildir,
        build_mail(
            sender="zhang@example.com", subject="卫生间漏水", text="3栋1201卫生间漏水，楼下也渗水了", charset="gb2312"
        ),
    )
    deliver_to_maildir(maildir, build_mail(sender="zhang@example.com", subject="投诉", text="我要投诉物业态度太差"))
    run_pass(app)
    with app.sessions() as s:
        cases = {c.kind: c for c in s.scalars(select(Case))}
        repair = cases["complaints.repair.plumbing_leak"]
        assert repair.unit == "JY" and repair.data["home"] == "JY-3-1201" and repair.owner == "eng"
        assert "complaints.complaint" in cases
        acks = list(
            s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.case_id == repair.id, OutboxMessage.template == "complaints/repair_ack.txt"
                )
            )
        )
    assert {a.channel for a in acks} == {"sms", "email"}
    assert all(repair.number in a.body for a in acks)
