"""A batch is read in a few queries, yet each item sees the ones before it exactly as a query would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from kefu.app import App
from kefu.context import PluginContext
from kefu.db.engine import transaction
from kefu.db.models import Case, Contact, Customer, InboundItem
from kefu.hookspecs import hookimpl
from kefu.intake.message import Classification, InboundMessage
from kefu.intake.runner import run_intake
from kefu.kinds import CaseKind
from kefu.testing.databases import recorded_statements
from kefu.testing.mail import build_mail
from kefu.testing.mail import deliver_to_maildir as deliver


class QuietPlugin:
    """Claims every mail; no hook on opening, so only intake's own statements are counted."""

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> list[CaseKind]:
        return [CaseKind(name="quiet.general", title="一般", prefix="QT")]

    @hookimpl
    def kefu_classify(self, item: InboundMessage, ctx: PluginContext) -> Classification | None:
        return Classification(kind="quiet.general")


def _all(app: App, model: type) -> list:
    with transaction(app.sessions) as session:
        return list(session.scalars(select(model).order_by(model.id)))


def test_items_of_one_batch_see_the_customers_and_messages_before_them(
    heat_app: Callable[..., App], maildir: Path
) -> None:
    app = heat_app()
    with transaction(app.sessions) as session:
        known = Customer(plugin="heat", ref="A-1", name="李", created_at=app.clock.now(), data={})
        session.add(known)
        session.flush()
        session.add(Contact(customer_id=known.id, kind="email", value="tenant@example.com"))
    deliver(maildir, build_mail(sender="new@example.com", text="暖气漏水", message_id="<first@x>"))
    deliver(maildir, build_mail(sender="new@example.com", text="还在漏水", in_reply_to="<first@x>"))
    deliver(maildir, build_mail(sender="NEW@example.com", text="另一处暖气不热"))
    deliver(maildir, build_mail(sender="tenant@example.com", text="暖气不热"))
    assert run_intake(app) == 4
    items = _all(app, InboundItem)
    cases = _all(app, Case)
    assert len(cases) == 3
    assert items[1].case_id == items[0].case_id and "threaded onto" in (items[1].reason or "")
    assert items[2].case_id not in (None, items[0].case_id)
    customers = _all(app, Customer)
    assert [c.email for c in customers] == [None, "new@example.com"]  # one new customer, reused
    by_id = {c.id: c for c in cases}
    assert by_id[items[0].case_id].customer_id == by_id[items[2].case_id].customer_id == customers[1].id
    assert by_id[items[3].case_id].customer_id == known.id  # found through the contact


def test_reads_per_batch_do_not_grow_with_the_batch(make_app: Callable[..., App], tmp_path: Path) -> None:
    counts = []
    opened = 0
    for n in (10, 40):
        maildir = tmp_path / f"m{n}"
        for sub in ("new", "cur", "tmp"):
            (maildir / sub).mkdir(parents=True)
        app = make_app(
            plugins=["quiet"],
            extra_plugins={"quiet": QuietPlugin()},
            config={"channels": {"maildir": {"service": {"path": str(maildir), "poll_interval": "0s"}}}},
        )
        for i in range(n):
            deliver(maildir, build_mail(sender=f"u{i}@example.com", text=f"问题 {i}", in_reply_to=f"<elsewhere{i}@x>"))
        with recorded_statements(app.engine) as seen:
            assert run_intake(app) == n
        opened += n
        assert len(_all(app, Case)) == opened  # both apps share the test's database
        counts.append(len(seen))
    # Every item is new, from a new sender, and refers to an unknown message: none of that
    # may cost a query per item (it did, and the cost per item grew with the batch).
    assert counts[1] == counts[0], counts


def test_new_senders_of_a_batch_are_created_once_each(heat_app: Callable[..., App], maildir: Path) -> None:
    app = heat_app(default_kind="heat.general")
    deliver(maildir, build_mail(sender="a@example.com", sender_name="甲", text="暖气漏水"))
    deliver(maildir, build_mail(sender="b@example.com", text="暖气不热"))
    deliver(maildir, build_mail(sender="A@example.com", text="又漏水了"))  # the same new sender
    deliver(maildir, build_mail(sender="c@example.com", text="你好"))  # the inbox's default_kind
    assert run_intake(app) == 4
    customers = {c.email: c for c in _all(app, Customer)}
    assert sorted(customers) == ["a@example.com", "b@example.com", "c@example.com"]
    assert customers["a@example.com"].name == "甲" and customers["a@example.com"].plugin == "heat"
    items = _all(app, InboundItem)
    cases = {c.id: c for c in _all(app, Case)}
    assert [i.status for i in items] == ["processed"] * 4
    assert [cases[i.case_id].customer_id for i in items] == [
        customers[e].id for e in ("a@example.com", "b@example.com", "a@example.com", "c@example.com")
    ]
    assert items[2].text == "又漏水了" and items[0].sender == "a@example.com"  # the rows were written
