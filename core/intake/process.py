"""Processing stored items: understand, thread or classify, then open or update the case.

Items are taken in batches, one transaction per batch (a batch of one is a batch):
the customers and threads the batch refers to are read in a few queries
(:class:`~kefu.intake.lookup.BatchLookup`), then the items are taken in order. New mail
that cannot thread (no reference, no case number) is classified and gathered; the
gathered cases are opened together (:func:`~kefu.sla.cases.open_cases`, their new
customers in one statement) before any item that could refer to them, and at the end.
Every other item is processed in a savepoint of its own. A failure is isolated the same
way on SQLite and PostgreSQL: a gathered group that fails is opened again a case at a
time, and the item that fails is quarantined with the reason while the others go
through. A failure of the database itself (a lock timeout, a deadlock, a lost
connection: ``OperationalError``) is no item's fault and quarantines nothing: the
batch fails whole, its items stay pending, and the next pass does them again. On
PostgreSQL the batch is claimed with ``FOR UPDATE SKIP LOCKED`` so several daemons
share the work.

What each item becomes:

* unreadable (not a mail, beyond ``[channels.limits]``, text that cannot be decoded):
  ``quarantined`` with the reason, no case, nothing acknowledged;
* a bounce: each failed address is marked undeliverable (that address, not the
  customer), the bounce is recorded on the case of the bounced message and its owner
  is told through the outbox;
* noise (auto-reply, list mail) that threads: a note on its case, which is not
  reopened, its clock untouched, nobody told; that does not thread: ``noise``, no case
  (``kefu inbound list --noise``), whatever the inbox's default kind;
* anything else threads onto its case or opens one (a plugin's claim, else the inbox's
  ``default_kind``), else waits as ``unclaimed``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from kefu.app import App
from kefu.channels.threading_ids import site_secret
from kefu.collector import collector_paused
from kefu.db.base import table_of
from kefu.db.engine import is_postgres, transaction
from kefu.db.models import Attachment, Case, Customer, InboundItem, InboundRaw
from kefu.intake.bounces import record_bounce
from kefu.intake.customers import find_or_create_customer
from kefu.intake.lookup import BatchLookup
from kefu.intake.mailparse import ParseError
from kefu.intake.message import Classification, InboundMessage
from kefu.intake.threader import CASE_NUMBER, find_thread
from kefu.intake.understand import Understood, inbox_settings, understand
from kefu.secrets import mask
from kefu.sla.cases import NewCase, open_cases, record_event

log = logging.getLogger("kefu.intake")


def process_pending(app: App, *, limit: int | None = None, ids: list[int] | None = None) -> int:
    """Process pending items batch by batch until none are left (or ``limit``); return the count.

    With ``ids`` only those items are processed (a webhook answering with the case
    it just opened).
    """
    secret = site_secret(app.settings)
    batch = app.settings.channels.process_batch
    done = 0
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        with collector_paused(), transaction(app.sessions) as session:
            claimed = _claim(session, size, ids)
            items = [item for item, _raw in claimed]
            process_batch(app, session, items, secret, raws={item.id: raw for item, raw in claimed})
        done += len(items)
        if len(items) < size:
            break
    return done


def _claim(session: Any, size: int, ids: list[int] | None) -> list[tuple[InboundItem, bytes]]:
    """The next pending items with their raw bytes (read in the same query)."""
    query = (
        select(InboundItem, InboundRaw.raw)
        .join(InboundRaw, InboundRaw.item_id == InboundItem.id)
        .where(InboundItem.status == "pending")
        .order_by(InboundItem.id)
        .limit(size)
    )
    if ids is not None:
        query = query.where(InboundItem.id.in_(ids))
    if is_postgres(session):
        query = query.with_for_update(of=InboundItem, skip_locked=True)
    return [(item, raw) for item, raw in session.execute(query)]


def process_batch(
    app: App, session: Any, items: list[InboundItem], secret: str | None, raws: dict[int, bytes] | None = None
) -> None:
    """Process claimed ``items`` in the caller's transaction (see the module's docstring);
    ``raws`` holds their bytes when the claim read them."""
    parsed: dict[int, Understood] = {}
    for item in items:
        try:
            parsed[item.id] = understand(item, app.settings.channels, (raws or {}).get(item.id))
        except ParseError as exc:  # nothing of the item was written yet
            _quarantine(app, item, f"cannot parse: {exc}")
    lookup = BatchLookup(session)
    lookup.prefetch(u.message for u in parsed.values())
    gathered: list[_Opening] = []
    for item in items:
        understood = parsed.get(item.id)
        if understood is None:
            continue
        _record_parsed(app, item, understood)
        if _threads_onto_nothing(understood):
            opening = _decide_new(app, session, item, understood, lookup)
            if opening is not None:
                gathered.append(opening)
            continue
        # It may refer to what was gathered before it: those cases are opened first.
        _open_gathered(app, session, gathered, lookup)
        try:
            with session.begin_nested():
                _process(app, session, item, understood, secret, lookup)
        except OperationalError:
            raise  # the database's moment, not the item's fault: the batch is done again
        except Exception as exc:
            _failed(app, item, exc, lookup)
    _open_gathered(app, session, gathered, lookup)
    _write_items(session, items)
    _write_attachments(session, items, parsed)


@dataclass
class _Opening:
    """A case a gathered item opens."""

    item: InboundItem
    understood: Understood
    claim: Classification


def _threads_onto_nothing(understood: Understood) -> bool:
    """New mail that can refer to no case: no reference, no case number, no bounce."""
    msg = understood.message
    return (
        msg.kind == "email"
        and not msg.in_reply_to
        and understood.bounce is None
        and not CASE_NUMBER.search(f"{msg.subject}\n{msg.text}")
    )


def _decide_new(
    app: App, session: Any, item: InboundItem, understood: Understood, lookup: BatchLookup
) -> _Opening | None:
    """What new mail that threads onto nothing becomes: noise, unclaimed, or a case to open."""
    msg = understood.message
    if msg.noise:
        _finish(
            item,
            None,
            "noise",
            f"{msg.noise} ({msg.noise_reason}) threads onto no case: stored, no case opened",
            lookup,
        )
        return None
    claim = classify(app, msg, lookup) or _default_claim(app, session, item, understood, lookup)
    return _Opening(item, understood, claim) if claim is not None else None


def _open_gathered(app: App, session: Any, gathered: list[_Opening], lookup: BatchLookup) -> None:
    """Open the gathered cases together in a savepoint, then empty the list. If that fails,
    each is opened alone, so the one that fails is quarantined and the others open."""
    if not gathered:
        return
    group = list(gathered)
    gathered.clear()
    try:
        with session.begin_nested():
            _open_all(app, session, group, lookup)
        return
    except OperationalError:
        raise  # a lock timeout, a deadlock, a lost connection: retried whole, nothing quarantined
    except Exception as exc:
        if len(group) == 1:
            _failed(app, group[0].item, exc, lookup)
            return
        log.info("opening %d gathered cases failed; opening each alone to find the failure", len(group), exc_info=True)
        lookup.forget()
    for opening in group:
        _open_gathered(app, session, [opening], lookup)


def _failed(app: App, item: InboundItem, exc: Exception, lookup: BatchLookup) -> None:
    log.error("inbound item %s (%s) failed; quarantined", item.id, item.channel, exc_info=exc)
    lookup.forget()  # what the savepoint added is gone
    _quarantine(app, item, f"processing failed: {type(exc).__name__}: {exc}")


def _quarantine(app: App, item: InboundItem, reason: str) -> None:
    # No case: one a rolled-back savepoint opened is gone.
    _set(item, status="quarantined", reason=reason[:2000], processed_at=app.clock.now(), case_id=None)
    log.warning("inbound item %s from %s quarantined: %s", item.id, item.channel, reason)


def _process(
    app: App, session: Any, item: InboundItem, understood: Understood, secret: str | None, lookup: BatchLookup
) -> None:
    """Thread, classify and open (see the module's docstring for what each item becomes)."""
    msg = understood.message
    if msg.kind == "sms" and _consent_word(app, session, msg, item, lookup):
        return
    if understood.bounce is not None:
        cases, marked = record_bounce(app, session, item, understood, secret, lookup)
        _finish(
            item,
            cases[0] if cases else None,
            "processed",
            f"bounce for {', '.join(mask(a) for a in understood.bounce.recipients) or 'unknown recipient'}: "
            f"{marked} address(es) marked undeliverable, {len(cases)} case(s) told",
            lookup,
        )
        return
    thread = find_thread(session, msg, secret, lookup)
    if thread is not None:
        case = thread.case
        if msg.noise:
            # Recorded, never acted on: no reopening, no clock, nobody told.
            record_event(
                app.context(case.plugin, session),
                case,
                "noise_noted",
                actor="system",
                reason=f"{msg.noise} threaded by {thread.how}: {msg.noise_reason}"[:1000],
                data={"item_id": item.id, "channel": item.channel, **_no_ack(msg)},
            )
        else:
            record_event(
                app.context(case.plugin, session),
                case,
                "customer_reply",
                actor="customer",
                reason=f"{msg.kind} threaded by {thread.how}",
                data={"item_id": item.id, "channel": item.channel, **_files(msg)},
            )
        _finish(item, case, "processed", f"threaded onto {case.number} by {thread.how}", lookup)
        return
    if msg.noise:
        _finish(
            item,
            None,
            "noise",
            f"{msg.noise} ({msg.noise_reason}) threads onto no case: stored, no case opened",
            lookup,
        )
        return
    claim = classify(app, msg, lookup) or _default_claim(app, session, item, understood, lookup)
    if claim is not None:
        _open_all(app, session, [_Opening(item, understood, claim)], lookup)


def _record_parsed(app: App, item: InboundItem, understood: Understood) -> None:
    """Keep what parsing found on the item (sender, subject, text, noise, problems)."""
    msg = understood.message
    _set(
        item,
        sender=(msg.sender or "")[:320] or None,
        subject=msg.subject[:1000],
        text=msg.text,
        processed_at=app.clock.now(),
    )
    extra: dict[str, Any] = {}
    if msg.noise:
        extra.update(noise=msg.noise, noise_reason=msg.noise_reason)
    if understood.problems:
        extra["problems"] = understood.problems
    if extra:
        _set(item, data={**(item.data or {}), **extra})


def _default_claim(
    app: App, session: Any, item: InboundItem, understood: Understood, lookup: BatchLookup
) -> Classification | None:
    """The inbox's default kind; None (item finished as unclaimed) without one."""
    kind = understood.message.default_kind
    if not kind:
        _finish(
            item,
            None,
            "unclaimed",
            "no plugin claimed it and the inbox has no default_kind",
            lookup,
        )
        return None
    if kind not in app.kinds:
        _finish(
            item,
            None,
            "unclaimed",
            f"default_kind {kind!r} of {item.channel} is not a registered case kind",
            lookup,
        )
        return None
    return Classification(kind=kind)


def classify(app: App, msg: InboundMessage, lookup: BatchLookup | None = None) -> Classification | None:
    """The best claim on ``msg`` of the plugins its inbox serves (see
    :meth:`kefu.plugin_calls.PluginCalls.classify`).

    The inbox's ``plugins`` (default: every enabled plugin) are asked, the plugin of the
    inbox's ``default_kind`` first so that a tie goes to it, then in ``[plugins] enabled``
    order. Before they are asked the item learns whose known customer its sender is
    (``customer_of``, from the batch's ``lookup``), so the hook stays pure.
    """
    cfg = inbox_settings(app.settings.channels, msg.channel)
    default = msg.default_kind.split(".", 1)[0] if msg.default_kind else None
    if lookup is not None:
        # Set on the message itself (intake's own object, made for this item): a copy of its
        # two dozen fields per message cost more than the plugins' answers.
        msg.customer_of = _customer_of(msg, lookup)
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


def _customer_of(msg: InboundMessage, lookup: BatchLookup) -> tuple[str, ...]:
    """The plugins whose known customer (one with a reference: imported) sent ``msg``."""
    found: list[Customer] = []
    if msg.kind == "email" and msg.sender:
        found += lookup.customers_by_email(msg.sender)
    if msg.phone:
        found += lookup.customers_by_phone(msg.phone)
    return tuple(dict.fromkeys(c.plugin for c in found if c.plugin and c.ref))


def _files(msg: InboundMessage) -> dict[str, Any]:
    """The names of the item's attachments, for hooks: the rows themselves are written after them."""
    return {"attachments": list(msg.attachments)} if msg.attachments else {}


def _no_ack(msg: InboundMessage) -> dict[str, Any]:
    if not msg.noise:
        return {}
    return {"no_ack": True, "no_ack_reason": f"{msg.noise}: {msg.noise_reason}"}


def _open_all(app: App, session: Any, openings: list[_Opening], lookup: BatchLookup) -> None:
    """Open the cases of ``openings`` in order with one :func:`open_cases`, their customers
    found or created (the new senders among them in one INSERT)."""
    customers = _customers(app, session, openings, lookup)
    new: list[NewCase] = []
    for opening, customer in zip(openings, customers, strict=True):
        msg, claim, item = opening.understood.message, opening.claim, opening.item
        # reply_to: where the owner plugin sends its acknowledgement.
        data: dict[str, Any] = {
            "item_id": item.id,
            "channel": item.channel,
            "source": msg.kind,
            "reply_to": msg.sender,
            **_files(msg),
        }
        for key in ("category", "address", "account"):
            if getattr(msg, key):
                data[key] = getattr(msg, key)
        title = claim.title or msg.subject or msg.text[:60] or ""
        new.append(
            NewCase(
                kind=claim.kind,
                title=title[:500],
                customer=customer,
                unit=claim.unit,
                urgent=claim.urgent or None,
                data=data,
                actor="customer",
                reason=f"{msg.kind} via {item.channel}",
                opened_at=msg.occurred_at,
            )
        )
    cases = open_cases(app.context("kefu", session), new)
    for opening, case in zip(openings, cases, strict=True):
        _finish(opening.item, case, "processed", f"opened {case.number}", lookup)


def _customers(app: App, session: Any, openings: list[_Opening], lookup: BatchLookup) -> list[Customer]:
    """The customer of each opening, as :func:`find_or_create_customer` finds or creates it; the
    senders nobody knows yet are inserted together."""
    now = app.clock.now()
    found: list[Customer | None] = []
    new_rows: dict[str, dict[str, Any]] = {}
    for opening in openings:
        msg, claim = opening.understood.message, opening.claim
        plugin = claim.kind.split(".", 1)[0]
        key = (msg.sender or "").strip().lower() if msg.kind == "email" else ""
        if key and not (claim.customer_ref or msg.account or msg.phone):
            known = lookup.customers_by_email(key)
            if known:
                found.append(([c for c in known if c.plugin == plugin] or known)[0])
            else:
                found.append(None)
                new_rows.setdefault(
                    key,
                    {
                        "plugin": plugin,
                        "ref": None,
                        "name": msg.sender_name,
                        "email": key,
                        "phone": None,
                        "address": msg.address,
                        "created_at": now,
                        "data": {},
                    },
                )
            continue
        _insert_customers(session, new_rows, lookup)
        found.append(
            find_or_create_customer(
                session,
                plugin=plugin,
                now=now,
                ref=claim.customer_ref or msg.account,
                email=msg.sender if msg.kind == "email" else None,
                phone=msg.phone,
                name=msg.sender_name,
                address=msg.address,
                lookup=lookup,
            )
        )
    _insert_customers(session, new_rows, lookup)
    return [
        c if c is not None else lookup.customers_by_email((o.understood.message.sender or "").strip().lower())[0]
        for o, c in zip(openings, found, strict=True)
    ]


def _insert_customers(session: Any, rows: dict[str, dict[str, Any]], lookup: BatchLookup) -> None:
    """Insert the new customers in ``rows`` in one statement (then empty it)."""
    if not rows:
        return
    for customer in session.scalars(insert(Customer).returning(Customer), list(rows.values())):
        lookup.added_customer(customer)
    rows.clear()


_ATTACHMENTS = table_of(Attachment)
_ITEMS = table_of(InboundItem)
_ITEM_COLUMNS = ("sender", "subject", "text", "processed_at", "data", "status", "reason", "case_id")
_WRITE_ITEM = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("item_id"))
    .values({name: bindparam(name, type_=_ITEMS.c[name].type) for name in _ITEM_COLUMNS})
)


