"""Running an import: rows validated, checked and written in batches, bad ones set aside.

Each batch of rows is written inside its own SAVEPOINT. When a row's write fails
(a RowError from ``apply`` or the database refusing it) the batch is rolled back
and written again one row per SAVEPOINT, so the failing row is left out whole and
every other row still lands: nothing is ever half-written. A row that fails its
model or its ``check`` has written nothing and costs nothing more. A re-run changes
nothing because each import keys its rows (``key``) and ``apply`` compares before
it writes. ``dry_run`` does all of it and rolls everything back at the end.
The commands commit the whole file at the end, so a file cut short by a kill
leaves nothing behind and is simply imported again.
"""

from __future__ import annotations

import sys
from collections.abc import Hashable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

import click
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kefu.imports.fields import ImportRow, headers_of, title_span
from kefu.imports.header import Header, find_header, required_fields
from kefu.imports.reading import iter_cells, read_table
from kefu.imports.report import BadRow, Change, ImportReport, Outcome, Where

R = TypeVar("R", bound=ImportRow)

BATCH_ROWS = 500
PROGRESS_FROM = 2000  # rows: a file smaller than this is done before a bar would help


class RowError(ValueError):
    """A row that cannot be imported; raise it from ``check`` or ``apply``, naming the column."""

    def __init__(self, reason: str, column: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column


class Importer(Generic[R]):
    """One kind of import: its row model, natural key and what a row writes.

    Subclasses set ``name`` and ``row_model`` and implement :meth:`apply`; the rest
    has defaults. ``check`` only reads (a row it refuses has written nothing);
    ``apply`` writes and returns created/updated/unchanged, comparing first so a
    re-run reports unchanged. Caches loaded in ``start`` are loaded again after a
    rolled-back write, so they never hold a row that was undone.
    """

    name: str = "rows"
    row_model: type[R]
    noun: str = ""
    key_label: str = "key"
    missing_hint: str = ""

    def headers(self) -> dict[str, tuple[str, ...]]:
        """Each field's accepted headers (the row model's, unless config names them)."""
        return headers_of(self.row_model)

    def required(self) -> list[str]:
        """The columns a file must have: the row model's fields without a default."""
        return required_fields(self.row_model)

    def key(self, row: R) -> Hashable | None:
        """The row's natural key: a second row with the same key in one file is a bad row."""
        return None

    def start(self, session: Session) -> None:
        """Load what the import compares against (called again after a rollback)."""

    def prepare(self, session: Session, rows: list[R]) -> None:
        """Load what this batch's rows compare against, before they are checked and written.

        Called for each batch (and again for the rows left after a rollback), so an
        import whose table grows for years loads only the keys its file's rows can
        meet instead of every stored key in ``start``.
        """

    def check(self, row: R) -> None:
        """Refuse a row by raising :class:`RowError`, before anything is written."""

    def apply(self, session: Session, row: R) -> Outcome:
        """Write one row; ``created``, ``updated`` or ``unchanged``."""
        raise NotImplementedError

    def end_batch(self, session: Session) -> None:
        """Write what ``apply`` deferred for the batch (bulk inserts)."""

    def finish(self, session: Session, report: ImportReport) -> None:
        """After the last batch: notes, notifications, summaries."""


def _label(header: Header, field: str) -> str:
    shown = header.labels.get(field, field)
    return field if shown.strip().lower() == field else f"{field} ({shown})"


def _reason(err: Mapping[str, Any]) -> str:
    if err["type"] == "missing":
        return "is empty"
    message = str(err["msg"])
    if message.startswith("Value error, "):
        return message.removeprefix("Value error, ")
    return f"{message[:1].lower()}{message[1:]} (got {err.get('input')!r})"


def _invalid(where: Where, exc: ValidationError, header: Header) -> BadRow:
    errors = exc.errors()
    parts = []
    for err in errors:
        field = str(err["loc"][0]) if err["loc"] else ""
        parts.append((_label(header, field) if field else None, _reason(err)))
    column, reason = parts[0]
    rest = "; ".join(f"{c}: {r}" if c else r for c, r in parts[1:])
    return BadRow(where, reason + (f"; {rest}" if rest else ""), column)


def _refused(where: Where, exc: Exception) -> BadRow:
    if isinstance(exc, RowError):
        return BadRow(where, exc.reason, exc.column)
    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None) or exc
        first = (str(orig).splitlines() or [type(orig).__name__])[0]
        return BadRow(where, f"the database refused the row ({first})")
    return BadRow(where, str(exc))


