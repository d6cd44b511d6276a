"""An outbox reader and small builders for tests of anything that queues notifications."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from kefu.app import App
from kefu.db.engine import transaction
from kefu.db.models import Case, CaseEvent, Customer, Letter, OutboxMessage

SAMPLE_TEMPLATES: dict[str, str] = {
    "example/ack.sms.txt": "{# kefu: ack #}您的报修已受理，编号{{ case_number }}，我们将尽快处理。",
    "example/ack.email.txt": (
        "{# kefu: ack #}\nSubject: 您的来信已受理\n\n{{ recipient_name }}您好：\n"
        "您的来信已受理，编号 {{ case_number }}。\n{{ site_name }}\n"
    ),
    "example/notice.txt": "Subject: 停水通知\n\n{{ recipient_name }}：{{ text }}\n",
    "example/promo.sms.txt": "{# kefu: marketing #}冬季供暖优惠活动开始了，详询客服。",
    "example/fee.sms.txt": (
        "{{ recipient_name }}您好，您的{{ item }}{{ amount | money }}将于{{ due | cn_date }}到期，请及时缴纳。"
    ),
    "example/broken.txt": "{{ no_such_variable }}",
    "example/repair_notice.html": (
        '{% extends "core/letter_base.html" %}{% block title %}工程维修通知单{% endblock %}'
        "{% block body %}<p>请于{{ due | cn_date }}前完成{{ work }}。</p>{% endblock %}"
    ),
}


def write_templates(folder: Path, templates: dict[str, str] | None = None) -> Path:
    """Write ``templates`` (name → source) under ``folder``; return the folder."""
    for name, source in (templates or SAMPLE_TEMPLATES).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return folder


def add_customer(app: App, **fields: Any) -> int:
    """Insert a customer (name, phone, email … ) and return its id."""
    with transaction(app.sessions) as session:
        customer = Customer(plugin=fields.pop("plugin", "example"), created_at=app.clock.now(), **fields)
        session.add(customer)
        session.flush()
        return customer.id


def open_example_case(app: App, customer_id: int | None = None, **case: Any) -> str:
    """Open an ``example.request`` case (for the customer) and return its number."""
    from kefu.sla.cases import open_case

    with transaction(app.sessions) as session:
        ctx = app.context("example", session)
        customer = session.get(Customer, customer_id) if customer_id else None
        return open_case(ctx, kind="example.request", customer=customer, **case).number


def queue(app: App, case_number: str | None = None, customer_id: int | None = None, **kwargs: Any) -> int | None:
    """``queue_message`` in its own transaction as the example plugin; the row id or None."""
    from kefu.outbound.outbox import queue_message

    with transaction(app.sessions) as session:
        ctx = app.context(kwargs.pop("plugin", "example"), session)
        case = session.scalars(select(Case).where(Case.number == case_number)).one() if case_number else None
        customer = session.get(Customer, customer_id) if customer_id else None
        row = queue_message(ctx, case=case, customer=customer, **kwargs)
        session.flush()
        return row.id if row is not None else None


def outbox_rows(app: App, **where: Any) -> list[OutboxMessage]:
    """Outbox rows in id order, filtered by column values (``state="sent"``)."""
    with app.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for column, value in where.items():
            query = query.where(getattr(OutboxMessage, column) == value)
        return list(session.scalars(query))


def case_events(app: App, case_number: str) -> list[CaseEvent]:
    """The history of a case."""
    with app.sessions() as session:
        case = session.scalars(select(Case).where(Case.number == case_number)).one()
        return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def customer(app: App, customer_id: int) -> Customer:
    """A customer as stored now."""
    with app.sessions() as session:
        found = session.get(Customer, customer_id)
        assert found is not None
        return found


def letters(app: App) -> list[Letter]:
    """Every archived letter."""
    with app.sessions() as session:
        return list(session.scalars(select(Letter).order_by(Letter.id)))
