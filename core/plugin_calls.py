"""The one place the core calls plugin hooks: one method per hook, each with its failure rule.

pluggy stops a whole-hook call at the first exception, so every method here asks
each plugin on its own (:meth:`PluginHost.call_one`, pluggy's hook caller for that
plugin) and applies the rule of its phase, the same table as the banner of
:mod:`kefu.hookspecs`:

- registration (config section, case kinds, schedule, http, console actions): a raise is a
  :class:`PluginError` to the caller, which refuses the start or the reload;
- classify: logged with plugin and item, the others' answers stand;
- case opened / changed: rolled back to a savepoint, recorded on the case;
- deadline due, cron jobs: a :class:`PluginError` to the sweep (retry with backoff,
  then flagged) and to the cron runner (firing recorded ``failed``);
- cli, template samples: logged, that plugin goes without.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click
from pydantic import BaseModel

from kefu.db.models import CaseEvent
from kefu.http.route import Route
from kefu.intake.message import Classification
from kefu.plugin_host import PluginError, PluginHost

if TYPE_CHECKING:
    from kefu.console.extension import ConsoleAction, ConsolePage
    from kefu.context import PluginContext
    from kefu.db.models import Case, Deadline
    from kefu.intake.message import InboundMessage
    from kefu.jobs import CronJob
    from kefu.kinds import CaseKind

log = logging.getLogger("kefu.plugins")
ContextOf = Callable[[str], "PluginContext[Any]"]


class PluginCalls:
    """Typed calls of every hook of the enabled plugins (tox's ``Plugin`` class, with isolation)."""

    def __init__(self, host: PluginHost) -> None:
        self.host = host

    # -- registration: a raise refuses the start (or the reload) ---------------

    def config_sections(self) -> dict[str, type[BaseModel] | None]:
        """Each enabled plugin's section model (None if it has none); PluginError if one raises."""
        return {name: self.host.call_one("kefu_config_section", name) for name in self.host.enabled}

    def case_kinds(self, ctx_of: ContextOf) -> list[tuple[str, list[CaseKind]]]:
        """(plugin, its case kinds) in ``enabled`` order; PluginError if one raises."""
        return self._registration("kefu_case_kinds", ctx_of)

    def schedules(self, ctx_of: ContextOf) -> list[tuple[str, list[CronJob]]]:
        """(plugin, its cron jobs) in ``enabled`` order; PluginError if one raises."""
        return self._registration("kefu_schedule", ctx_of)

    def http_routes(self, ctx_of: ContextOf) -> list[tuple[str, Route]]:
        """Every plugin's routes, checked; PluginError if a plugin raises or returns a bad route."""
        routes: list[tuple[str, Route]] = []
        for plugin, answer in self._registration("kefu_http", ctx_of):
            for route in answer:
                problem = _route_problem(plugin, route)
                if problem:
                    raise PluginError(plugin, "kefu_http", ValueError(problem))
                routes.append((plugin, route))
        return routes

    def console_actions(self, ctx_of: ContextOf) -> list[tuple[str, ConsoleAction | ConsolePage]]:
        """Every plugin's console actions and pages, checked; PluginError if one raises or returns a bad one."""
        from kefu.console.extension import ConsoleAction, ConsolePage

        out: list[tuple[str, ConsoleAction | ConsolePage]] = []
        for plugin, answer in self._registration("kefu_console_actions", ctx_of):
            names: set[str] = set()
            for action in answer:
                if not isinstance(action, ConsoleAction | ConsolePage):
                    raise PluginError(
                        plugin,
                        "kefu_console_actions",
                        TypeError(f"returned {action!r}, not a kefu.api.ConsoleAction or ConsolePage"),
                    )
                if action.name in names:
                    raise PluginError(plugin, "kefu_console_actions", ValueError(f"action {action.name!r} twice"))
                names.add(action.name)
                out.append((plugin, action))
        return out

    def _registration(self, hook: str, ctx_of: ContextOf) -> list[tuple[str, Any]]:
        return [
            (name, list(self.host.call_one(hook, name, ctx=ctx_of(name)) or []))
            for name in self.host.implementers(hook)
        ]

    # -- staff tools: a raise is logged, that plugin goes without ----------------

    def cli(self, group: click.Group, ctx_of: ContextOf) -> None:
        """Let every plugin add its commands to ``group``; a failing plugin is logged and left out."""
        for name in self.host.implementers("kefu_cli"):
            try:
                self.host.call_one("kefu_cli", name, group=group, ctx=ctx_of(name))
            except PluginError:
                log.exception("plugin %r failed in kefu_cli; its commands are missing", name)

    def template_samples(self, ctx_of: ContextOf) -> dict[str, dict[str, Any]]:
        """Every plugin's sample contexts by full template name (a plugin's own names qualified)."""
        merged: dict[str, dict[str, Any]] = {}
        for name in self.host.implementers("kefu_template_samples"):
            ctx = ctx_of(name)
            try:
                answer = self.host.call_one("kefu_template_samples", name, ctx=ctx)
            except PluginError:
                log.exception("plugin %r failed in kefu_template_samples; its samples are left out", name)
                continue
            merged.update({ctx.template(template): sample for template, sample in (answer or {}).items()})
        return merged

    # -- intake: a raise is logged, the others' answers stand ----------------------

    def classify(
        self, item: InboundMessage, ctx_of: ContextOf, kinds: Mapping[str, CaseKind], ask: Sequence[str] | None = None
    ) -> Classification | None:
        """The winning claim on ``item``: every plugin asked (or those in ``ask``), best score first.

        An answer counts when it is a Classification of one of the answering
        plugin's registered kinds (named with or without the plugin's name); the highest ``score``
        wins and a tie goes to
        the plugin asked first (``ask``'s order, else ``[plugins] enabled``).
        A plugin that raises is logged with the item and the others' answers stand.
        """
        names = (
            self.host.implementers("kefu_classify")
            if ask is None
            else [name for name in ask if self.host.implements("kefu_classify", name)]
        )
        best: Classification | None = None
        for name in names:
            try:
                answer = self.host.call_one("kefu_classify", name, item=item, ctx=ctx_of(name))
            except PluginError:
                log.exception("plugin %r failed to classify inbound item %s; asking the others", name, item.item_id)
                continue
            if answer is None:
                continue
            if isinstance(answer, Classification) and f"{name}.{answer.kind}" in kinds:
                answer = replace(answer, kind=f"{name}.{answer.kind}")  # its own kind, named without its name
            if (
                not isinstance(answer, Classification)
                or answer.kind not in kinds
                or not answer.kind.startswith(f"{name}.")
            ):
                log.error(
                    "plugin %r answered kefu_classify with %r, not one of its registered kinds; ignored", name, answer
                )
                continue
            if best is None or answer.score > best.score:
                best = answer
        return best

    # -- cases: in the case's transaction, owner only; a raise is recorded on the case

    def case_opened(self, case: Case, ctx: PluginContext[Any]) -> None:
        """Tell the owner plugin of a new case, in a savepoint; a failure is recorded on the case."""
        self._isolated("kefu_case_opened", case, ctx)

    def cases_opened(self, cases: Sequence[Case], ctx_of: ContextOf) -> None:
        """``case_opened`` for each case in order, in one savepoint while every owner succeeds.

        A savepoint per case (its flush, SAVEPOINT and RELEASE) was most of the cost
        of opening a batch; so the batch is told in one, and only if a hook fails is
        that savepoint rolled back and each case told again in its own, to isolate it.
        """
        told = [case for case in cases if self.host.implements("kefu_case_opened", case.plugin)]
        if not told:
            return
        contexts = {plugin: ctx_of(plugin) for plugin in {case.plugin for case in told}}
        if len(told) > 1:
            try:
                with contexts[told[0].plugin].db().begin_nested():
                    for case in told:
                        self.host.call_one("kefu_case_opened", case.plugin, case=case, ctx=contexts[case.plugin])
                return
            except Exception:
                log.info(
                    "a kefu_case_opened hook failed in a batch of %d cases; telling each case alone to find it",
                    len(told),
                    exc_info=True,
                )
        for case in told:
            self._isolated("kefu_case_opened", case, contexts[case.plugin])

    def case_changed(self, case: Case, event: CaseEvent, ctx: PluginContext[Any]) -> None:
        """Tell the owner plugin of an event on its case, in a savepoint; a failure is recorded on the case."""
        self._isolated("kefu_case_changed", case, ctx, event=event)

    def _isolated(self, hook: str, case: Case, ctx: PluginContext[Any], **kwargs: Any) -> None:
        if not self.host.implements(hook, case.plugin):
            return  # no savepoint (and its flush) for a hook the owner does not implement
        session = ctx.db()
        try:
            with session.begin_nested():
                self.host.call_one(hook, case.plugin, case=case, ctx=ctx, **kwargs)
        except Exception as exc:
            log.exception("plugin %r failed in %s for case %s", case.plugin, hook, case.number)
            session.add(
                CaseEvent(case_id=case.id, at=ctx.now(), actor="system", type="plugin_error", reason=f"{hook}: {exc}")
            )
            session.flush()

    # -- the clock: a raise is the caller's to retry (sweep) or record (cron) ------------

    def deadline_due(self, deadline: Deadline, case: Case, ctx: PluginContext[Any]) -> bool | None:
        """The owner's answer for a due deadline (None: the core's default chain); PluginError if it raises.

        The sweep rolls the deadline's savepoint back, retries it with backoff and,
        after repeated failures, flags it to staff (:mod:`kefu.sla.sweep`).
        """
        answer: bool | None = self.host.call_one("kefu_deadline_due", ctx.name, deadline=deadline, case=case, ctx=ctx)
        return answer

    def owns_deadlines(self, plugin: str) -> bool:
        """Whether ``plugin`` implements ``kefu_deadline_due`` (else the core's default chain runs)."""
        return self.host.implements("kefu_deadline_due", plugin)

    def run_job(self, plugin: str, job: CronJob, ctx: PluginContext[Any], fired_at: datetime) -> None:
        """Run one firing of a plugin's cron job; PluginError if it raises (the firing is then ``failed``)."""
        try:
            job.func(ctx, fired_at)
        except Exception as exc:
            raise PluginError(plugin, f"cron job {job.id}", exc) from exc


def _route_problem(plugin: str, route: object) -> str | None:
    if not isinstance(route, Route):
        return f"kefu_http returned {route!r}, not a kefu.api.Route"
    if not route.path.startswith(f"/{plugin}/"):
        return f"route {route.path!r} must start with '/{plugin}/'"
    return None
