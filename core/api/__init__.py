"""``kefu.api``: the one module a plugin imports from the core.

Everything a plugin needs is named here, and nothing else: the hook marker, the
context it acts through (``PluginContext[ItsConfig]``), the values its hooks
return (case kinds and their deadline policies, cron jobs, classifications,
routes), the types its hooks receive (the inbound message, the ORM rows of cases,
customers, deadlines … — to read; change them through ``ctx``), the errors it may
raise or catch, and the command-line helpers of its ``kefu <plugin> …`` commands.
Submodules (``kefu.api.imports``, ``kefu.api.tables``) add the import pipeline and
plugin-owned tables. A contract test (tests/contract/test_import_boundary.py)
fails when a plugin imports any other ``kefu`` module than these and its own package.

A plugin's hooks module starts like this::

    from kefu.api import CaseKind, Classification, InboundMessage, PluginContext, hookimpl

    Ctx = PluginContext[MyConfig]

    @hookimpl
    def kefu_case_kinds(ctx: Ctx) -> list[CaseKind]:
        return [CaseKind(name=f"{ctx.name}.request", title="请求", prefix="RQ")]

See docs/plugins.md for the whole guide.
"""

from kefu.cli.plugin_commands import command_context, emit, json_option
from kefu.console.extension import ConsoleAction, ConsoleField, ConsolePage
from kefu.context import PluginContext
from kefu.db.models import (
    Attachment,
    Case,
    CaseEvent,
    Customer,
    Deadline,
    InboundItem,
    Letter,
    OutboxMessage,
    RotaShift,
)
from kefu.durations import Duration, format_duration, parse_duration
from kefu.hookspecs import hookimpl
from kefu.http.route import Route
from kefu.http.router import Request, Response
from kefu.intake.message import Classification, InboundMessage
from kefu.jobs import CronJob
from kefu.kinds import DONE_STATES, OPEN_STATES, CaseKind, DeadlinePolicy, Level, WholeDays
from kefu.outbound.bulk import OutboxItem
from kefu.phones import OptionalPhone, Phone
from kefu.plugin_host import PluginError
from kefu.secrets import mask
from kefu.sla.calendar import WorkCalendar
from kefu.sla.cases import CaseError, TransitionRefused
from kefu.sla.lifecycle import IllegalTransition
from kefu.sla.recipients import UnknownRecipient
from kefu.staff_config import Person
from kefu.templating import Rendered, RenderError

__all__ = [
    "DONE_STATES",
    "OPEN_STATES",
    "Attachment",
    "Case",
    "CaseError",
    "CaseEvent",
    "CaseKind",
    "Classification",
    "ConsoleAction",
    "ConsoleField",
    "ConsolePage",
    "CronJob",
    "Customer",
    "Deadline",
    "DeadlinePolicy",
    "Duration",
    "IllegalTransition",
    "InboundItem",
    "InboundMessage",
    "Letter",
    "Level",
    "OptionalPhone",
    "OutboxItem",
    "OutboxMessage",
    "Person",
    "Phone",
    "PluginContext",
    "PluginError",
    "RenderError",
    "Rendered",
    "Request",
    "Response",
    "RotaShift",
    "Route",
    "TransitionRefused",
    "UnknownRecipient",
    "WholeDays",
    "WorkCalendar",
    "command_context",
    "emit",
    "format_duration",
    "hookimpl",
    "json_option",
    "mask",
    "parse_duration",
]