def _set(item: InboundItem, **values: Any) -> None:
    """Set what processing found on the loaded item without making it dirty: every item of the
    batch is written once, by :func:`_write_items`, and the object shows the values at once to
    the hooks that read the item through the session. A savepoint that rolls back leaves them
    (the item's own columns are written whatever becomes of its case)."""
    for key, value in values.items():
        set_committed_value(item, key, value)


def _write_items(session: Any, items: list[InboundItem]) -> None:
    """One executemany UPDATE of every item's own columns, as processing left them."""
    if items:
        session.connection().execute(
            _WRITE_ITEM,
            [{"item_id": item.id, **{name: getattr(item, name) for name in _ITEM_COLUMNS}} for item in items],
        )


def _write_attachments(session: Any, items: list[InboundItem], parsed: dict[int, Understood]) -> None:
    """One executemany INSERT of the attachments of every item that was finished (each on the
    case it ended on), after the whole batch: nothing in the batch reads them, and a quarantined
    item (its savepoint rolled back, or never finished) keeps only its raw bytes, as before."""
    rows = [
        {
            "item_id": item.id,
            "case_id": item.case_id,
            "filename": att.filename,
            "content_type": att.content_type,
            "size": len(att.content),
            "sha256": hashlib.sha256(att.content).hexdigest(),
            "content": att.content,
        }
        for item in items
        if item.id in parsed and item.status != "quarantined"
        for att in parsed[item.id].attachments
    ]
    if rows:  # a Core executemany, no ORM objects
        session.connection().execute(insert(_ATTACHMENTS), rows)


