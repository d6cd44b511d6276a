# mypy: disable-error-code="empty-body"
# Hook specifications have no bodies: their docstrings are the contract.
"""The contract between the kefu core and its plugins.

Every hook a plugin may implement is declared here, in the order the daemon calls
them: registration at start (and again at each reload), then intake, then cases
and their deadlines, then the staff tools. A plugin implements a hook by defining
a function of the same name decorated with ``kefu.api.hookimpl`` in its ``hooks``
module, which is registered through the ``kefu.plugins`` entry point group exactly
like a third-party plugin's. An implementation may take any subset of the spec's
arguments (pluggy matches them by name).

The core calls hooks in one place only, :class:`kefu.plugin_calls.PluginCalls`
(one method per hook), never the whole pluggy hook at once: pluggy stops at the
first exception, so each plugin's implementation is called on its own, its
exception named with plugin and hook, and handled by the rule of its phase:

==========================  ====================================================
phase                       when a plugin raises
==========================  ====================================================
registration (config        the start is refused, or the reload, and the old
section, case kinds,        config keeps running; the error names the plugin
schedule, http,
console actions)
classify                    logged with plugin and item; the other plugins are
                            asked; nobody claims it → the inbox's default kind
case opened / changed       its savepoint is rolled back, the error is recorded
                            on the case (a ``plugin_error`` event), the case
                            change itself commits
deadline due                the deadline's savepoint is rolled back; the sweep
                            retries it with backoff, then flags it to staff
cron job (from schedule)    the firing is recorded ``failed`` with the error
cli                         logged; that plugin's commands are missing, the
                            others are there (``kefu --help`` always works)
template samples            logged; ``check-config`` goes on without them
==========================  ====================================================

``ctx`` is always the calling plugin's own ``PluginContext[ItsConfig]`` (see
:mod:`kefu.api`): its name, its validated config section, the clock, the time zone
and, for hooks called inside a transaction, the session through which the plugin
opens and moves cases, records events, sets deadlines and queues messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from pydantic import BaseModel

    from kefu.console.extension import ConsoleAction, ConsolePage
    from kefu.context import PluginContext
    from kefu.db.models import Case, CaseEvent, Deadline
    from kefu.http.route import Route
    from kefu.intake.message import Classification, InboundMessage
    from kefu.jobs import CronJob
    from kefu.kinds import CaseKind

PROJECT = "kefu"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -------------------------------------------------------------------------
# Registration: called at start and at each reload (SIGHUP). Pure: they return
# values the core validates before anything runs; a registration hook that
# raises refuses the start (or the reload, and the old config keeps running).
# -------------------------------------------------------------------------


@hookspec
def kefu_config_section() -> type[BaseModel] | None:
    """Return the pydantic model of this plugin's config section, or None if it has none.

    Called once per plugin when the config file is read, before validation. The
    section is named after the plugin (``[heating]`` for the ``heating`` plugin);
    the model should forbid unknown keys (``extra="forbid"``) and carry the
    business rules' defaults (its README's rule table) as field defaults. The validated section is
    handed back to every other
    hook as ``ctx.config``. Results are not combined: each plugin owns its section.
    """


@hookspec
def kefu_case_kinds(ctx: PluginContext[Any]) -> list[CaseKind]:
    """Return the case kinds this plugin owns, with their deadline policies.

    Called at start and reload, after config validation. Durations must come from
    ``ctx.config`` so a department changes "4 h" without code. A plugin names its
    kinds without its own name (``leak``): the core stores them with it in front
    (``heating.leak``; a name already starting with it is kept) and rejects
    duplicates and unknown escalation recipients before the daemon starts.
    Results of all plugins are concatenated.
    """


@hookspec
def kefu_schedule(ctx: PluginContext[Any]) -> list[CronJob]:
    """Return this plugin's cron jobs (fee reminders, warranty notices, patrol checks).

    Called at start and reload. Jobs are returned, never registered by the plugin:
    the core schedules them, records each firing under (job id, scheduled time)
    before running it so that no two daemons run the same firing, and applies
    the job's missed-run policy after downtime. Job ids are prefixed with the
    plugin name by the core. Results of all plugins are concatenated.
    """


# -------------------------------------------------------------------------
# Intake: one call per new inbound item, after its raw bytes are stored.
# -------------------------------------------------------------------------


@hookspec
def kefu_classify(item: InboundMessage, ctx: PluginContext[Any]) -> Classification | None:
    """Claim a new inbound item: return its case kind, urgency, customer and score, or None.

    Called once for each new item that does not thread onto an existing case, for
    every enabled plugin (or only the plugins the inbox names), each on its own.
    How the answers combine: None, and an answer naming a kind that is not one of
    the answering plugin's registered kinds (``leak`` or ``heating.leak``), are
    dropped; of the rest the highest ``Classification.score`` (how well the item
    matches; 1.0 unless the plugin weighs its answers) wins, and a tie goes to the
    plugin asked first: the plugin of the inbox's ``default_kind``, then ``[plugins]
    enabled`` order. Must be pure (keyword rules over the text, the inbox the item
    came from and ``item.customer_of``, the plugins whose imported customer sent it);
    it runs outside the case transaction. A plugin that raises is logged with the item and the others'
    answers stand; if nobody claims the item it becomes the inbox's default kind
    for staff to triage.
    """


# -------------------------------------------------------------------------
# Cases: called inside the transaction that opens or changes the case, for the
# plugin that owns the case's kind only. What the plugin adds through ctx
# (deadlines, notifications, events) commits or rolls back with the change.
# -------------------------------------------------------------------------


@hookspec
def kefu_case_opened(case: Case, ctx: PluginContext[Any]) -> None:
    """React to a new case of this plugin's kinds: acknowledge, assign, add deadlines.

    Called once, in the transaction that created the case, after the core has set
    the kind's declared deadline policies. Return value ignored. If it raises,
    its savepoint is rolled back, the error is recorded on the case and the case
    stays open for staff; the transaction itself commits.
    """


@hookspec
def kefu_case_changed(case: Case, event: CaseEvent, ctx: PluginContext[Any]) -> None:
    """React to a change of one of this plugin's cases (state, step, reply, callback answer).

    Called for every event recorded on the case after it is opened, in the same
    transaction, for the owner plugin only. Return value ignored; an exception is
    isolated as for :func:`kefu_case_opened`.
    """


@hookspec(firstresult=True)
def kefu_deadline_due(deadline: Deadline, case: Case, ctx: PluginContext[Any]) -> bool | None:
    """Handle a deadline of this plugin's case that the sweep found due.

    Called by the sweep, for the owner plugin only, in the transaction that claims
    the deadline. Return True when the plugin handled it completely (reminded,
    reopened, escalated its own way); return None to let the core apply the
    policy's default warning/escalation chain. An exception rolls back this
    deadline's savepoint; the sweep retries it with backoff and, after repeated
    failures, flags it to staff. Declared ``firstresult``: only the owner is asked,
    so its first (and only) answer is the result.
    """


# -------------------------------------------------------------------------
# Staff tools: called once at start.
# -------------------------------------------------------------------------


@hookspec
def kefu_cli(group: click.Group, ctx: PluginContext[Any]) -> None:
    """Add this plugin's commands to the ``kefu`` command line.

    Called when the CLI is built, for the plugins enabled in the config file (none
    when it cannot be read, so ``kefu --help`` always works). Add one subgroup
    named ``ctx.name`` (``kefu heating import households FILE``). ``ctx`` builds
    the application only when a command uses it; a command finds its plugin's
    context with ``kefu.api.command_context(__name__)`` and works in
    ``with ctx.transaction() as tx:``. Return value ignored. A plugin that raises
    is logged and its commands are missing; the others' are there.
    """


@hookspec
def kefu_http(ctx: PluginContext[Any]) -> list[Route]:
    """Return this plugin's HTTP routes (imports, pushes from other systems, console pages).

    Called once when the listener is built, outside any transaction; pure, like
    datasette's ``register_routes``: the plugin returns ``kefu.api.Route(method,
    path, handler)`` values and the core checks and serves them. Paths must start
    with ``/<plugin name>/`` and be unique; a handler takes a ``Request`` and
    returns a ``Response``. Results of all plugins are concatenated. A plugin that
    raises, or returns a bad route, refuses the start (a registration hook).
    """


@hookspec
def kefu_console_actions(ctx: PluginContext[Any]) -> list[ConsoleAction | ConsolePage]:
    """Return this plugin's actions and pages for the staff console (``kefu.api.ConsoleAction``,
    ``kefu.api.ConsolePage``: a read-only table on the plugin's page, its case numbers linked
    and rows outside the person's scope left out; ``personal=True``: ``rows(ctx, actor)``
    returns only what the signed-in person may see).

    Called once when the console is built (at start and each reload), outside any
    transaction; pure, like :func:`kefu_http`. Each action is a form the console
    draws: on the case page of the plugin's ``kinds`` (``on="case"``) or on the
    plugin's own console page (``on="plugin"``, e.g. heating's outage start). The
    console checks the person's role (``roles``) and scope (their plugins and units)
    before showing or running it, runs ``run(ctx, case, values, actor)`` in one
    transaction with ``ctx`` bound to it, records nothing itself (the plugin's own
    moves record their events with ``actor``) and shows the returned line; a
    ``ValueError`` from ``run`` is shown as the refusal and nothing is written.
    An ``on="plugin"`` action with ``unit_of(ctx, values)`` is scoped by the unit
    it names (a shop, from an order number), as a case is by its own; a page's
    ``unit_column`` scopes rows that are not cases, its ``search`` field makes it
    a lookup (``rows(ctx, query)``; ``rows(ctx, actor, query)`` when also personal).
    Names must be unique per plugin. Results of all plugins are concatenated. A
    plugin that raises, or returns something else, refuses the start (a
    registration hook).
    """


@hookspec
def kefu_template_samples(ctx: PluginContext[Any]) -> dict[str, dict[str, Any]]:
    """Return sample render contexts by template name, for ``kefu check-config``.

    Every template of the plugin is compiled, and each one named here is rendered
    against its sample with undefined variables as errors, so a broken template
    is found before the daemon starts rather than when a customer is due a letter.
    A name without a folder (``"ack.sms.txt"``) is the plugin's own template.
    Called by ``kefu check-config`` once per enabled plugin, outside any
    transaction. Results of all plugins are merged.
    """
