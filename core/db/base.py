"""The declarative base and the column types every table shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

from sqlalchemy import JSON, DateTime, MetaData, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no zone-aware type and hands back naive values; PostgreSQL stores
    ``timestamptz``. Either way the application only ever sees aware UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, one step from an aware datetime to the stored text (see :func:`_sqlite_bind`)."""
        if dialect.name == "sqlite":
            return _sqlite_bind
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """On SQLite, one step from the stored text to an aware UTC datetime (see :func:`_sqlite_result`)."""
        if dialect.name == "sqlite":
            return _sqlite_result
        return super().result_processor(dialect, coltype)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use the clock (aware UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite keeps timestamps as text in SQLAlchemy's DATETIME format, "2026-11-02 01:00:00.000000"
# (always six fraction digits, so that text order is time order). The generic path converts each
# value twice (the impl's regex parse or strftime, then the decorator's zone step), which was most
# of a sweep's Python time; these do it in one C call each way, to and from the same text.


def _sqlite_bind(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database; use the clock (aware UTC)")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_result(value: str | datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.__class__ is str:
        try:
            # The zone parsed in the same C call: a .replace(tzinfo=UTC) after it cost eight times
            # the parse, which was the biggest single cost of reading a sweep's due rows.
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # text that names its own zone (written by hand or another tool)
            parsed = datetime.fromisoformat(value)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    # A value SQLite typed itself (a driver converter, a number): the generic conversion.
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    raise ValueError(f"unreadable timestamp {value!r} in the database")


class Base(DeclarativeBase):
    """Base of every kefu table (plugins' own tables too, prefixed with the plugin name)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


def table_of(model: type[Base]) -> Table:
    """The Core table of ``model``, for Core statements (``__table__`` is typed as a bare FromClause)."""
    return cast(Table, model.__table__)