def _show_key(key: Hashable) -> str:
    if isinstance(key, tuple):
        return "/".join(str(k) for k in key)
    return repr(key)


class _Run(Generic[R]):
    """The state of one import while it runs."""

    def __init__(
        self,
        importer: Importer[R],
        session: Session,
        report: ImportReport,
        header: Header,
        context: Mapping[str, Any],
    ) -> None:
        self.importer = importer
        self.session = session
        self.report = report
        self.header = header
        self.context = dict(context)
        self.seen: dict[Hashable, Where] = {}
        self.width = header.width
        self.cut = header.sheet.cut_short
        self.workbook = header.sheet.name is not None
        self.nul = header.sheet.has_nul
        self.columns = sorted(header.columns.items())
        self.many = TypeAdapter(list[importer.row_model])  # type: ignore[name-defined]

    def cells(self, where: Where, cells: list[str]) -> dict[str, str] | BadRow:
        """A row's non-empty cells by field, or why its width is wrong."""
        width = len(cells)
        if width != self.width:
            filled = width
            while filled and not cells[filled - 1].strip():
                filled -= 1
            if not self.workbook and (width < self.width or filled > self.width):
                cut = " (the file ends inside this line)" if where == self.cut else ""
                return BadRow(where, f"has {width} fields where the header has {self.width}{cut}")
            if filled > self.width:
                return BadRow(where, f"has cells beyond the header's {self.width} columns")
        if self.nul and any("\x00" in c for c in cells):
            # A NUL is a damaged file; PostgreSQL could not store it and SQLite should not either.
            return BadRow(where, "holds a NUL byte (the file is damaged here)")
        return {name: cell for i, name in self.columns if i < width and (cell := cells[i]) and not cell.isspace()}

    def parse(self, chunk: list[tuple[Where, list[str]]]) -> list[tuple[Where, R, Hashable | None]]:
        """Validate a chunk of rows (in one call while they are all good); bad ones to the report."""
        filled: list[tuple[Where, dict[str, str]]] = []
        for where, cells in chunk:
            values = self.cells(where, cells)
            if isinstance(values, BadRow):
                self.report.bad.append(values)
            else:
                filled.append((where, values))
        rows: list[R | BadRow]
        try:
            rows = self.many.validate_python([v for _, v in filled], context=self.context)
        except ValidationError:  # at least one bad row: validate each, to tell which
            rows = [self.one(where, values) for where, values in filled]
        batch: list[tuple[Where, R, Hashable | None]] = []
        for (where, _values), row in zip(filled, rows, strict=True):
            if isinstance(row, BadRow):
                self.report.bad.append(row)
                continue
            key = self.importer.key(row)
            if key is not None:
                first = self.seen.get(key)
                if first is not None:
                    self.report.bad.append(
                        BadRow(
                            where,
                            f"{self.importer.key_label} {_show_key(key)} already given on {first}",
                        )
                    )
                    continue
                self.seen[key] = where
            batch.append((where, row, key))
        return batch

    def one(self, where: Where, values: dict[str, str]) -> R | BadRow:
        """One row validated on its own: the row, or why it is bad."""
        try:
            return self.importer.row_model.model_validate(values, context=self.context)
        except ValidationError as exc:
            return _invalid(where, exc, self.header)

    def write(self, batch: list[tuple[Where, R, Hashable | None]]) -> None:
        """Write a batch in one SAVEPOINT; on a failed write, again row by row."""
        done: list[tuple[Where, Hashable | None, Outcome]] = []
        bad: list[BadRow] = []
        self.importer.prepare(self.session, [row for _, row, _ in batch])
        savepoint = self.session.begin_nested()
        try:
            for where, row, key in batch:
                try:
                    self.importer.check(row)
                except ValueError as exc:
                    bad.append(self.refuse(where, key, exc))
                    continue
                done.append((where, key, self.importer.apply(self.session, row)))
            self.importer.end_batch(self.session)
            self.session.flush()
        except (ValueError, SQLAlchemyError):
            savepoint.rollback()
            self.importer.start(self.session)
            done, bad = self.write_each(batch)
        else:
            savepoint.commit()
        self.record(done, bad)

    def write_each(
        self, batch: list[tuple[Where, R, Hashable | None]]
    ) -> tuple[list[tuple[Where, Hashable | None, Outcome]], list[BadRow]]:
        """The batch again, each row in its own SAVEPOINT, so only the failing row is left out."""
        done: list[tuple[Where, Hashable | None, Outcome]] = []
        bad: list[BadRow] = []
        self.importer.prepare(self.session, [row for _, row, _ in batch])
        for i, (where, row, key) in enumerate(batch):
            try:
                self.importer.check(row)
            except ValueError as exc:
                bad.append(self.refuse(where, key, exc))
                continue
            savepoint = self.session.begin_nested()
            try:
                outcome = self.importer.apply(self.session, row)
                self.importer.end_batch(self.session)
                self.session.flush()
            except (ValueError, SQLAlchemyError) as exc:
                savepoint.rollback()
                bad.append(self.refuse(where, key, exc))
                self.importer.start(self.session)
                self.importer.prepare(self.session, [r for _, r, _ in batch[i + 1 :]])
                continue
            savepoint.commit()
            done.append((where, key, outcome))
        return done, bad

    def record(self, done: list[tuple[Where, Hashable | None, Outcome]], bad: list[BadRow]) -> None:
        """Count a written batch."""
        for where, key, outcome in done:
            self.report.count(outcome)
            if self.report.dry_run and outcome != "unchanged":
                self.report.changes.append(Change(where, "" if key is None else _show_key(key), outcome))
        self.report.bad.extend(bad)

    def refuse(self, where: Where, key: Hashable | None, exc: Exception) -> BadRow:
        """A row refused by its import; it no longer makes a later row with its key a duplicate."""
        if key is not None and self.seen.get(key) == where:
            del self.seen[key]
        return _refused(where, exc)


