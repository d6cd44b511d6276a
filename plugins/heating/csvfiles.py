"""Reading the CSV files stations and the finance office export: UTF-8 or GB18030, any header language.

A file is decoded as UTF-8 (with or without BOM) and, failing that, as GB18030
(which covers GB2312 and GBK, what Excel on a Chinese Windows writes). Headers may
be English or Chinese; each import declares its columns with their aliases. Rows
that fail are reported with their line number and do not stop the others.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")


class CsvError(ValueError):
    """The file as a whole cannot be read (encoding, missing columns)."""


@dataclass
class ImportReport:
    """What an import did: rows read, created, updated, unchanged, and bad rows by line."""

    name: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people: counts, then the number of bad rows."""
        return (
            f"{self.name}: {self.read} rows read, {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.errors)} bad"
        )


def decode(raw: bytes, where: str) -> str:
    """UTF-8 (BOM stripped) or GB18030; an error naming the file otherwise."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvError(f"{where}: neither UTF-8 nor GB18030; save the file as UTF-8 CSV and import again")


def read_rows(
    path: Path | str, columns: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row by canonical column) for every non-empty data row.

    ``columns`` maps a canonical name to the header spellings accepted for it.
    """
    p = Path(path)
    text = decode(p.read_bytes(), str(p))
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise CsvError(f"{p}: the file is empty; the first line must name the columns") from None
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        clean = name.strip().lower()
        for canonical, aliases in columns.items():
            if clean == canonical or clean in (a.lower() for a in aliases):
                index.setdefault(canonical, i)
    missing = [c for c in required if c not in index]
    if missing:
        wanted = "; ".join(f"{c} ({'/'.join(columns[c])})" for c in missing)
        raise CsvError(f"{p}: line 1: missing column(s) {wanted}")
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        yield line, {c: (row[i].strip() if i < len(row) else "") for c, i in index.items()}


def each_row(
    report: ImportReport,
    rows: Iterator[tuple[int, dict[str, str]]],
    handle: Callable[[int, dict[str, str]], str],
) -> None:
    """Call ``handle`` per row; it returns created/updated/unchanged; a ValueError is a bad row."""
    for line, row in rows:
        report.read += 1
        try:
            outcome = handle(line, row)
        except ValueError as exc:
            report.errors.append((line, str(exc)))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)


def need(row: dict[str, str], name: str) -> str:
    """A required cell; ValueError naming the column when empty."""
    value = row.get(name, "")
    if not value:
        raise ValueError(f"column {name!r} is empty")
    return value


def number(row: dict[str, str], name: str, default: float | None = None) -> float:
    """A decimal cell (full-width digits and thousands separators accepted)."""
    value = row.get(name, "").replace(",", "").replace("，", "")
    if not value:
        if default is None:
            raise ValueError(f"column {name!r} is empty")
        return default
    try:
        return float(unicodedata.normalize("NFKC", value))
    except ValueError:
        raise ValueError(f"column {name!r}: {value!r} is not a number") from None


def day(row: dict[str, str], name: str, default: date | None = None) -> date:
    """A date cell: 2026-11-02, 2026/11/2 or 2026年11月2日."""
    value = row.get(name, "")
    if not value:
        if default is None:
            raise ValueError(f"column {name!r} is empty")
        return default
    cleaned = value.replace("/", "-").replace("年", "-").replace("月", "-").replace("日", "").split(" ")[0]
    try:
        y, m, d = (int(p) for p in cleaned.split("-"))
        return date(y, m, d)
    except ValueError:
        raise ValueError(f"column {name!r}: {value!r} is not a date (write 2026-11-02)") from None


def moment(row: dict[str, str], name: str, tz: ZoneInfo) -> datetime:
    """A local date-time cell (2026-11-02 09:30), taken in the configured zone, as aware UTC."""
    value = row.get(name, "").replace("/", "-").replace("T", " ")
    if not value:
        raise ValueError(f"column {name!r} is empty")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"column {name!r}: {value!r} is not a date-time (write 2026-11-02 09:30)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def changed(obj: Any, values: dict[str, Any]) -> bool:
    """Set ``values`` on ``obj``; True if any differed (so re-imports report 'unchanged')."""
    diff = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            diff = True
    return diff
