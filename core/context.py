"""What a plugin's hook receives as ``ctx``: the only way a plugin acts on the daemon.

``PluginContext[ItsConfig]`` carries the plugin's one name, its validated config
section (typed by the plugin's own model), the clock, the time zone and the
calendar, and — for hooks called inside a transaction — the session through which
everything the plugin does (cases, events, deadlines, messages) commits or rolls
back with the change that called it. The App behind it stays private to the core
(:func:`app_of`); plugins reach it only through the methods here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.db.models import Case, CaseEvent, Customer, Deadline, OutboxMessage
    from kefu.outbound.bulk import OutboxItem
    from kefu.sla.calendar import WorkCalendar
    from kefu.staff_config import Person
    from kefu.templating import Rendered

ConfigT = TypeVar("ConfigT")


class PluginContext(Generic[ConfigT]):
    """The calling plugin's view of the daemon, typed by its config model.

    ``ctx.config`` is the plugin's own validated section (``ctx.config.deadlines.leak``
    type-checks in a ``PluginContext[HeatingConfig]``); ``ctx.session`` is set for
    hooks called inside a transaction. Template names without a folder
    (``"ack.sms.txt"``) are the plugin's own (``templates/`` of its package).
    """

    __slots__ = ("_app", "_source", "name", "session")

    def __init__(
        self, name: str, app: App | None, session: Session | None = None, *, source: Callable[[], App] | None = None
    ) -> None:
        self.name = name
        self.session = session
        self._app = app
        self._source = source

    @classmethod
    def deferred(cls, name: str, source: Callable[[], App]) -> PluginContext[Any]:
        """A context whose App is built on first use (the CLI's: ``kefu --help`` needs none)."""
        return PluginContext(name, None, source=source)

    def __repr__(self) -> str:
        return f"PluginContext({self.name!r}, session={'yes' if self.session is not None else 'no'})"

    def _core(self) -> App:
        app = self._app
        if app is None:
            if self._source is None:
                raise RuntimeError(f"plugin {self.name!r}: this context is bound to no application")
            app = self._app = self._source()
        return app

    # -- identity, config, clock ---------------------------------------------

    @property
    def config(self) -> ConfigT:
        """The plugin's validated config section (None if it declares none)."""
        return cast(ConfigT, self._core().settings.plugin_section(self.name))

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone (Asia/Shanghai by default)."""
        return self._core().settings.tz

    @property
    def site_name(self) -> str:
        """``[kefu] site_name``: the department's name, as letters and reports print it."""
        return self._core().settings.kefu.site_name

    @property
    def default_country(self) -> str:
        """``[kefu] default_country``: the region a phone number without ``+`` is read in."""
        return self._core().settings.kefu.default_country

    @property
    def log(self) -> logging.Logger:
        """The plugin's logger, ``kefu.plugins.<name>``."""
        return logging.getLogger(f"kefu.plugins.{self.name}")

    @property
    def calendar(self) -> WorkCalendar:
        """The working calendar of ``[calendar]``: holidays, make-up days, working hours."""
        from kefu.sla.deadlines import calendar_of

        return calendar_of(self._core())

    def secret(self, name: str) -> str | None:
        """The secret ``name`` (systemd credential or ``KEFU_<NAME>``), or None: a plugin's API tokens."""
        from kefu.secrets import find_secret

        return find_secret(name)

    def now(self) -> datetime:
        """The current time from the daemon's one clock (aware UTC)."""
        return self._core().clock.now()

    def local_now(self) -> datetime:
        """The current time in the configured zone."""
        return self.now().astimezone(self.tz)

    # -- transactions --------------------------------------------------------

    def with_session(self, session: Session) -> PluginContext[ConfigT]:
        """The same context bound to ``session``."""
        return PluginContext(self.name, self._app, session, source=self._source)

    def db(self) -> Session:
        """The session of the current transaction; an error if the hook runs outside one."""
        if self.session is None:
            raise RuntimeError(f"plugin {self.name!r}: this hook runs outside a transaction")
        return self.session

    @contextmanager
    def transaction(self) -> Iterator[PluginContext[ConfigT]]:
        """A new transaction, committed when the block ends without an error (CLI commands, imports)."""
        from kefu.db.engine import transaction

        with transaction(self._core().sessions) as session:
            yield self.with_session(session)

    def kpis(self, period: str) -> list[dict[str, Any]]:
        """The case KPIs of month ``period`` (``2026-11``) as `kefu report` computes them, per plugin,
        (plugin, unit) and (plugin, person): how one plugin reads another's figures (hr's monthly sheet
        reads the repair engineers' closure, timeliness and satisfaction) without importing it."""
        from kefu.sla.kpi import compute_kpis, month_bounds

        start, end = month_bounds(period, self.tz)
        return compute_kpis(self.db(), start, end, self.now())

    # -- staff ---------------------------------------------------------------

    @property
    def people(self) -> Mapping[str, Person]:
        """``[staff.people]`` by staff key."""
        return self._core().settings.staff.people

    def person(self, key: str) -> Person | None:
        """The member of staff ``key`` of ``[staff.people]``, or None."""
        return self._core().settings.staff.people.get(key)

    def staff_for(self, target: str, *, unit: str | None = None, when: datetime | None = None) -> list[str]:
        """The staff keys a target (role, person, ``rota:NAME``, ``{unit}`` filled) means at ``when`` (now).

        Raises :class:`kefu.sla.recipients.UnknownRecipient` for a target ``[staff]`` does not know.
        """
        from kefu.sla.recipients import resolve

        app = self._core()
        return resolve(app.settings.staff, target, when or self.now(), app.settings.tz, unit=unit, session=self.session)

    def reachable_staff(self, target: str, *, unit: str | None = None) -> list[str]:
        """Like :meth:`staff_for`, for work that must go on: an unknown target is logged and means nobody."""
        from kefu.sla.recipients import UnknownRecipient

        try:
            return self.staff_for(target, unit=unit)
        except UnknownRecipient as exc:
            self.log.error("%s: %s; nobody reached", self.name, exc)
            return []

    def tell_staff(
        self,
        target: str,
        *,
        scope: str,
        template: str,
        context: dict[str, Any],
        case: Case | None = None,
        unit: str | None = None,
        urgent: bool = False,
        channels: Sequence[str] = ("sms", "email"),
    ) -> list[str]:
        """Queue ``template`` to everyone ``target`` means now, by each of ``channels`` they have an
        address for, once per ``scope``: the keys queued (``{scope}/{person}/{channel}``).

        The template gets ``staff_name`` and ``site_name`` beside ``context``; an unknown target
        is logged and reaches nobody (:meth:`reachable_staff`).
        """
        queued: list[str] = []
        for key in self.reachable_staff(target, unit=unit):
            person = self.person(key)
            if person is None:
                continue
            for channel in channels:
                address = person.phone if channel == "sms" else person.email
                if not address:
                    continue
                idem = f"{scope}/{key}/{channel}"
                row = self.queue(
                    key=idem,
                    channel=channel,
                    recipient=address,
                    recipient_name=person.name,
                    template=template,
                    context={**context, "staff_name": person.name, "site_name": self.site_name},
                    case=case,
                    audience="staff",
                    urgent=urgent,
                )
                if row is not None:
                    queued.append(idem)
        return queued

    def check_staff_target(self, target: str) -> str | None:
        """What is wrong with a staff target (role, person, rota), or None: for registration-time checks."""
        from kefu.sla.recipients import check_target

        return check_target(self._core().settings.staff, target)

    # -- templates and messages ----------------------------------------------

    def template(self, name: str) -> str:
        """The full name of template ``name``: a name without a folder is the plugin's own."""
        return name if "/" in name else f"{self.name}/{name}"

    def render(self, template: str, channel: str, context: dict[str, Any]) -> Rendered:
        """Render one of the plugin's templates for ``channel`` (RenderError if it fails)."""
        from kefu.templating import render

        return render(self._core(), self.template(template), channel, context)

    def queue(
        self,
        *,
        key: str,
        channel: str,
        recipient: str,
        template: str,
        context: dict[str, Any] | None = None,
        case: Case | None = None,
        customer: Customer | None = None,
        audience: str = "customer",
        recipient_name: str | None = None,
        urgent: bool = False,
        marketing: bool = False,
        not_before: datetime | None = None,
        letter: str | None = None,
        address: str | None = None,
        auto: bool = True,
        cancel_on: Sequence[str] = (),
        files: Sequence[tuple[str, bytes, str]] = (),
    ) -> OutboxMessage | None:
        """Queue one message unless its idempotency ``key`` is already in the outbox (then None).

        ``channel`` is email, sms or letter; ``template`` and ``letter`` (a letter
        attached to an email as PDF) may be the plugin's own names (``"ack.txt"``).
        ``urgent`` ignores customers' quiet hours; ``audience="staff"`` rows are timed
        by ``not_before`` only. An acknowledgement template (``{# kefu: ack #}``) is not
        queued for a case intake marked ``no_ack`` (auto-replies, bounces, lists).
        ``cancel_on`` names the case events that make it moot while it waits (``resolved``,
        ``closed``, ``callback_answered``): it is then cancelled with the reason, not sent.
        ``files`` are (filename, content, MIME type) attached to an email as they are (a sheet's XLSX).
        """
        from kefu.outbound.outbox import queue_message

        return queue_message(
            self,
            key=key,
            channel=channel,
            recipient=recipient,
            template=self.template(template),
            context=context,
            case=case,
            customer=customer,
            audience=audience,
            recipient_name=recipient_name,
            urgent=urgent,
            marketing=marketing,
            not_before=not_before,
            letter=self.template(letter) if letter else None,
            address=address,
            auto=auto,
            cancel_on=cancel_on,
            files=files,
        )

    def cancel_queued(self, *, key_prefix: str, reason: str, matches: Callable[[str], bool] | None = None) -> int:
        """Cancel the queued messages whose key starts with ``key_prefix`` (and ``matches``, given the
        key) with ``reason``, e.g. a fee reminder once paid; how many were cancelled."""
        from kefu.outbound.moot import cancel_queued

        return cancel_queued(self, key_prefix=key_prefix, reason=reason, matches=matches)

    def queue_many(self, items: Iterable[OutboxItem]) -> list[str]:
        """Queue every item whose idempotency key is new (bulk campaigns); the keys queued, in order."""
        from kefu.outbound.bulk import queue_many

        return queue_many(self, (self._qualified(item) for item in items))

    def _qualified(self, item: OutboxItem) -> OutboxItem:
        template, letter = self.template(item.template), item.letter and self.template(item.letter)
        if template == item.template and letter == item.letter:
            return item
        return replace(item, template=template, letter=letter)

    # -- cases (the SLA engine, in this context's transaction) ----------------

    def kind(self, name: str) -> str:
        """The stored name of the plugin's own kind ``name`` (``"leak"`` → ``"heating.leak"``)."""
        return name if name.startswith(f"{self.name}.") else f"{self.name}.{name}"

    def kind_of(self, case: Case) -> str | None:
        """The kind of ``case`` as the plugin names it (``"leak"``), or None for another plugin's case."""
        own, dot, rest = case.kind.partition(".")
        return rest if dot and own == self.name else None

    def open_case(
        self,
        *,
        kind: str,
        title: str = "",
        customer: Customer | None = None,
        unit: str | None = None,
        urgent: bool | None = None,
        owner: str | None = None,
        data: dict[str, Any] | None = None,
        actor: str = "system",
        reason: str | None = None,
        step: str | None = None,
        due: Mapping[str, datetime] | None = None,
        opened_at: datetime | None = None,
    ) -> Case:
        """Open a case of one of the plugin's kinds, with its declared deadlines; tells ``kefu_case_opened``.

        ``step`` starts it at one of the kind's steps; ``due`` gives deadlines opened now an
        explicit due time by policy name (``{"resolution": milestone_day}``).
        """
        from kefu.sla.cases import open_case

        return open_case(
            self,
            kind=kind,
            title=title,
            customer=customer,
            unit=unit,
            urgent=urgent,
            owner=owner,
            data=data,
            actor=actor,
            reason=reason,
            step=step,
            due=due,
            opened_at=opened_at,
        )

    def find_case(self, number: str) -> Case | None:
        """The case with this number, or None."""
        from kefu.sla.cases import find_case

        return find_case(self.db(), number)

    def record_event(
        self,
        case: Case,
        type: str,
        *,
        actor: str = "system",
        reason: str | None = None,
        to_state: str | None = None,
        data: dict[str, Any] | None = None,
        reopen: bool = False,
        due: Mapping[str, datetime] | None = None,
    ) -> CaseEvent:
        """Record an event on ``case`` (``to_state`` moves it; the owner's ``kefu_case_changed`` is told)."""
        from kefu.sla.cases import record_event

        return record_event(
            self, case, type, actor=actor, reason=reason, to_state=to_state, data=data, reopen=reopen, due=due
        )

    def transition(
        self,
        case: Case,
        to_state: str,
        *,
        actor: str = "system",
        reason: str | None = None,
        data: dict[str, Any] | None = None,
        due: Mapping[str, datetime] | None = None,
    ) -> CaseEvent:
        """Move ``case`` to ``to_state`` (IllegalTransition, or TransitionRefused by the kind's guard)."""
        from kefu.sla.cases import transition

        return transition(self, case, to_state, actor=actor, reason=reason, data=data, due=due)

    def assign(self, case: Case, owner: str, *, actor: str = "system", reason: str | None = None) -> CaseEvent:
        """Give ``case`` to the member of staff ``owner`` (CaseError if not in ``[staff.people]``)."""
        from kefu.sla.cases import assign

        return assign(self, case, owner, actor=actor, reason=reason)

    def set_step(
        self, case: Case, step: str, *, actor: str = "system", reason: str | None = None, due_at: datetime | None = None
    ) -> CaseEvent:
        """Move ``case`` to one of its kind's steps; ``due_at`` fixes the step deadline's due time."""
        from kefu.sla.cases import set_step

        return set_step(self, case, step, actor=actor, reason=reason, due_at=due_at)

    def resolve(self, case: Case, *, actor: str = "system", reason: str | None = None) -> CaseEvent:
        """Resolve ``case`` (its callback deadline, if the kind has one, starts)."""
        from kefu.sla.cases import resolve

        return resolve(self, case, actor=actor, reason=reason)

    def close(self, case: Case, *, actor: str = "system", reason: str | None = None) -> CaseEvent:
        """Close ``case``: every deadline still running is met now."""
        from kefu.sla.cases import close

        return close(self, case, actor=actor, reason=reason)

    def reopen(self, case: Case, *, actor: str = "system", reason: str | None = None) -> CaseEvent:
        """Reopen a resolved, callback or closed case (a new round of its deadlines)."""
        from kefu.sla.cases import reopen

        return reopen(self, case, actor=actor, reason=reason)

    def record_callback(self, case: Case, score: int, *, actor: str = "system", reason: str | None = None) -> CaseEvent:
        """Record the customer's callback answer (1–5): satisfied closes, unsatisfied reopens."""
        from kefu.sla.cases import record_callback

        return record_callback(self, case, score, actor=actor, reason=reason)

    def set_due(
        self,
        case: Case,
        name: str,
        due_at: datetime,
        *,
        remind_before: timedelta | None = None,
        actor: str = "system",
        reason: str | None = None,
    ) -> Deadline:
        """Give the running deadline ``name`` of ``case`` an explicit due time (CaseError if none runs)."""
        from kefu.sla.cases import set_due

        return set_due(self, case, name, due_at, remind_before=remind_before, actor=actor, reason=reason)

    def customer_of(self, case: Case) -> Customer | None:
        """The customer of ``case``, or None."""
        from kefu.db.models import Customer

        return None if case.customer_id is None else self.db().get(Customer, case.customer_id)


def app_of(ctx: PluginContext[Any]) -> App:
    """The App behind ``ctx``: for the core's own modules only (never re-exported to plugins)."""
    return ctx._core()
