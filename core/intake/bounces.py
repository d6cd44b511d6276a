"""A bounce: the failed address marked, the bounce recorded on its case, the case's owner told.

Deliverability is a property of an address, not of a person: a customer whose old
contact address bounces still gets mail at the others, and texts. The failed address
is added to the customer's ``data["undeliverable_emails"]``; ``email_undeliverable``
(what the senders check) is set only when it is the customer's main address.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from kefu.app import App
from kefu.db.models import Case, Customer, InboundItem
from kefu.intake.lookup import BatchLookup
from kefu.intake.message import InboundMessage
from kefu.intake.threader import FINISHED_STATES, find_thread
from kefu.intake.understand import Understood, inbox_settings
from kefu.secrets import mask
from kefu.sla.cases import record_event

log = logging.getLogger("kefu.intake")
TEMPLATE = "core/email_bounced.txt"
SMS_TEMPLATE = "core/email_bounced.sms.txt"


def mark_undeliverable(customer: Customer, address: str, diagnostic: str) -> None:
    """Record that mail to ``address`` of ``customer`` bounced (only that address)."""
    address = address.strip().lower()
    data = dict(customer.data or {})
    bad = list(data.get("undeliverable_emails") or [])
    if address not in bad:
        bad.append(address)
    data.update(undeliverable_emails=bad, email_bounced=address, email_bounce_diagnostic=diagnostic)
    customer.data = data
    if (customer.email or "").strip().lower() == address:
        customer.email_undeliverable = True


def record_bounce(
    app: App, session: Any, item: InboundItem, understood: Understood, secret: str | None, lookup: BatchLookup
) -> tuple[list[Case], int]:
    """Mark each failed address, record the bounce on the cases of the bounced message (or the
    customers' live cases) and tell their owners; (the cases, how many addresses were marked)."""
    bounce = understood.bounce
    assert bounce is not None
    msg = understood.message
    customers: list[Customer] = []
    marked = 0
    for address in bounce.recipients:
        found = lookup.customers_by_email(address)
        marked += bool(found)
        for customer in found:
            mark_undeliverable(customer, address, bounce.diagnostic)
            customers.append(customer)
    cases: list[Case] = []
    for mid in bounce.original_ids:
        thread = find_thread(session, _refs_only(msg, mid), secret, lookup)
        if thread is not None and thread.case not in cases:
            cases.append(thread.case)
    if not cases:
        # No reference to the bounced message: the customers' live cases.
        for customer in customers:
            case = session.scalars(
                select(Case)
                .where(Case.customer_id == customer.id, Case.state.not_in(FINISHED_STATES))
                .order_by(Case.updated_at.desc())
                .limit(1)
            ).first()
            if case is not None and case not in cases:
                cases.append(case)
    masked = ", ".join(mask(a) for a in bounce.recipients) or "unknown recipient"
    for case in cases:
        record_event(
            app.context(case.plugin, session),
            case,
            "email_bounced",
            actor="system",
            reason=f"mail to {masked} bounced: {bounce.diagnostic or msg.subject}"[:1000],
            data={"item_id": item.id, "recipients": bounce.recipients},
        )
        tell_owner(app, session, case, item, masked, bounce.diagnostic or msg.subject)
    return cases, marked


def tell_owner(app: App, session: Any, case: Case, item: InboundItem, recipients: str, diagnostic: str) -> list[str]:
    """Queue a staff message about the bounce to the case's owner (else the inbox's
    ``alarm_staff``); the staff keys told."""
    from kefu.outbound.outbox import queue_message
    from kefu.sla.recipients import UnknownRecipient, resolve

    staff, now = app.settings.staff, app.clock.now()
    if case.owner:
        targets = [case.owner]
    else:
        cfg = inbox_settings(app.settings.channels, item.channel)
        targets = list(getattr(cfg, "alarm_staff", None) or app.settings.channels.alarm_staff)
    keys: list[str] = []
    for target in targets:
        try:
            keys += [
                k
                for k in resolve(staff, target, now, app.settings.tz, unit=case.unit, session=session)
                if k not in keys
            ]
        except UnknownRecipient as exc:
            log.error("case %s: cannot tell %r about a bounce: %s", case.number, target, exc)
    if not keys:
        log.warning(
            "case %s: mail to %s bounced and the case has no owner to tell (set the owner, or [channels] alarm_staff)",
            case.number,
            recipients,
        )
        return []
    context = {
        "case_number": case.number,
        "case_title": case.title,
        "recipients": recipients,
        "diagnostic": diagnostic[:500],
        "site_name": app.settings.kefu.site_name,
    }
    ctx = app.context(case.plugin, session)
    told = []
    for key in keys:
        person = staff.people.get(key)
        if person is None:
            continue
        channel = "email" if person.email else "sms" if person.phone else None
        if channel is None:
            log.error("case %s: staff %r has no email or phone to be told of a bounce", case.number, key)
            continue
        queue_message(
            ctx,
            key=f"{case.number}/bounce/{item.id}/{key}/{channel}",
            channel=channel,
            audience="staff",
            recipient=(person.email if channel == "email" else person.phone) or "",
            recipient_name=person.name,
            template=TEMPLATE if channel == "email" else SMS_TEMPLATE,
            context=context,
            case=case,
        )
        told.append(key)
    return told


def _refs_only(msg: InboundMessage, mid: str) -> InboundMessage:
    return InboundMessage(
        item_id=msg.item_id,
        channel=msg.channel,
        kind="bounce",
        received_at=msg.received_at,
        sender=None,
        subject="",
        text="",
        in_reply_to=[mid],
    )