@contextmanager
def _progress(total: int, label: str, show: bool | None) -> Iterator[Any]:
    wanted = show if show is not None else (total > PROGRESS_FROM and sys.stderr.isatty())
    if not wanted:
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar


def run_import(
    importer: Importer[R],
    session: Session,
    path: Path | str | None = None,
    *,
    data: bytes | None = None,
    name: str | None = None,
    dry_run: bool = False,
    context: Mapping[str, Any] | None = None,
    progress: bool | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportReport:
    """Import a CSV or XLSX file (or its bytes) with ``importer`` in ``session``'s transaction.

    ``context`` reaches the row model's validators (``tz``, ``country``; ``span``, the
    dates the lines above the header name, places a date written without its year). A file
    that cannot be read or lacks a required column raises ImportFileError before
    anything is written; bad rows are in the report and the good rows are written.
    """
    table = read_table(path, data=data, name=name)
    header = find_header(table, importer.row_model, importer.missing_hint, importer.headers(), importer.required())
    rows = list(iter_cells(header.sheet, header.index + header.height))
    report = ImportReport(
        importer.name,
        source=table.source,
        encoding=table.encoding,
        noun=importer.noun,
        dry_run=dry_run,
    )
    outer = session.begin_nested() if dry_run else None
    span = title_span([" ".join(cells) for _where, cells in header.sheet.rows[: header.index]])
    run = _Run(importer, session, report, header, {**({"span": span} if span else {}), **(context or {})})
    importer.start(session)
    with _progress(len(rows), f"{importer.name}", progress) as bar:
        for offset in range(0, len(rows), batch_rows):
            chunk = rows[offset : offset + batch_rows]
            report.read += len(chunk)
            run.write(run.parse(chunk))
            if bar is not None:
                bar.update(len(chunk))
    importer.finish(session, report)
    session.flush()
    report.bad.sort(key=lambda b: (b.where.sheet or "", b.where.row))
    if outer is not None:
        outer.rollback()
    return report
