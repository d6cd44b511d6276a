"""Finding the header row of a table and the column each field of the row model reads.

Exports often put a title (merged across the columns) and a blank line above the
header, so the first rows are searched for the one naming every required field. Many
Chinese exports (DingTalk's 打卡结果, ERP and HR reports) head their columns with two
rows, a merged group over its sub-headers: those are read as one (:mod:`kefu.imports.stacked`)
when the row below a header adds columns to it, or when no single row names every
required field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pydantic import BaseModel

from kefu.imports.fields import headers_of
from kefu.imports.reading import ImportFileError, Sheet, Table
from kefu.imports.stacked import combine

SEARCH_ROWS = 20
_UNIT = re.compile(r"\(.*\)$")


@dataclass(frozen=True)
class Header:
    """The header found: its sheet, its first row's index in the sheet's rows, and field → column index.

    ``height`` is how many rows it takes (1, or 2 for a group row over sub-headers): the
    data starts at ``index + height``.
    """

    sheet: Sheet
    index: int
    columns: dict[int, str]
    labels: dict[str, str]
    width: int
    height: int = 1


def fold(header: str) -> str:
    """A header cell compared without case, full-width forms, spaces or a required-mark ``*``."""
    return re.sub(r"[\s*＊]", "", unicodedata.normalize("NFKC", header)).lower()


def _lookup(accepted: dict[str, tuple[str, ...]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for name, spellings in accepted.items():
        for spelling in spellings:
            table.setdefault(fold(spelling), name)
    return table


def _match(cells: list[str], lookup: dict[str, str]) -> tuple[dict[int, str], dict[str, str]]:
    columns: dict[int, str] = {}
    labels: dict[str, str] = {}
    for i, cell in enumerate(cells):
        key = fold(cell)
        name = lookup.get(key) or lookup.get(_UNIT.sub("", key))  # 供热面积(㎡) is 供热面积
        if name and name not in labels:
            columns[i] = name
            labels[name] = cell.strip()
    return columns, labels


def required_fields(model: type[BaseModel]) -> list[str]:
    """The fields without a default: columns the file must have."""
    return [name for name, info in model.model_fields.items() if info.is_required()]


def _width(*rows: list[str]) -> int:
    return max((i + 1 for cells in rows for i, c in enumerate(cells) if c.strip()), default=0)


def _below(sheet: Sheet, index: int) -> list[str] | None:
    """The row right under ``index`` when it holds something: a blank one ends a header."""
    if index + 1 >= len(sheet.rows):
        return None
    cells = sheet.rows[index + 1][1]
    return cells if any(c.strip() for c in cells) else None


def _extends(columns: dict[int, str], stacked: dict[int, str]) -> bool:
    """Whether reading two rows keeps every column one row found and finds more.

    A data row under a one-row header never does: a header cell joined to the value
    below it names no field, so the columns the header found would be lost.
    """
    return len(stacked) > len(columns) and all(stacked.get(i) == name for i, name in columns.items())


def find_header(
    table: Table,
    model: type[BaseModel],
    hint: str = "",
    accepted: dict[str, tuple[str, ...]] | None = None,
    required: list[str] | None = None,
) -> Header:
    """The first row (of the first sheet that has one) naming every required column.

    When the row below it adds columns (sub-headers under merged groups), the two are
    the header. When no single row names every required column, a row and the one
    below it read as one (:func:`kefu.imports.stacked.combine`) may. A file without
    a header is refused: the message names each missing column with the headers it
    accepts, and what the closest row (or pair of rows) held instead. ``accepted``
    replaces the model's own header spellings (an import whose headers come from config).
    """
    accepted = accepted or headers_of(model)
    lookup = _lookup(accepted)
    required = required_fields(model) if required is None else required
    best: tuple[int, Sheet | None, list[str], int] = (-1, None, [], 1)
    for sheet in table.sheets:
        for index, (_where, cells) in enumerate(sheet.rows[:SEARCH_ROWS]):
            if not any(c.strip() for c in cells):
                continue
            columns, labels = _match(cells, lookup)
            if all(name in labels for name in required) and columns:
                below = _below(sheet, index)
                if below is not None:
                    stacked = combine(cells, below)
                    two, two_labels = _match(stacked, lookup)
                    if _extends(columns, two):
                        return Header(sheet, index, two, two_labels, _width(cells, below), 2)
                return Header(sheet, index, columns, labels, _width(cells))
            if len(columns) > best[0]:
                best = (len(columns), sheet, cells, 1)
    # No single row will do: a group row over its sub-headers may, read as one.
    for sheet in table.sheets:
        for index, (_where, cells) in enumerate(sheet.rows[:SEARCH_ROWS]):
            below = _below(sheet, index)
            if below is None or not any(c.strip() for c in cells):
                continue
            stacked = combine(cells, below)
            columns, labels = _match(stacked, lookup)
            if all(name in labels for name in required) and columns:
                return Header(sheet, index, columns, labels, _width(cells, below), 2)
            if len(columns) > best[0]:
                best = (len(columns), sheet, stacked, 2)
    if not any(sheet.rows for sheet in table.sheets):
        raise ImportFileError(f"{table.source}: the file is empty; the first line must name the columns")
    _score, closest, cells, depth = best
    _columns, labels = _match(cells, lookup)
    missing = "; ".join(f"{name} ({'/'.join(accepted[name])})" for name in required if name not in labels)
    where = f"sheet {closest.name!r}: " if closest is not None and closest.name is not None else ""
    found = ", ".join(c.strip() for c in cells if c.strip()) or "no header"
    closest_rows = "the header row closest to it has" if depth == 1 else "the two header rows closest to it read"
    raise ImportFileError(f"{table.source}: {where}missing column(s) {missing}; {closest_rows} {found}{hint}")
