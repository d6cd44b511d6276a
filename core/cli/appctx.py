"""How a command gets the running application and prints its listings."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from kefu.app import App, build_app
from kefu.config import ConfigError
from kefu.db.revisions import MigrationError
from kefu.db.schema import check_schema


def obtain_app(ctx: click.Context | None = None, *, check: bool = True) -> App:
    """Build (once per command) the app from ``--config``; errors exit with their message."""
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    holder = root.ensure_object(dict)
    if "app" not in holder:
        try:
            app = build_app(holder.get("config"), clock=holder.get("clock"))
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        if check:
            try:
                check_schema(app.engine, app.host.enabled)
            except MigrationError as exc:
                app.dispose()
                raise click.ClickException(str(exc)) from exc
        holder["app"] = app
        root.call_on_close(app.dispose)
    app_obj: App = holder["app"]
    return app_obj


def emit(rows: Sequence[dict[str, Any]], as_json: bool, columns: Sequence[str] | None = None) -> None:
    """Print rows as a table, or as JSON (one array) with ``--json``."""
    if as_json:
        click.echo(json.dumps(list(rows), ensure_ascii=False, default=str, indent=1))
        return
    if not rows:
        click.echo("(none)")
        return
    cols = list(columns or rows[0].keys())
    table = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(_width(c), *(_width(row[i]) for row in table)) for i, c in enumerate(cols)]
    click.echo("  ".join(_pad(c, w) for c, w in zip(cols, widths, strict=True)).rstrip())
    for row in table:
        click.echo("  ".join(_pad(v, w) for v, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if hasattr(value, "isoformat"):
        return str(value.isoformat(timespec="minutes"))
    return str(value)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


json_option = click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")


def fail(message: str) -> None:
    """Print an error for a person and exit 1."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)
