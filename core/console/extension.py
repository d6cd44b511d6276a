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


# rows(ctx), with the signed-in person's staff key for a ``personal`` page and the query as typed
# (stripped) for a page with a ``search`` field: rows(ctx[, actor][, query]).
PageRows = Callable[..., tuple[list[str], list[list[str]]]]
ActionRun = Callable[["PluginContext[Any]", "Case | None", Mapping[str, str], str], str]
UnitOf = Callable[["PluginContext[Any]", Mapping[str, str]], "str | None"]


@dataclass(frozen=True)
class ConsoleAction:
    """One action of a plugin in the console.

    ``name`` is unique within the plugin (the form posts to it); ``label`` is the
    button, in Chinese. ``run(ctx, case, values, actor)`` acts (``case`` is None for
    ``on="plugin"``), ``actor`` being the signed-in person's staff key, and returns
    the line the page shows. ``roles`` limits it to console roles (empty: every role
    that sees the case); ``states`` to cases in those states (empty: any).

    An ``on="plugin"`` action has no case to scope it by: ``unit_of(ctx, values)`` names the
    unit it acts on (a shop, found by the order number typed), in the same transaction just
    before ``run``, and the console refuses (403) a person whose units leave it out, as it
    does for a case of that unit; it raises ``ValueError`` to refuse (no such order).

    ``confirm`` (a question, in Chinese) asks for a tick before an action that is not easily
    undone (a refund, a month approved): the form draws it as a required checkbox
    (``name="confirmed" value="1"``, labelled with the text), so the browser will not submit
    without it, script or not, and the console refuses a post without ``confirmed=1``
    with its message, before ``run``: nothing is written. A field may not be named
    ``confirmed`` then.
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
    unit_of: UnitOf | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.on not in ("case", "plugin"):
            raise ValueError(f"console action {self.name}: on must be 'case' or 'plugin', not {self.on!r}")
        if self.confirm and any(f.name == "confirmed" for f in self.fields):
            raise ValueError(f"console action {self.name}: the field name 'confirmed' is the confirm tick's")


@dataclass(frozen=True)
class ConsolePage:
    """A read-only table on the plugin's console page (heating's 回访电话表).

    ``rows(ctx)`` returns (column titles, rows of cells), read in a transaction of its own;
    ``case_column`` is the index of the column holding case numbers: those cells link to
    the case, and rows of cases outside the person's scope are left out. ``unit_column`` is
    the index of a column holding the unit (a shop): rows of units outside the person's
    units are left out, for rows that are not cases (orders, transfers). With ``search``
    the page draws that field as a search form (GET) above the table, and calls
    ``rows(ctx, query)``; nothing is listed before a query is given. ``personal``:
    ``rows(ctx, actor)`` gets the signed-in person's staff key and returns only what that
    person may see (hr: one's own attendance; a manager's department), for records the
    console's plugin/unit scope cannot express; with both, ``rows(ctx, actor, query)``.
    ``roles`` as for :class:`ConsoleAction`.
    """

    name: str
    title: str
    rows: PageRows
    case_column: int | None = None
    roles: tuple[str, ...] = ()
    unit_column: int | None = None
    search: ConsoleField | None = None
    personal: bool = False
