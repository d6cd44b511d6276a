"""What a plugin adds to the staff console (``kefu_console_actions``): typed actions and pages.

An action is a form: on a case page (``kinds`` names the plugin's own case kinds it
applies to) or on the plugin's page of the console (``on="plugin"``, no case: an
outage that starts now). The console draws the form from ``fields``, checks the
person's role and scope, runs ``run`` in one transaction through the plugin's own
context, and shows what it returns. ``run`` raises any ``ValueError`` (CaseError,
the plugin's own refusal) to refuse with its message; nothing is then written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kefu.context import PluginContext
    from kefu.db.models import Case

FIELD_TYPES = ("text", "textarea", "select", "number", "datetime")


@dataclass(frozen=True)
class ConsoleField:
    """One input of an action's form; ``choices`` (value, label) for a ``select``."""

    name: str
    label: str
    type: str = "text"
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"console field {self.name}: unknown type {self.type!r}; one of {', '.join(FIELD_TYPES)}")


PageRows = Callable[..., tuple[list[str], list[list[str]]]]
ActionRun = Callable[["PluginContext[Any]", "Case | None", Mapping[str, str], str], str]


@dataclass(frozen=True)
class ConsoleAction:
    """One action of a plugin in the console.

    ``name`` is unique within the plugin (the form posts to it); ``label`` is the
    button, in Chinese. ``run(ctx, case, values, actor)`` acts (``case`` is None for
    ``on="plugin"``), ``actor`` being the signed-in person's staff key, and returns
    the line the page shows. ``roles`` limits it to console roles (empty: every role
    that sees the case); ``states`` to cases in those states (empty: any).
    """

    name: str
    label: str
    run: ActionRun
    on: str = "case"
    kinds: tuple[str, ...] = ()
    fields: tuple[ConsoleField, ...] = ()
    roles: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    confirm: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.on not in ("case", "plugin"):
            raise ValueError(f"console action {self.name}: on must be 'case' or 'plugin', not {self.on!r}")


@dataclass(frozen=True)
class ConsolePage:
    """A read-only table on the plugin's console page (heating's 回访电话表).

    ``rows(ctx)`` returns (column titles, rows of cells), read in a transaction of its own;
    ``case_column`` is the index of the column holding case numbers: those cells link to
    the case, and rows of cases outside the person's scope are left out. ``roles`` as for
    :class:`ConsoleAction`. ``personal``: ``rows(ctx, actor)`` gets the signed-in person's
    staff key and returns only what that person may see (hr: one's own attendance; a
    manager's department), for records the console's plugin/unit scope cannot express.
    """

    name: str
    title: str
    rows: PageRows
    case_column: int | None = None
    roles: tuple[str, ...] = ()
    personal: bool = False
