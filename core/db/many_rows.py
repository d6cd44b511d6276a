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
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import UpdateBase


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    values: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # a row's values in bind order
    conversions: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, bind processor)
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
        params: list[Any] = []
        for row in rows:
            values = list(plan.values(row))
            for at, convert in plan.conversions:
                values[at] = convert(values[at])
            params.append(tuple(values) if plan.positional else dict(zip(plan.names, values, strict=True)))
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
        processors = [compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
        conversions = tuple((at, convert) for at, convert in enumerate(processors) if convert is not None)
        getter = itemgetter(*names)
        values = getter if len(names) > 1 else lambda row: (getter(row),)
        plan = self._plans[dialect.name] = _Plan(compiled.string, names, values, conversions, positional)
        return plan
