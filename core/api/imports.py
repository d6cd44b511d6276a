"""The import pipeline as plugins use it: row models, importers, running one from a command.

A plugin declares a row model and an :class:`Importer`, then runs it with
:func:`run` in its context's transaction; its command takes :func:`import_options`
and ends with :func:`show_report`. See :mod:`kefu.imports` for what is guaranteed
(bad rows by place, never half-written, re-runs change nothing) and
:mod:`kefu.imports.cli` for the exit codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kefu.imports import (
    BadRow,
    Code,
    Day,
    Importer,
    ImportFileError,
    ImportReport,
    ImportRow,
    LocalTime,
    Number,
    OptionalPhone,
    Outcome,
    Phone,
    RowError,
    Where,
    column,
    run_import,
)
from kefu.imports.cli import EXIT_BAD_ROWS, EXIT_OK, EXIT_REFUSED, import_options, show_report
from kefu.phones import PhoneError, optional_e164, to_e164

__all__ = [
    "EXIT_BAD_ROWS",
    "EXIT_OK",
    "EXIT_REFUSED",
    "BadRow",
    "Code",
    "Day",
    "ImportFileError",
    "ImportReport",
    "ImportRow",
    "Importer",
    "LocalTime",
    "Number",
    "OptionalPhone",
    "Outcome",
    "Phone",
    "PhoneError",
    "RowError",
    "Where",
    "column",
    "import_options",
    "optional_e164",
    "run",
    "show_report",
    "to_e164",
]

R = TypeVar("R", bound=ImportRow)


class _Context(Protocol):
    """What :func:`run` needs of a plugin's context."""

    @property
    def tz(self) -> ZoneInfo: ...

    @property
    def settings(self) -> Any: ...

    def db(self) -> Session: ...


def validation_context(ctx: _Context) -> dict[str, Any]:
    """The values row validators read: the site's zone and its default phone country."""
    return {"tz": ctx.tz, "country": ctx.settings.kefu.default_country}


def run(ctx: _Context, importer: Importer[R], path: Path | str | None = None, *,
        data: bytes | None = None, name: str | None = None, dry_run: bool = False,
        progress: bool | None = None) -> ImportReport:
    """Run ``importer`` over a file (or its bytes) in ``ctx``'s transaction."""
    return run_import(importer, ctx.db(), path, data=data, name=name, dry_run=dry_run,
                      context=validation_context(ctx), progress=progress)
