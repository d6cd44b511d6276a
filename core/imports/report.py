"""What an import did: counts, the bad rows with where and why, and what a dry run would change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

Outcome = Literal["created", "updated", "unchanged"]


class Where(NamedTuple):
    """A row's place in its file: the line of a CSV, or the sheet and row of a workbook."""

    row: int
    sheet: str | None = None

    def __str__(self) -> str:
        return f"sheet {self.sheet!r} row {self.row}" if self.sheet is not None else f"line {self.row}"

    def after(self, file: str) -> str:
        """``file:line`` for a CSV (as compilers print it), ``file[sheet]:row`` for a workbook."""
        return f"{file}[{self.sheet}]:{self.row}" if self.sheet is not None else f"{file}:{self.row}"


@dataclass(frozen=True)
class BadRow:
    """One row left out: where it is, the column at fault (when one is), and why."""

    where: Where
    reason: str
    column: str | None = None

    @property
    def message(self) -> str:
        """The reason, led by the column when there is one."""
        return f"{self.column}: {self.reason}" if self.column else self.reason

    def as_dict(self) -> dict[str, Any]:
        """The row's JSON form."""
        return {
            "line": self.where.row,
            "sheet": self.where.sheet,
            "column": self.column,
            "error": self.message,
        }


@dataclass(frozen=True)
class Change:
    """A row that created or updated something (listed by ``--dry-run``)."""

    where: Where
    key: str
    outcome: Outcome


@dataclass
class ImportReport:
    """Rows read, created, updated, unchanged, the bad ones by place, and notes for people."""

    name: str
    source: str = ""
    encoding: str = ""
    noun: str = ""
    dry_run: bool = False
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: list[BadRow] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[tuple[int, str]]:
        """(row number, message) of each bad row, in file order."""
        return [(b.where.row, b.message) for b in self.bad]

    def count(self, outcome: Outcome) -> None:
        """Count one imported row."""
        setattr(self, outcome, getattr(self, outcome) + 1)

    def summary(self) -> str:
        """The one line people read: read / created / updated / unchanged / bad."""
        noun = f" {self.noun}" if self.noun else ""
        head = f"{self.source or self.name}: " + ("dry run, nothing written; " if self.dry_run else "")
        return (
            f"{head}{self.read} read, {self.created}{noun} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.bad)} bad"
        )

    def as_dict(self) -> dict[str, Any]:
        """The report as ``--json`` prints it."""
        return {
            "import": self.name,
            "file": self.source,
            "encoding": self.encoding,
            "dry_run": self.dry_run,
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "bad": len(self.bad),
            "errors": [b.as_dict() for b in self.bad],
            "notes": list(self.notes),
            "changes": [{"where": str(c.where), "key": c.key, "outcome": c.outcome} for c in self.changes]
            if self.dry_run
            else [],
        }
