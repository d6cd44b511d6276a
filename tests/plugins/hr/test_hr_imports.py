"""Punch imports through the pipeline: what an import reads of a years-old database, and the date
and time forms real DingTalk / WeCom exports write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, func, insert, select

from kefu.api.imports import run
from kefu.app import App
from kefu.plugins.hr.imports import PunchImport
from kefu.plugins.hr.models import Punch

from .conftest import DEMO, TZ, at, cli, in_tx


def _old_history(app: App) -> int:
    """Two years of punches of the same people (and a stranger's in the month): what a real database holds."""
    rows = []
    start = datetime(2024, 9, 1, 8, 20, tzinfo=TZ)
    for n in range(1, 41):
        for day in range(0, 700, 7):
            at_ = start + timedelta(days=day)
            rows.append({"number": f"E{n:02d}", "at": at_, "direction": "in", "source": "dingtalk"})
    rows.append({"number": "X99", "at": at("2026-09-02 08:00"), "direction": "in", "source": "long"})
    with app.sessions() as s, s.begin():
        s.execute(insert(cast(Table, Punch.__table__)), [{**r, "recorded_at": start} for r in rows])
    return len(rows)


def test_an_import_loads_only_the_stored_punches_of_its_own_people_and_days(
    hr_app: Callable[..., App], clock: Any
) -> None:
    app = hr_app()
    clock.set(at("2026-09-30 20:00"))
    assert cli(app, "import", "employees", str(DEMO / "employees.csv")).exit_code == 0
    old = _old_history(app)
    importer = in_tx(app, lambda ctx: PunchImport(ctx))  # the command's importer, kept to read what it loaded
    report = in_tx(app, lambda ctx: run(ctx, _rebind(importer, ctx), DEMO / "punches-2026-09.csv"))
    with app.sessions() as s:
        total = s.scalar(select(func.count(Punch.id)))
        month = total - old
    assert not report.bad and report.created > 800 and month > 3000
    # the first import meets only what its own earlier batches wrote (a person cut by a batch's end)
    assert importer.loaded < 200
    again = in_tx(app, lambda ctx: PunchImport(ctx))
    report = in_tx(app, lambda ctx: run(ctx, _rebind(again, ctx), DEMO / "punches-2026-09.csv"))
    assert (report.created, report.unchanged) == (0, report.read)
    # a re-import reads back exactly the file's own punches: none of the 4,000 old ones, nor X99's
    assert again.loaded == month
    with app.sessions() as s:
        assert s.scalar(select(func.count(Punch.id))) == total


def _rebind(importer: PunchImport, ctx: Any) -> PunchImport:
    importer.ctx = ctx
    return importer


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
