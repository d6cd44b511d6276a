"""Who may see and do what in the console: roles with scopes from ``[staff.access]``.

A case is in a person's scope when its plugin is one of theirs (or they have all)
and, unless they are a head or admin, its unit is one of theirs (or they have all
units); ``self`` (an employee) sees no case, only their plugins' pages, whose
personal tables (``ConsolePage(personal=True)``) the plugin fills with what that
person may see. The same rule filters every list (a SQL condition) and guards every case
page and action (403), so a case one cannot open is never listed either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, true

from kefu.db.models import Case
from kefu.secrets import mask
from kefu.staff_config import Access, StaffSection


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, with the scope of their role."""

    key: str
    name: str
    role: str
    plugins: tuple[str, ...]
    units: tuple[str, ...]
    see_customer: bool

    @property
    def is_head(self) -> bool:
        """Heads and admins: every unit of their plugins, and the health summary."""
        return self.role in ("head", "admin")

    def may_see(self, case: Case) -> bool:
        """Whether ``case`` is in this person's scope."""
        if self.role == "self":
            return False
        if self.plugins and case.plugin not in self.plugins:
            return False
        return self.may_act_in(case.unit)

    def may_act_in(self, unit: str | None) -> bool:
        """Whether ``unit`` (a case's, or the one a page action acts on) is in this person's units."""
        return self.is_head or not self.units or unit in self.units

    def may_use(self, plugin: str) -> bool:
        """Whether this person works for ``plugin`` (its own actions and pages)."""
        return not self.plugins or plugin in self.plugins

    def scope(self) -> ColumnElement[bool]:
        """The SQL condition on ``cases`` that :meth:`may_see` is."""
        if self.role == "self":
            return false()
        parts: list[ColumnElement[bool]] = []
        if self.plugins:
            parts.append(Case.plugin.in_(self.plugins))
        if not self.is_head and self.units:
            parts.append(Case.unit.in_(self.units))
        return and_(true(), *parts) if parts else true()

    def customer_text(self, value: str | None) -> str:
        """A customer's phone, mail or name as this person may see it (masked as in logs otherwise)."""
        if not value:
            return ""
        if self.see_customer:
            return value
        if value.startswith("+86") and "@" not in value:
            return "+86" + mask(value[3:])  # 138****5678 as people know it, not +86*******5678
        return mask(value)


def viewer_of(staff: StaffSection, key: str, enabled: Sequence[str]) -> Viewer | None:
    """The console identity of ``key``, or None if they have no ``[staff.access]`` entry."""
    person = staff.people.get(key)
    access: Access | None = staff.access.get(key)
    if person is None or access is None:
        return None
    plugins = tuple(p for p in access.plugins if p in enabled) if access.plugins else ()
    if access.plugins and not plugins:
        plugins = ("-",)  # their plugins are all disabled: they see nothing, not everything
    if access.role == "admin":
        plugins = ()
    see = access.see_customer if access.see_customer is not None else access.role not in ("duty", "self")
    return Viewer(key, person.name, access.role, plugins, tuple(access.units), see)


def nothing() -> Any:
    """A condition no case meets."""
    return false()
