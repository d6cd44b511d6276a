"""queue_many: the campaigns' bulk path queues the same rows as queue_message, each key once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

import kefu.outbound.bulk as bulk
from kefu.db.engine import transaction
from kefu.db.models import Case, Customer
from kefu.outbound.bulk import OutboxItem, queue_many
from kefu.outbound.outbox import queue_message
from kefu.testing.outbox import add_customer, open_example_case, outbox_rows, queue

PHONE = "+8613812345678"
FEE = {"item": "采暖费", "amount": 2345.5, "due": "2026-11-30"}
COMPARED = (
    "plugin",
    "case_id",
    "customer_id",
    "channel",
    "audience",
    "recipient",
    "recipient_name",
    "template",
    "subject",
    "body",
    "urgent",
    "marketing",
    "state",
    "not_before",
    "attempts",
    "last_error",
    "data",
)


def bulk_queue(app, items: list[Any], case_number: str | None = None, customer_id: int | None = None) -> list[str]:
    with transaction(app.sessions) as session:
        ctx = app.context("example", session)
        case = session.scalars(select(Case).where(Case.number == case_number)).one() if case_number else None
        customer = session.get(Customer, customer_id) if customer_id else None
        ready = [
            OutboxItem(**{**item, "case": case, "customer": customer}) if isinstance(item, dict) else item
            for item in items
        ]
        return queue_many(ctx, ready)


def shape(row) -> dict[str, Any]:
    return {name: getattr(row, name) for name in COMPARED}


CASES = [
    {"channel": "sms", "recipient": PHONE, "template": "example/fee.sms.txt", "context": FEE},
    {
        "channel": "email",
        "recipient": "h1@example.com",
        "template": "example/notice.txt",
        "context": {"text": "停水"},
        "recipient_name": "张三",
    },
    {"channel": "email", "recipient": "h1@example.com", "template": "example/broken.txt"},
    {"channel": "sms", "recipient": PHONE, "template": "example/promo.sms.txt", "urgent": True},
    {
        "channel": "letter",
        "recipient": "李四",
        "template": "example/repair_notice.html",
        "context": {"due": "2026-11-30", "work": "外墙修补"},
        "address": "幸福小区3号楼",
        "audience": "staff",
    },
]


@pytest.mark.parametrize("night", [False, True], ids=["day", "quiet-hours"])
def test_bulk_rows_equal_queue_message_rows(outbound_app, clock, night) -> None:
    app = outbound_app()
    if night:
        clock.set("2026-11-02T22:30:00+08:00")
    cid = add_customer(app, name="王五", phone=PHONE)
    number = open_example_case(app, cid)
    for i, item in enumerate(CASES):
        queue(app, number, cid, key=f"one/{i}", **item)
    keys = bulk_queue(app, [{**item, "key": f"many/{i}"} for i, item in enumerate(CASES)], number, cid)
    assert keys == [f"many/{i}" for i in range(len(CASES))]
    rows = {r.idem_key: r for r in outbox_rows(app)}
    for i in range(len(CASES)):
        assert shape(rows[f"many/{i}"]) == shape(rows[f"one/{i}"]), CASES[i]
    assert rows["many/2"].state == "failed" and "no_such_variable" in rows["many/2"].last_error
    assert rows["many/1"].subject.startswith(f"[{number}] ") and rows["many/1"].message_id
    assert rows["many/1"].message_id != rows["one/1"].message_id
    assert (rows["many/0"].data.get("held") == "quiet hours") is night


def test_existing_pending_and_repeated_keys_are_skipped_without_rendering(outbound_app, monkeypatch) -> None:
    app = outbound_app()
    queue(app, key="k/0", channel="sms", recipient=PHONE, template="example/fee.sms.txt", context=FEE)
    items = [
        {
            "key": f"k/{i % 4}",
            "channel": "sms",
            "recipient": PHONE,
            "template": "example/fee.sms.txt",
            "context": {**FEE, "amount": i},
        }
        for i in range(8)
    ]
    with transaction(app.sessions) as session:
        ctx = app.context("example", session)
        # queued one at a time earlier in the same transaction, not flushed yet
        queue_message(ctx, key="k/1", channel="sms", recipient=PHONE, template="example/fee.sms.txt", context=FEE)
        assert queue_many(ctx, items) == ["k/2", "k/3"]
    rows = {r.idem_key: r for r in outbox_rows(app)}
    assert sorted(rows) == ["k/0", "k/1", "k/2", "k/3"]
    assert "¥2.00" in rows["k/2"].body  # the first of the repeated keys won
    rendered: list[str] = []
    monkeypatch.setattr(bulk, "_values", lambda *a: rendered.append(a[-1].key))
    assert bulk_queue(app, [OutboxItem(**i) for i in items]) == []  # a re-run: nothing new, nothing rendered
    assert rendered == []


def test_a_key_inserted_by_a_concurrent_writer_wins(outbound_app, monkeypatch) -> None:
    app = outbound_app()
    queue(app, key="race", channel="sms", recipient=PHONE, template="example/fee.sms.txt", context=FEE)
    # As if the other writer committed between our lookup and our INSERT: ON CONFLICT DO NOTHING.
    monkeypatch.setattr(bulk, "_drop_existing", lambda session, items: items)
    keys = bulk_queue(
        app,
        [
            {
                "key": k,
                "channel": "sms",
                "recipient": "+8613900000000",
                "template": "example/notice.txt",
                "context": {"text": "x"},
            }
            for k in ("race", "new")
        ],
    )
    assert keys == ["new"]
    rows = {r.idem_key: r for r in outbox_rows(app)}
    assert rows["race"].recipient == PHONE and len(rows) == 2


def test_no_ack_case_gets_no_acknowledgement_in_bulk_either(outbound_app) -> None:
    app = outbound_app()
    number = open_example_case(app, data={"no_ack": True, "no_ack_reason": "auto-reply"})
    keys = bulk_queue(
        app,
        [
            {"key": "ack", "channel": "email", "recipient": "x@example.com", "template": "example/ack.txt"},
            {
                "key": "notice",
                "channel": "email",
                "recipient": "x@example.com",
                "template": "example/notice.txt",
                "context": {"text": "停水"},
            },
        ],
        number,
    )
    assert keys == ["notice"]


def test_many_rows_span_chunks_and_mappings_are_accepted(outbound_app) -> None:
    app = outbound_app()
    n = bulk.CHUNK * 2 + 7
    with transaction(app.sessions) as session:
        keys = queue_many(
            app.context("example", session),
            (
                {
                    "key": f"c/{i}",
                    "channel": "sms",
                    "recipient": f"+86138{i:08d}",
                    "template": "example/fee.sms.txt",
                    "context": FEE,
                    "recipient_name": f"住户{i}",
                }
                for i in range(n)
            ),
        )
    assert keys == [f"c/{i}" for i in range(n)]
    rows = outbox_rows(app)
    assert len(rows) == n and rows[-1].body.startswith("【") and f"住户{n - 1}" in rows[-1].body


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"channel": "fax"}, "unknown channel 'fax'"),
        ({"audience": "everyone"}, "unknown audience"),
        ({"colour": "red"}, "unknown field(s) colour"),
    ],
)
def test_bad_items_are_refused_and_nothing_is_kept(outbound_app, bad, words) -> None:
    app = outbound_app()
    good = {"key": "g", "channel": "sms", "recipient": PHONE, "template": "example/fee.sms.txt", "context": FEE}
    with pytest.raises(ValueError, match=re.escape(words)), transaction(app.sessions) as session:
        queue_many(app.context("example", session), [good, {**good, "key": "b", **bad}])
    assert outbox_rows(app) == []
