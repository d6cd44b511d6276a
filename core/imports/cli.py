"""What every import command shares: ``--dry-run``, ``--json``, the summary line and exit codes.

Exit codes (the same for ``kefu import hotline`` and every plugin's import):

- 0: every row was imported (or was already there);
- 1: the file was refused as a whole (unreadable, not UTF-8/GB18030/XLSX, a
  required column missing) and nothing was written;
- 2: partial success: the good rows were imported, the bad rows listed by place
  (stderr, or ``errors`` in ``--json``) were not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from kefu.imports.report import ImportReport

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_ROWS = 2

F = TypeVar("F", bound=Callable[..., Any])


def import_options(fn: F) -> F:
    """Add ``--dry-run`` and ``--json`` to an import command."""
    fn = click.option("--json", "as_json", is_flag=True, help="print the report as JSON")(fn)
    fn = click.option("--dry-run", is_flag=True, help="show what would be created or updated, and write nothing")(fn)
    return fn


def show_report(report: ImportReport, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """Print the report (summary, notes, bad rows; or JSON) and exit 2 when rows were bad."""
    if as_json:
        click.echo(json.dumps([{**report.as_dict(), **(extra or {})}], ensure_ascii=False, default=str, indent=1))
    else:
        click.echo(report.summary())
        for note in report.notes:
            click.echo(f"  {note}")
        if report.dry_run:
            for change in report.changes:
                click.echo(f"  would be {change.outcome}: {change.key} ({change.where})")
        for bad in report.bad:
            click.echo(f"  {bad.where.after(report.source)}: {bad.message}", err=True)
    if report.bad:
        raise SystemExit(EXIT_BAD_ROWS)
