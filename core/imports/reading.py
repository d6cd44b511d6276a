"""Files to rows of text cells: CSV in UTF-8 (BOM or not) or GB18030, and XLSX workbooks.

Every cell comes out as the text the person saw: Excel's ``="…"`` guard around a
long number is taken off, and a number from a workbook is written out in full
(``123456789012345678``, ``85.5``), never as a float's ``1.23e+17``. openpyxl reads
workbooks (read-only, streaming): it keeps an integer cell exact as the file holds
it, where python-calamine, ten times faster, rounds it through a float — an
18-digit order number would come out wrong.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from kefu.imports.report import Where

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # the OLE2 container of Excel 97-2003 .xls files


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unreadable, not a table, columns missing)."""


@dataclass
class Sheet:
    """The rows of one table: (where, cells) with the rows' original numbering."""

    name: str | None
    rows: list[tuple[Where, list[str]]]
    cut_short: Where | None = None  # the last line of a CSV that ends inside it
    has_nul: bool = False  # a NUL byte somewhere: the rows holding one are bad


@dataclass
class Table:
    """What a file holds: one sheet for a CSV, each sheet of a workbook in order."""

    source: str
    encoding: str
    sheets: list[Sheet] = field(default_factory=list)


def unguard(cell: str) -> str:
    """Excel's ``="0012345"`` (written to keep leading zeros and long numbers) as ``0012345``."""
    if cell.startswith('="') and cell.endswith('"') and len(cell) >= 3:
        return cell[2:-1].replace('""', '"')
    return cell


def decode(data: bytes, where: str) -> tuple[str, str]:
    """The text of a CSV and its encoding: UTF-8 (BOM stripped), else GB18030 (GBK, GB2312).

    A file cut off inside its last character still decodes; the cut row is then
    found by its width.
    """
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            # Only the last character is broken: the file was cut off, not in another encoding.
            if exc.start >= len(data) - 3 and exc.reason.startswith(("unexpected end", "incomplete")):
                return data[: exc.start].decode(encoding), encoding
    raise ImportFileError(
        f"{where}: neither UTF-8 nor GB18030; save the file as UTF-8 CSV "
        "(or GB18030, as Excel writes it) and import again"
    )


def read_csv(data: bytes, source: str) -> Table:
    """A CSV's rows with their first line numbers; cells unguarded, nothing converted."""
    text, encoding = decode(data, source)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[Where, list[str]]] = []
    start = 1
    guarded = '="' in text  # most files have no guard: skip looking at every cell
    try:
        for cells in reader:
            rows.append((Where(start), [unguard(c) for c in cells] if guarded else cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(f"{source}: line {reader.line_num}: {exc}") from exc
    cut = rows[-1][0] if rows and text and not text.endswith(("\n", "\r")) else None
    return Table(source, encoding, [Sheet(None, rows, cut, "\x00" in text)])


def cell_text(value: Any) -> str:
    """A workbook cell as text, numbers in full without exponent, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return unguard(str(value))


def read_xlsx(data: bytes, source: str) -> Table:
    """Every sheet of a workbook, rows numbered as Excel numbers them."""
    import openpyxl  # a workbook import is rare; do not load it for every CSV
    from openpyxl.utils.exceptions import InvalidFileException

    # A damaged workbook fails in the zip, in its XML (SyntaxError) or in openpyxl's reading.
    broken = (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except broken as exc:
        raise ImportFileError(f"{source}: not a readable XLSX workbook ({exc})") from exc
    table = Table(source, "xlsx")
    try:
        for ws in book.worksheets:
            first = ws.min_row or 1
            rows = [
                (Where(first + i, ws.title), [cell_text(v) for v in values])
                for i, values in enumerate(ws.iter_rows(values_only=True))
            ]
            table.sheets.append(Sheet(ws.title, rows))
    except broken as exc:
        raise ImportFileError(f"{source}: not a readable XLSX workbook ({exc})") from exc
    finally:
        book.close()
    return table


def read_table(path: Path | str | None = None, *, data: bytes | None = None, name: str | None = None) -> Table:
    """Read a file (or its bytes): XLSX by its content, anything else as CSV."""
    if data is None:
        if path is None:
            raise TypeError("read_table needs a path or data")
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ImportFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    source = name or (str(path) if path is not None else "data")
    if data.startswith(XLSX_MAGIC):
        return read_xlsx(data, source)
    if data.startswith(XLS_MAGIC):
        raise ImportFileError(
            f"{source}: an Excel 97-2003 workbook (.xls); save it as .xlsx or CSV (UTF-8) and import again"
        )
    return read_csv(data, source)


def iter_cells(sheet: Sheet, start: int) -> Iterator[tuple[Where, list[str]]]:
    """The sheet's rows from index ``start`` on, blank rows left out."""
    for where, cells in sheet.rows[start:]:
        if "".join(cells).strip():
            yield where, cells
