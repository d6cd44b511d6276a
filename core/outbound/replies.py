"""Staff replies to a case's customer, queued through the outbox like every message.

The console (and any other staff tool) calls :func:`reply_to_customer`: the reply is
rendered from a template (a canned one of :data:`REPLY_TEMPLATES`, or ``core/reply.txt``
around free text), queued with the case, so quiet hours, opt-outs, the signature and the
case number in the subject apply exactly as for any queued message, and recorded as a
``staff_reply`` event with the person's name.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from kefu.db.models import Attachment, CaseEvent, InboundItem, InboundRaw, OutboxMessage

if TYPE_CHECKING:
    from kefu.context import PluginContext
    from kefu.db.models import Case

# Canned replies (core templates, overridable in the site folder like any template).
REPLY_TEMPLATES: dict[str, str] = {
    "core/reply_received.txt": "已受理，正在处理",
    "core/reply_visit.txt": "已安排上门",
    "core/reply_done.txt": "已处理完毕",
}
FREE_TEXT = "core/reply.txt"
LETTER = "core/reply_letter.html"


class ReplyError(ValueError):
    """A reply that cannot be queued (no customer, no address for the channel); the message says why."""


def reply_to_customer(
    ctx: PluginContext,
    case: Case,
    *,
    channel: str,
    actor: str,
    template: str | None = None,
    text: str = "",
    once: str | None = None,
) -> OutboxMessage | None:
    """Queue a reply to ``case``'s customer on ``channel`` (email or sms) and record it on the case.

    ``template`` is one of :data:`REPLY_TEMPLATES` (``text`` then adds a line), else the
    free ``text`` goes in ``core/reply.txt``. The case moves out of triage (``new`` →
    ``in_progress``), which meets its first-response deadline as an answer should.
    ``once`` is the token of the form the reply was sent from: the same form posted
    again (a double click, a resent page) queues and records nothing and returns None.
    """
    if template is not None and template not in REPLY_TEMPLATES:
        raise ReplyError(f"unknown reply template {template!r}; known: {', '.join(REPLY_TEMPLATES)}")
    if template is None and not text.strip():
        raise ReplyError("a free-text reply needs its text")
    customer = ctx.customer_of(case)
    if customer is None:
        raise ReplyError(f"case {case.number} has no customer to reply to")
    recipient = customer.email if channel == "email" else customer.phone if channel == "sms" else None
    if not recipient:
        raise ReplyError(
            f"case {case.number}: the customer has no {'e-mail address' if channel == 'email' else 'phone'}"
        )
    person = ctx.person(actor)
    row = ctx.queue(
        key=f"{case.number}/staff_reply/{once or _next(ctx, case, 'staff_reply')}/{channel}",
        channel=channel,
        recipient=recipient,
        recipient_name=customer.name or None,
        template=template or FREE_TEXT,
        context={"reply_text": text.strip(), "staff_name": person.name if person is not None else actor},
        case=case,
        customer=customer,
        auto=False,
    )
    if row is None and once:
        return None
    to_state = "in_progress" if case.state in ("new", "acknowledged", "assigned") else None
    ctx.record_event(
        case,
        "staff_reply",
        actor=actor,
        reason=(text.strip() or REPLY_TEMPLATES.get(template or "", ""))[:1000],
        to_state=to_state,
        data={"channel": channel, "template": template or FREE_TEXT, "outbox_key": row.idem_key if row else None},
    )
    return row


def _next(ctx: PluginContext, case: Case, event: str) -> int:
    """The number of the case's next ``event`` (a reply or letter sent without a form's token)."""
    count = ctx.db().scalar(select(func.count()).where(CaseEvent.case_id == case.id, CaseEvent.type == event))
    return (count or 0) + 1


def letter_to_customer(
    ctx: PluginContext, case: Case, *, text: str, actor: str, once: str | None = None
) -> OutboxMessage | None:
    """Queue a written answer (书面答复, ``core/reply_letter.html``) to print and post to the customer.

    The dispatcher renders it to PDF and archives it with the case (a ``letter_archived``
    event), where the console previews it and records its EMS number once posted.
    ``once`` as for :func:`reply_to_customer`: a form posted twice prints one letter.
    """
    if not text.strip():
        raise ReplyError("a letter needs its text")
    customer = ctx.customer_of(case)
    if customer is None or not customer.address:
        raise ReplyError(f"case {case.number}: the customer has no postal address for a letter")
    row = ctx.queue(
        key=f"{case.number}/staff_letter/{once or _next(ctx, case, 'letter_queued')}/letter",
        channel="letter",
        recipient=customer.name or case.number,
        recipient_name=customer.name or None,
        template=LETTER,
        context={"reply_text": text.strip()},
        case=case,
        customer=customer,
        address=customer.address,
        auto=False,
    )
    if row is None and once:
        return None
    ctx.record_event(case, "letter_queued", actor=actor, reason=text.strip()[:1000], data={"template": LETTER})
    return row


def attach_evidence(
    ctx: PluginContext, case: Case, *, filename: str, content_type: str, content: bytes, actor: str, note: str = ""
) -> Attachment:
    """Keep a file staff brought (a photo from the site) with ``case``, stored raw first like any input.

    It becomes an inbound item of the ``console`` channel (status processed) with the file
    as its attachment, so evidence is never apart from what came in, and an
    ``evidence_added`` event names who added it.
    """
    session = ctx.db()
    now = ctx.now()
    item = InboundItem(
        channel="console",
        source_key=uuid.uuid4().hex,
        kind="upload",
        received_at=now,
        status="processed",
        case_id=case.id,
        sender=actor,
        subject=filename[:1000],
        text=note or None,
        processed_at=now,
        data={"by": actor},
    )
    session.add(item)
    session.flush()
    session.add(InboundRaw(item_id=item.id, raw=content))
    attachment = Attachment(
        item_id=item.id,
        case_id=case.id,
        filename=filename[:500] or "evidence",
        content_type=content_type[:200] or "application/octet-stream",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    session.add(attachment)
    session.flush()
    ctx.record_event(
        case, "evidence_added", actor=actor, reason=note or filename, data={"attachment_id": attachment.id}
    )
    return attachment
