"""One INSERT or UPDATE run for many rows, each row's parameters built in one pass.

SQLAlchemy's executemany builds, for every row, a dictionary of every bind, then
a list of the values converted for the driver: on intake's path, thousands of
rows a second, that cost more than the database's own work. :class:`ManyRows`
compiles its statement once per dialect and turns each row straight into what the
driver takes, with the conversions SQLAlchemy would apply (each bind's type's
bind processor: timestamps to UTC text on SQLite, dictionaries to JSON).

Only for statements whose every bind is given by each row: a column default
SQLAlchemy would fill in is not filled in here, so such a statement is refused
when it is first run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import UpdateBase


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool


class ManyRows:
    """A statement to run for many rows at once; each row a mapping of bind name → value."""

    def __init__(self, statement: UpdateBase, names: Sequence[str]) -> None:
        """``names``: the binds every row gives (for an INSERT of a table, its column names)."""
        self.statement = statement
        self.names = tuple(names)
        self._plans: dict[str, _Plan] = {}

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run the statement once per row in ``connection``'s transaction; the rows it touched.

        A row missing one of the names raises ``KeyError`` before anything is run.
        """
        if not rows:
            return 0
        plan = self._plans.get(connection.dialect.name) or self._plan(connection.dialect)
        pairs = tuple(zip(plan.names, plan.processors, strict=True))
        if plan.positional:
            params: list[Any] = [
                tuple(row[name] if convert is None else convert(row[name]) for name, convert in pairs)
                for row in rows
            ]
        else:
            params = [{name: row[name] if convert is None else convert(row[name]) for name, convert in pairs}
                      for row in rows]
        return connection.exec_driver_sql(plan.sql, params).rowcount

    def _plan(self, dialect: Dialect) -> _Plan:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(self.names))
        positional = compiled.positiontup is not None
        names = tuple(compiled.positiontup) if compiled.positiontup is not None else tuple(compiled.binds)
        unknown = [name for name in names if name not in self.names]
        if unknown:
            # A default SQLAlchemy fills in per row, or a bind the rows do not name.
            raise ValueError(f"the statement binds {', '.join(unknown)}, which the rows do not give: "
                             f"{compiled.string}")
        processors = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                           for name in names)
        plan = self._plans[dialect.name] = _Plan(compiled.string, names, processors, positional)
        return plan
