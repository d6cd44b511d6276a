"""Processing stored items: understand, thread or classify, then open or update the case.

Items are taken in batches, one transaction per batch: every item of the batch is
parsed first, then the customers and threads it refers to are read in a few
queries (:class:`~kefu.intake.lookup.BatchLookup`), then each item is threaded or
classified and its case opened. An item that cannot be parsed is quarantined with
the reason; if processing any item fails, the batch is redone with each item in
its own savepoint, so the failing one is quarantined and the others go through. On PostgreSQL the batch is
claimed with ``FOR UPDATE SKIP LOCKED`` so several daemons share the work.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import bindparam, insert, inspect, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import instance_dict, set_committed_value

from kefu.app import App
from kefu.channels.threading_ids import site_secret
from kefu.collector import collector_paused
from kefu.db.base import table_of
from kefu.db.engine import is_postgres, transaction
from kefu.db.many_rows import ManyRows
from kefu.db.models import Attachment, Case, Customer, InboundItem
from kefu.intake.customers import customers_by_email, customers_by_phone, find_or_create_customer
from kefu.intake.lookup import BatchLookup
from kefu.intake.mailparse import ParseError
from kefu.intake.message import Classification, InboundMessage
from kefu.intake.threader import CASE_NUMBER, FINISHED_STATES, find_thread
from kefu.intake.understand import Understood, inbox_settings, understand
from kefu.intake.worker import ReadAhead
from kefu.secrets import mask
from kefu.sla.cases import NewCase, open_case, open_cases, record_event

log = logging.getLogger("kefu.intake")


def process_pending(app: App, *, limit: int | None = None, ids: list[int] | None = None,
                    ahead: ReadAhead | None = None) -> int:
    """Process pending items batch by batch until none are left (or ``limit``); return the count.

    With ``ids`` only those items are processed (a webhook answering with the case
    it just opened). ``ahead`` holds mail the intake worker has read already.
    """
    secret = site_secret(app.settings)
    batch = app.settings.channels.process_batch
    done = 0
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        with collector_paused():
            count = _process_batch(app, size, ids, secret, ahead)
        done += count
        if count < size:
            break
    return done


def _claim(app: App, session: Any, size: int, ids: list[int] | None, *, raw: bool = True) -> list[InboundItem]:
    query = select(InboundItem).where(InboundItem.status == "pending").order_by(InboundItem.id).limit(size)
    # Mail the worker has read needs no raw bytes here (an item without a reading loads its own).
    if raw:
        query = query.options(selectinload(InboundItem.raw_row))
    if ids is not None:
        query = query.where(InboundItem.id.in_(ids))
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def _process_batch(app: App, size: int, ids: list[int] | None, secret: str | None,
                   ahead: ReadAhead | None = None) -> int:
    """One batch in one transaction. The fast way first (no savepoint per item); if any
    item fails, the batch is rolled back and redone with each item in its own savepoint,
    so the failing one is quarantined and the others go through."""
    try:
        with transaction(app.sessions) as session:
            items = _claim(app, session, size, ids, raw=not ahead)
            item_ids = [item.id for item in items]  # read once: each read goes through the ORM
            parsed: dict[int, Understood] = {}
            for item, item_id in zip(items, item_ids, strict=True):
                try:
                    reading = ahead.take(item.channel, item.source_key) if ahead else None
                    parsed[item_id] = understand(item, app.settings.channels, reading)
                except ParseError as exc:  # nothing of the item was written yet
                    _quarantine(app, item, f"cannot parse: {exc}")
            lookup = BatchLookup(session)
            lookup.prefetch(u.message for u in parsed.values())
            claims = _create_new_senders(app, session, items, parsed, lookup)
            writes = BatchWrites()
            # Plain new mail (asked about beforehand) threads onto nothing and only opens a
            # case: such items are gathered and opened together, in order. Any other item
            # may refer to them, so the gathered ones are opened before it is looked at.
            gathered: list[tuple[InboundItem, Understood, Classification | None]] = []
            for item, item_id in zip(items, item_ids, strict=True):
                understood = parsed.get(item_id)
                if understood is None:
                    continue
                claim = claims.get(item_id, _UNASKED)
                if claim is not _UNASKED:
                    gathered.append((item, understood, claim))
                    continue
                _open_gathered(app, session, gathered, lookup, writes)
                _process(app, session, item, secret, understood, lookup, _UNASKED, writes)
            _open_gathered(app, session, gathered, lookup, writes)
            _write_items(session, items, writes)
            return len(items)
    except Exception:
        log.warning("an inbound batch failed; redoing it item by item to isolate the failure",
                    exc_info=True)
    with transaction(app.sessions) as session:
        items = _claim(app, session, size, ids)
        for item in items:
            process_item(app, session, item, secret)
        return len(items)


def process_item(app: App, session: Any, item: InboundItem, secret: str | None) -> None:
    """Process one item in a savepoint; any failure quarantines it with the reason."""
    try:
        with session.begin_nested():
            _process(app, session, item, secret)
    except ParseError as exc:
        _quarantine(app, item, f"cannot parse: {exc}")
    except Exception as exc:
        log.exception("inbound item %s (%s) failed; quarantined", item.id, item.channel)
        _quarantine(app, item, f"processing failed: {type(exc).__name__}: {exc}")


def _quarantine(app: App, item: InboundItem, reason: str) -> None:
    item.status, item.reason, item.processed_at = "quarantined", reason[:2000], app.clock.now()
    log.warning("inbound item %s from %s quarantined: %s", item.id, item.channel, reason)


@dataclass
class BatchWrites:
    """What a batch found out, written at its end with one statement per table: each item's
    own columns by item id, and the attachments of its mail (nothing in the batch reads them)."""

    items: dict[int, dict[str, Any]] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)


_UNASKED: Any = object()  # the batch did not ask the plugins about this item beforehand


def _process(app: App, session: Any, item: InboundItem, secret: str | None,
             understood: Understood | None = None, lookup: BatchLookup | None = None,
             claimed: Classification | None = _UNASKED, writes: BatchWrites | None = None) -> None:
    """Thread, classify and open; the item's own columns go to ``writes`` when given (written
    by the batch in one statement), else onto the ORM object."""
    if understood is None:
        understood = understand(item, app.settings.channels)
    msg = understood.message
    _record_parsed(app, item, msg, writes)
    if msg.kind == "sms" and _consent_word(app, session, msg, item, lookup, writes):
        return
    if understood.bounce is not None:
        _bounce(app, session, item, understood, lookup, writes)
        return
    thread = find_thread(session, msg, secret, lookup)
    if thread is not None:
        case = thread.case
        record_event(
            app.context(case.plugin, session), case,
            "auto_reply" if msg.noise else "customer_reply",
            actor="customer", reason=f"{msg.kind} threaded by {thread.how}",
            data={"item_id": item.id, "channel": item.channel, **_no_ack(msg)},
        )
        _finish(session, item, understood, case, "processed", f"threaded onto {case.number} by {thread.how}",
                lookup, writes)
        return
    claim = _claim_or_default(app, session, item, understood,
                              classify(app, msg, session, lookup) if claimed is _UNASKED else claimed, writes)
    if claim is None:
        return
    new = _new_case(app, session, item, msg, claim, lookup)
    case = open_case(app.context(claim.kind.split(".", 1)[0], session), **vars(new))
    _finish(session, item, understood, case, "processed", f"opened {case.number}", lookup, writes)


def _record_parsed(app: App, item: InboundItem, msg: InboundMessage,
                   writes: BatchWrites | None) -> None:
    """Keep what parsing found on the item (sender, subject, text, noise)."""
    _set(item, writes, sender=(msg.sender or "")[:320] or None, subject=msg.subject[:1000],
         text=msg.text, processed_at=app.clock.now())
    if msg.noise:
        _set(item, writes, data={**item.data, "noise": msg.noise, "noise_reason": msg.noise_reason})


def _claim_or_default(app: App, session: Any, item: InboundItem, understood: Understood, claim: Classification | None,
                      writes: BatchWrites | None) -> Classification | None:
    """The plugin's claim, else the inbox's default kind; None (item finished as unclaimed) if neither."""
    if claim is not None:
        return claim
    kind = understood.message.default_kind
    if not kind:
        _finish(session, item, understood, None, "unclaimed",
                "no plugin claimed it and the inbox has no default_kind", writes=writes)
        return None
    if kind not in app.kinds:
        _finish(session, item, understood, None, "unclaimed",
                f"default_kind {kind!r} of {item.channel} is not a registered case kind", writes=writes)
        return None
    return Classification(kind=kind)


def _open_gathered(app: App, session: Any, gathered: list[tuple[InboundItem, Understood, Classification | None]],
                   lookup: BatchLookup, writes: BatchWrites) -> None:
    """Open the cases of the gathered plain new mail together (see :func:`open_cases`), then empty the list."""
    opening: list[tuple[InboundItem, Understood]] = []
    new: list[NewCase] = []
    for item, understood, asked in gathered:
        msg = understood.message
        _record_parsed(app, item, msg, writes)
        claim = _claim_or_default(app, session, item, understood, asked, writes)
        if claim is not None:
            new.append(_new_case(app, session, item, msg, claim, lookup))
            opening.append((item, understood))
    gathered.clear()
    if not new:
        return
    cases = open_cases(app.context("kefu", session), new)
    for (item, understood), case in zip(opening, cases, strict=True):
        _finish(session, item, understood, case, "processed", f"opened {case.number}", lookup, writes)


def classify(app: App, msg: InboundMessage, session: Any = None,
             lookup: BatchLookup | None = None) -> Classification | None:
    """The best claim on ``msg`` of the plugins its inbox serves (see
    :meth:`kefu.plugin_calls.PluginCalls.classify`).

    The inbox's ``plugins`` (default: every enabled plugin) are asked, the plugin of the
    inbox's ``default_kind`` first so that a tie goes to it, then in ``[plugins] enabled``
    order. Before they are asked the item learns whose known customer its sender is
    (``customer_of``, from ``lookup`` or ``session``), so the hook stays pure.
    """
    cfg = inbox_settings(app.settings.channels, msg.channel)
    default = msg.default_kind.split(".", 1)[0] if msg.default_kind else None
    if session is not None:
        msg = replace(msg, customer_of=_customer_of(session, msg, lookup))
    return app.calls.classify(msg, app.context, app.kinds, ask=_asked(app, getattr(cfg, "plugins", None), default))


def _asked(app: App, plugins: list[str] | None, tie_default_plugin: str | None) -> list[str] | None:
    """Who is asked, in order: ``plugins`` (None: every enabled one) in enabled order, with
    ``tie_default_plugin`` first (a tie goes to the plugin asked first); None for all, in order."""
    if plugins is None and tie_default_plugin is None:
        return None
    names = [name for name in app.host.enabled if plugins is None or name in plugins]
    if tie_default_plugin in names:
        names.remove(tie_default_plugin)
        names.insert(0, tie_default_plugin)
    return names


def _customer_of(session: Any, msg: InboundMessage, lookup: BatchLookup | None) -> tuple[str, ...]:
    """The plugins whose known customer (one with a reference: imported) sent ``msg``."""
    found: list[Customer] = []
    if msg.kind == "email" and msg.sender:
        found += lookup.customers_by_email(msg.sender) if lookup else customers_by_email(session, msg.sender)
    if msg.phone:
        found += lookup.customers_by_phone(msg.phone) if lookup else customers_by_phone(session, msg.phone)
    return tuple(dict.fromkeys(c.plugin for c in found if c.plugin and c.ref))


def _no_ack(msg: InboundMessage) -> dict[str, Any]:
    if not msg.noise:
        return {}
    return {"no_ack": True, "no_ack_reason": f"{msg.noise}: {msg.noise_reason}"}


def _new_case(app: App, session: Any, item: InboundItem, msg: InboundMessage, claim: Classification,
              lookup: BatchLookup | None) -> NewCase:
    """The case ``msg`` opens under ``claim``, its customer found or created."""
    plugin = claim.kind.split(".", 1)[0]
    customer = find_or_create_customer(
        session, plugin=plugin, now=app.clock.now(), ref=claim.customer_ref or msg.account,
        email=msg.sender if msg.kind == "email" else None, phone=msg.phone,
        name=msg.sender_name, address=msg.address, lookup=lookup,
    )
    # reply_to: where the owner plugin sends its acknowledgement (unless no_ack says not to).
    data: dict[str, Any] = {"item_id": item.id, "channel": item.channel, "source": msg.kind,
                            "reply_to": msg.sender, **_no_ack(msg)}
    for key in ("category", "address", "account"):
        if getattr(msg, key):
            data[key] = getattr(msg, key)
    title = claim.title or msg.subject or msg.text[:60] or ""
    return NewCase(kind=claim.kind, title=title[:500], customer=customer, unit=claim.unit,
                   urgent=claim.urgent or None, data=data, actor="customer", reason=f"{msg.kind} via {item.channel}",
                   opened_at=msg.occurred_at)


def _set(item: InboundItem, writes: BatchWrites | None, **values: Any) -> None:
    if writes is None:
        for key, value in values.items():
            setattr(item, key, value)
    else:
        # Not a dirty object, which every flush of the batch would write again: the row is
        # written once at the end of the batch, and the loaded object shows the values at
        # once to the owner's hooks, which read the item (a reply's text) through the session.
        writes.items.setdefault(item.id, {}).update(values)
        state = inspect(item)
        if state.modified or state.expired_attributes:
            for key, value in values.items():
                set_committed_value(item, key, value)
        else:
            # A loaded object the session holds no change of keeps its column values in its
            # __dict__ (instance_dict), where set_committed_value writes them too: one update
            # instead of that call's bookkeeping per value (7% of processing's time).
            instance_dict(item).update(values)


_ITEM_COLUMNS = ("sender", "subject", "text", "processed_at", "data", "status", "reason", "case_id")
_WRITE_ITEM = ManyRows(
    update(table_of(InboundItem)).where(table_of(InboundItem).c.id == bindparam("item_id"))
    .values({name: bindparam(name) for name in _ITEM_COLUMNS}),
    ("item_id", *_ITEM_COLUMNS),
)
_ATTACHMENT_COLUMNS = ("item_id", "case_id", "filename", "content_type", "size", "sha256", "content")
_INSERT_ATTACHMENTS = ManyRows(insert(table_of(Attachment)), _ATTACHMENT_COLUMNS)


def _write_items(session: Any, items: list[InboundItem], writes: BatchWrites) -> None:
    """Write what the batch found out about its items in one executemany UPDATE, and their
    attachments in one executemany INSERT."""
    rows = []
    for item in items:
        values = writes.items.get(item.id)
        if values is not None:
            # Every column the batch did not set (an item's data without noise) as loaded.
            rows.append({"item_id": item.id, **{name: getattr(item, name) for name in _ITEM_COLUMNS
                                                 if name not in values}, **values})
    connection = session.connection()
    _WRITE_ITEM.execute(connection, rows)
    _INSERT_ATTACHMENTS.execute(connection, writes.attachments)


def _create_new_senders(app: App, session: Any, items: list[InboundItem], parsed: dict[int, Understood],
                        lookup: BatchLookup) -> dict[int, Classification | None]:
    """Ask the plugins about the batch's plain new mail at once and insert, in one statement,
    the customers it would create one by one (each with a flush of its own).

    Only mail that cannot thread (no references, no case number) and names no customer
    reference is asked about; a sender who also appears in any other item of the batch (a
    reply, a bounce, a referenced customer) is left to the ordinary path, so every customer
    is created exactly as processing the items in order would. Returns the answers asked.
    """
    claims: dict[int, Classification | None] = {}
    tainted: set[str] = set()
    new: dict[str, dict[str, Any]] = {}
    now = app.clock.now()
    for item in items:
        understood = parsed.get(item.id)
        if understood is None:
            continue
        msg = understood.message
        key = (msg.sender or "").strip().lower() if msg.kind == "email" else ""
        if understood.bounce is not None:
            tainted.update(a.strip().lower() for a in understood.bounce.recipients)
        plain = (msg.kind == "email" and key and not msg.in_reply_to and understood.bounce is None
                 and not msg.phone and not msg.account
                 and not CASE_NUMBER.search(f"{msg.subject}\n{msg.text}"))
        if not plain:
            tainted.add(key)
            continue
        claim = claims[item.id] = classify(app, msg, session, lookup)
        kind = claim.kind if claim is not None else msg.default_kind
        if not kind or kind not in app.kinds:
            continue  # unclaimed: no customer
        if claim is not None and claim.customer_ref:
            tainted.add(key)
            continue
        if key not in new and not lookup.customers_by_email(key):
            new[key] = {"plugin": kind.split(".", 1)[0], "ref": None, "name": msg.sender_name,
                        "email": key, "phone": None, "address": msg.address, "created_at": now, "data": {}}
    rows = [row for key, row in new.items() if key not in tainted]
    if rows:
        for customer in session.scalars(insert(Customer).returning(Customer), rows):
            lookup.added_customer(customer)
    return claims


def _finish(session: Any, item: InboundItem, understood: Understood, case: Case | None,
            status: str, reason: str, lookup: BatchLookup | None = None,
            writes: BatchWrites | None = None) -> None:
    case_id = case.id if case is not None else None
    _set(item, writes, status=status, reason=reason, case_id=case_id)
    if lookup is not None:  # a later item of the batch may refer to this one
        lookup.added_message(item.message_id, case_id)
    for att in understood.attachments:
        row = {"item_id": item.id, "case_id": case_id, "filename": att.filename,
               "content_type": att.content_type, "size": len(att.content),
               "sha256": hashlib.sha256(att.content).hexdigest(), "content": att.content}
        if writes is None:
            session.add(Attachment(**row))
        else:
            writes.attachments.append(row)


def _consent_word(app: App, session: Any, msg: InboundMessage, item: InboundItem,
                  lookup: BatchLookup | None, writes: BatchWrites | None = None) -> bool:
    cfg = app.settings.channels.sms
    word = msg.text.strip().strip("。.!！").upper()
    opt_out = word in {w.upper() for w in cfg.opt_out_words}
    opt_in = word in {w.upper() for w in cfg.opt_in_words}
    if not (opt_out or opt_in) or not msg.phone:
        return False
    now = app.clock.now()
    customers = lookup.customers_by_phone(msg.phone) if lookup else customers_by_phone(session, msg.phone)
    if not customers:
        # Remember the refusal even for a number we do not know yet: the outbox checks it.
        customers = [find_or_create_customer(session, plugin="", now=now, phone=msg.phone, lookup=lookup)]
    for customer in customers:
        customer.sms_opt_out = opt_out
        customer.sms_opt_out_at = now if opt_out else None
    _set(item, writes, status="processed",
         reason=f"SMS {'opt-out' if opt_out else 'opt-in'} ({word}) for {len(customers)} customer(s)")
    log.info("SMS %s from %s", "opt-out" if opt_out else "opt-in", mask(msg.phone))
    return True


def _bounce(app: App, session: Any, item: InboundItem, understood: Understood,
            lookup: BatchLookup | None, writes: BatchWrites | None = None) -> None:
    bounce = understood.bounce
    assert bounce is not None
    customers: list[Customer] = []
    for address in bounce.recipients:
        for customer in lookup.customers_by_email(address) if lookup else customers_by_email(session, address):
            customer.email_undeliverable = True
            customer.data = {**customer.data, "email_bounced": address,
                             "email_bounce_diagnostic": bounce.diagnostic}
            customers.append(customer)
    cases: list[Case] = []
    msg = understood.message
    secret = site_secret(app.settings)
    for mid in bounce.original_ids:
        thread = find_thread(session, _refs_only(msg, mid), secret, lookup)
        if thread is not None and thread.case not in cases:
            cases.append(thread.case)
    if not cases:
        # No reference to the bounced message: tell the owners of the customers' live cases.
        for customer in customers:
            case = session.scalars(
                select(Case).where(Case.customer_id == customer.id, Case.state.not_in(FINISHED_STATES))
                .order_by(Case.updated_at.desc()).limit(1)
            ).first()
            if case is not None and case not in cases:
                cases.append(case)
    masked = ", ".join(mask(a) for a in bounce.recipients) or "unknown recipient"
    for case in cases:
        record_event(
            app.context(case.plugin, session), case, "email_bounced", actor="system",
            reason=f"mail to {masked} bounced: {bounce.diagnostic or msg.subject}"[:1000],
            data={"item_id": item.id, "recipients": bounce.recipients, "no_ack": True,
                  "no_ack_reason": f"bounce: {msg.noise_reason}"},
        )
    _finish(session, item, understood, cases[0] if cases else None, "processed",
            f"bounce for {masked}: {len(customers)} customer(s) marked undeliverable, "
            f"{len(cases)} case owner(s) told", lookup, writes)


def _refs_only(msg: InboundMessage, mid: str) -> InboundMessage:
    return InboundMessage(item_id=msg.item_id, channel=msg.channel, kind="bounce",
                          received_at=msg.received_at, sender=None, subject="", text="",
                          in_reply_to=[mid])
