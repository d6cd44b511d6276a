"""Finding the header row of a table and the column each field of the row model reads.

Exports often put a title (merged across the columns) and a blank line above the
header, so the first rows are searched for the one naming every required field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pydantic import BaseModel

from kefu.imports.fields import headers_of
from kefu.imports.reading import ImportFileError, Sheet, Table

SEARCH_ROWS = 20
_UNIT = re.compile(r"\(.*\)$")


@dataclass(frozen=True)
class Header:
    """The header found: its sheet, its index in the sheet's rows, and field → column index."""

    sheet: Sheet
    index: int
    columns: dict[int, str]
    labels: dict[str, str]
    width: int


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


def find_header(
    table: Table,
    model: type[BaseModel],
    hint: str = "",
    accepted: dict[str, tuple[str, ...]] | None = None,
    required: list[str] | None = None,
) -> Header:
    """The first row (of the first sheet that has one) naming every required column.

    A file without one is refused: the message names each missing column with the
    headers it accepts, and what the closest row held instead. ``accepted`` replaces
    the model's own header spellings (an import whose headers come from config).
    """
    accepted = accepted or headers_of(model)
    lookup = _lookup(accepted)
    required = required_fields(model) if required is None else required
    best: tuple[int, Sheet | None, list[str]] = (-1, None, [])
    for sheet in table.sheets:
        for index, (_where, cells) in enumerate(sheet.rows[:SEARCH_ROWS]):
            if not any(c.strip() for c in cells):
                continue
            columns, labels = _match(cells, lookup)
            if all(name in labels for name in required) and columns:
                width = max((i + 1 for i, c in enumerate(cells) if c.strip()), default=0)
                return Header(sheet, index, columns, labels, width)
            if len(columns) > best[0]:
                best = (len(columns), sheet, cells)
    if not any(sheet.rows for sheet in table.sheets):
        raise ImportFileError(f"{table.source}: the file is empty; the first line must name the columns")
    _score, closest, cells = best
    _columns, labels = _match(cells, lookup)
    missing = "; ".join(f"{name} ({'/'.join(accepted[name])})" for name in required if name not in labels)
    where = f"sheet {closest.name!r}: " if closest is not None and closest.name is not None else ""
    found = ", ".join(c.strip() for c in cells if c.strip()) or "no header"
    raise ImportFileError(
        f"{table.source}: {where}missing column(s) {missing}; the header row closest to it has {found}{hint}"
    )
