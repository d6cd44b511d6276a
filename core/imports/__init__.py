"""The one import pipeline: CSV (UTF-8, GB18030) and XLSX files into typed rows, then the database.

An import declares its row model (:class:`ImportRow` with :func:`column` headers),
its natural key and what a row writes (:class:`Importer`); :func:`run_import`
does the rest: decoding, the header row, bad rows by place, batches that are never
half-written, dry runs and the report. :mod:`kefu.imports.cli` gives commands
their ``--dry-run`` and ``--json`` options, progress bar, summary and exit codes.
"""

from kefu.imports.fields import (
    Code,
    Day,
    ImportRow,
    LocalTime,
    Number,
    OptionalPhone,
    Phone,
    Span,
    column,
    headers_of,
    parse_day,
    parse_local_time,
    title_span,
)
from kefu.imports.reading import ImportFileError, Table, read_table
from kefu.imports.report import BadRow, Change, ImportReport, Outcome, Where
from kefu.imports.runner import Importer, RowError, run_import

__all__ = [
    "BadRow",
    "Change",
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
    "RowError",
    "Span",
    "Table",
    "Where",
    "column",
    "headers_of",
    "parse_day",
    "parse_local_time",
    "read_table",
    "run_import",
    "title_span",
]
