"""Issue 14 items 2-4 through a real Dovecot: noise, a provider's bounce and undecodable text,
read over IMAP as the daemon reads them, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from kefu.app import App
from kefu.db.engine import transaction
from kefu.db.models import Case, CaseEvent, Customer, InboundItem, InboundRaw, OutboxMessage
from kefu.intake.runner import run_intake
from kefu.testing.bounces import netease
from kefu.testing.dovecot import Dovecot
from kefu.testing.mail import build_mail


def test_noise_bounce_and_undecodable_mail_over_imap(imap_app: Callable[..., App], dovecot: Dovecot) -> None:
    app = imap_app(default_kind="heat.general")
    dovecot.append(build_mail(text="暖气漏水", sender="zhang@example.com", message_id="<first@client>"))
    assert run_intake(app) == 1
    with transaction(app.sessions) as session:
        case = session.scalars(select(Case)).one()
        first_mid = case.number
    broken = (
        b"From: li@example.com\r\nSubject: x\r\nMessage-ID: <b64@client>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"5pqW5rCU!!!\r\n@@@\r\n5\r\n"
    )
    dovecot.append(
        build_mail(
            sender="news@list.example.com",
            subject="暖气漏水周报",
            headers={"List-Id": "<news.example.com>"},
            message_id="<news@list>",
        ),
        netease("zhang@example.com", "<first@client>"),
        broken,
    )
    run_intake(app)
    with transaction(app.sessions) as session:
        items = {i.message_id: i for i in session.scalars(select(InboundItem))}
        assert items["<news@list>"].status == "noise"
        assert items["<b64@client>"].status == "quarantined"
        assert "broken base64" in (items["<b64@client>"].reason or "")
        assert session.get(InboundRaw, items["<b64@client>"].id).raw.replace(b"\r\n", b"\n") == broken.replace(
            b"\r\n", b"\n"
        )
        assert [c.number for c in session.scalars(select(Case))] == [first_mid]  # nothing else opened
        customer = session.scalars(select(Customer)).one()
        assert customer.email_undeliverable and customer.data["undeliverable_emails"] == ["zhang@example.com"]
        assert [e.type for e in session.scalars(select(CaseEvent).where(CaseEvent.type == "email_bounced"))] == [
            "email_bounced"
        ]
        acks = [o.recipient for o in session.scalars(select(OutboxMessage)) if o.audience == "customer"]
        assert acks == ["zhang@example.com"]  # the first mail's; noise, bounce and quarantine none
