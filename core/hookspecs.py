# mypy: disable-error-code="empty-body"
# Hook specifications have no bodies: their docstrings are the contract.
"""The contract between the kefu core and its plugins.

Every hook a plugin may implement is declared here, in the order the daemon calls
them: registration at start (and again at each reload), then intake, then cases
and their deadlines, then the staff tools. A plugin implements a hook by defining
a function of the same name decorated with :data:`kefu.hookspecs.hookimpl` in its
``hooks`` module, which is registered through the ``kefu.plugins`` entry point
group exactly like a third-party plugin's.

The core never lets pluggy call a whole hook at once: it calls each plugin's
implementation itself (see :mod:`kefu.plugin_calls`) so that one plugin's exception
is logged with its name and isolated — inside a savepoint where a transaction is
open — and the others go on. How results combine is stated per hook below.

``ctx`` is always the calling plugin's own :class:`kefu.context.PluginContext`:
its name, its validated config section, the clock, the time zone and, for hooks
called inside a transaction, the database session through which the plugin adds
events, deadlines and notifications.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from pydantic import BaseModel

    from kefu.context import PluginContext
    from kefu.db.models import Case, CaseEvent, Deadline
    from kefu.http.router import Router
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
    business rules' defaults (its README's rule table) as field defaults. The validated section is handed back to every other
    hook as ``ctx.config``. Results are not combined: each plugin owns its section.
    """


@hookspec
def kefu_case_kinds(ctx: PluginContext) -> list[CaseKind]:
    """Return the case kinds this plugin owns, with their deadline policies.

    Called at start and reload, after config validation. Durations must come from
    ``ctx.config`` so a department changes "4 h" without code. Kind names must
    start with the plugin's name (``heating.leak``); the core rejects duplicates,
    bad prefixes and unknown escalation recipients before the daemon starts.
    Results of all plugins are concatenated.
    """


@hookspec
def kefu_schedule(ctx: PluginContext) -> list[CronJob]:
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


@hookspec(firstresult=True)
def kefu_classify(item: InboundMessage, ctx: PluginContext) -> Classification | None:
    """Claim a new inbound item: return its case kind, urgency and customer, or None.

    Called once for each new item that does not thread onto an existing case, in
    the order of ``[plugins] enabled``; the first non-None answer wins and the
    remaining plugins are not asked. Must be pure (keyword rules over the text and
    the inbox the item came from); it runs outside the case transaction. A plugin
    that raises here is logged and skipped; if nobody claims the item it becomes
    the inbox's default kind for staff to triage.
    """


# -------------------------------------------------------------------------
# Cases: called inside the transaction that opens or changes the case, for the
# plugin that owns the case's kind only. What the plugin adds through ctx
# (deadlines, notifications, events) commits or rolls back with the change.
# -------------------------------------------------------------------------


@hookspec
def kefu_case_opened(case: Case, ctx: PluginContext) -> None:
    """React to a new case of this plugin's kinds: acknowledge, assign, add deadlines.

    Called once, in the transaction that created the case, after the core has set
    the kind's declared deadline policies. Return value ignored. If it raises,
    its savepoint is rolled back, the error is recorded on the case and the case
    stays open for staff; the transaction itself commits.
    """


@hookspec
def kefu_case_changed(case: Case, event: CaseEvent, ctx: PluginContext) -> None:
    """React to a change of one of this plugin's cases (state, step, reply, callback answer).

    Called for every event recorded on the case after it is opened, in the same
    transaction, for the owner plugin only. Return value ignored; an exception is
    isolated as for :func:`kefu_case_opened`.
    """


@hookspec(firstresult=True)
def kefu_deadline_due(deadline: Deadline, case: Case, ctx: PluginContext) -> bool | None:
    """Handle a deadline of this plugin's case that the sweep found due.

    Called by the sweep, for the owner plugin only, in the transaction that claims
    the deadline. Return True when the plugin handled it completely (reminded,
    reopened, escalated its own way); return None to let the core apply the
    policy's default warning/escalation chain. An exception rolls back this
    deadline's savepoint; the sweep retries it with backoff and, after repeated
    failures, flags it to staff. Declared ``firstresult``: only the owner is asked,
    so its (first and only) answer is the result.
    """


# -------------------------------------------------------------------------
# Staff tools: called once at start.
# -------------------------------------------------------------------------


@hookspec
def kefu_cli(group: click.Group) -> None:
    """Add this plugin's commands to the ``kefu`` command line.

    Called when the CLI is built, for the plugins enabled in the config file (none
    when it cannot be read, so ``kefu --help`` always works). Add one subgroup
    named after the plugin (``kefu heating import households FILE``); a command
    gets the running application with :func:`kefu.cli.appctx.obtain_app`. Return
    value ignored.
    """


@hookspec
def kefu_http(router: Router, ctx: PluginContext) -> None:
    """Add this plugin's HTTP routes (imports, pushes from other systems) to the listener.

    Called once at start. Paths must start with ``/<plugin name>/``; the listener
    binds to loopback unless configured otherwise. Return value ignored.
    """


@hookspec
def kefu_template_samples(ctx: PluginContext) -> dict[str, dict[str, Any]]:
    """Return sample render contexts by template name, for ``kefu check-config``.

    Every template of the plugin is compiled, and each one named here is rendered
    against its sample with undefined variables as errors, so a broken template
    is found before the daemon starts rather than when a customer is due a letter.
    Called by ``kefu check-config`` once per enabled plugin, outside any
    transaction. Results of all plugins are merged.
    """