def _finish(
    item: InboundItem,
    case: Case | None,
    status: str,
    reason: str,
    lookup: BatchLookup,
) -> None:
    case_id = case.id if case is not None else None
    _set(item, status=status, reason=reason, case_id=case_id)
    lookup.added_message(item.message_id, case_id)  # a later item of the batch may refer to this one
    # Its attachments are written with the batch's (see _write_attachments).


def _consent_word(app: App, session: Any, msg: InboundMessage, item: InboundItem, lookup: BatchLookup) -> bool:
    cfg = app.settings.channels.sms
    word = msg.text.strip().strip("。.!！").upper()
    opt_out = word in {w.upper() for w in cfg.opt_out_words}
    opt_in = word in {w.upper() for w in cfg.opt_in_words}
    if not (opt_out or opt_in) or not msg.phone:
        return False
    now = app.clock.now()
    customers: list[Customer] = lookup.customers_by_phone(msg.phone)
    if not customers:
        # Remember the refusal even for a number we do not know yet: the outbox checks it.
        customers = [find_or_create_customer(session, plugin="", now=now, phone=msg.phone, lookup=lookup)]
    for customer in customers:
        customer.sms_opt_out = opt_out
        customer.sms_opt_out_at = now if opt_out else None
    _set(
        item,
        status="processed",
        reason=f"SMS {'opt-out' if opt_out else 'opt-in'} ({word}) for {len(customers)} customer(s)",
    )
    log.info("SMS %s from %s", "opt-out" if opt_out else "opt-in", mask(msg.phone))
    return True
