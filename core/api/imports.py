"""The import pipeline as plugins use it: row models, importers, running one from a command.

A plugin declares what a row holds, what identifies it, and what it writes; the
pipeline does the rest — CSV (UTF-8, BOM, GB18030) or XLSX, the header row even
under a title (or two header rows, a merged group over its sub-headers, joined as
``上班1打卡时间``), bad rows by place, batches never half-written, dry runs, the
report, the exit codes (:mod:`kefu.imports.cli`)::

    from kefu.api.imports import (Code, Importer, ImportRow, Number, OptionalPhone, Outcome,
                                  RowError, column, import_options, run, show_report)

    class StallRow(ImportRow):
        stall: Code = column("摊位号", "stall_no")             # required: no default
        tenant: str = column("商户", "租户")
        phone: OptionalPhone = column("电话", "手机", default=None)   # E.164 out
        rent: Number = column("月租金", "租金", default=0.0)

    class StallImport(Importer[StallRow]):
        name, row_model, key_label = "stalls", StallRow, "stall"

        def key(self, row: StallRow) -> str:             # a second row with it is a bad row
            return row.stall

        def start(self, session) -> None:                # load what is there (again after a rollback)
            self.known = {...}

        def check(self, row: StallRow) -> None:          # read-only: refuse before writing
            if row.rent < 0:
                raise RowError("rent cannot be negative", "rent")

        def apply(self, session, row: StallRow) -> Outcome:
            ...                                          # compare, write, say what happened
            return "created"

    @click.command("stalls")
    @click.argument("file", type=click.Path(exists=True, path_type=Path))
    @import_options                                      # --dry-run, --json
    def import_stalls(file: Path, dry_run: bool, as_json: bool) -> None:
        with command_context() as ctx:                   # the plugin's context in a transaction
            report = run(ctx, StallImport(), file, dry_run=dry_run)
        show_report(report, as_json)                     # summary line; exit 2 if rows were bad

``check`` and ``apply`` raise :class:`RowError` (or ValueError) for a bad row;
:class:`ImportFileError` means the file as a whole was refused.
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
    Span,
    Where,
    column,
    parse_day,
    run_import,
)
from kefu.imports.cli import EXIT_BAD_ROWS, EXIT_OK, EXIT_REFUSED, import_options, show_report
from kefu.phones import DEFAULT_COUNTRY, PhoneError, optional_e164, to_e164

__all__ = [
    "DEFAULT_COUNTRY",
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
    "Span",
    "Where",
    "column",
    "import_options",
    "optional_e164",
    "parse_day",
    "run",
    "run_import",
    "show_report",
    "to_e164",
    "validation_context",
]

R = TypeVar("R", bound=ImportRow)


class _Context(Protocol):
    """What :func:`run` needs of a plugin's context."""

    @property
    def tz(self) -> ZoneInfo: ...

    @property
    def default_country(self) -> str: ...

    def db(self) -> Session: ...


def validation_context(ctx: _Context) -> dict[str, Any]:
    """The values row validators read: the site's zone and its default phone country."""
    return {"tz": ctx.tz, "country": ctx.default_country}


def run(
    ctx: _Context,
    importer: Importer[R],
    path: Path | str | None = None,
    *,
    data: bytes | None = None,
    name: str | None = None,
    dry_run: bool = False,
    progress: bool | None = None,
) -> ImportReport:
    """Run ``importer`` over a file (or its bytes) in ``ctx``'s transaction."""
    return run_import(
        importer,
        ctx.db(),
        path,
        data=data,
        name=name,
        dry_run=dry_run,
        context=validation_context(ctx),
        progress=progress,
    )
