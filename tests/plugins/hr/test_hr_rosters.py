"""值班表: one source (the core's rotas), reminded the day before, a change told to both people."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from kefu.app import App
from kefu.db.models import RotaShift
from kefu.plugins.hr import jobs

from .conftest import DEMO, TZ, at, cli, in_tx, outbox


def test_person_on_duty_is_reminded_the_day_before(hr_app: Callable[..., App], clock: Any) -> None:
    app = hr_app()
    clock.set(at("2026-09-06 16:00"))
    in_tx(app, jobs.duty_reminders, clock.now())
    in_tx(app, jobs.duty_reminders, clock.now())  # a rerun queues nothing twice
    (sms,) = outbox(app, template="hr/duty_reminder.txt", channel="sms")
    assert sms.recipient == "+8613900000002" and "2026-09-07" in sms.body  # E02, on the [staff.rotas] pattern


def test_a_roster_change_is_announced_to_both_people_and_escalations_follow_it(
    hr_app: Callable[..., App], clock: Any
) -> None:
    app = hr_app()
    clock.set(at("2026-09-06 10:00"))
    result = cli(app, "roster", "set", "cs-duty", "2026-09-07T08:00", "2026-09-07T20:00", "E03")
    assert result.exit_code == 0, result.output
    off = outbox(app, template="hr/duty_change_off.txt")
    on = outbox(app, template="hr/duty_change_on.txt")
    assert {m.recipient for m in off} == {"+8613900000002", "e02@cs.test"}
    assert {m.recipient for m in on} == {"+8613900000003"}
    # the one store: the core's dated shift, which every plugin's escalation reads
    with app.sessions() as s:
        assert [r.staff_key for r in s.scalars(select(RotaShift).where(RotaShift.rota == "cs-duty"))] == ["E03"]
    assert in_tx(app, lambda ctx: ctx.staff_for("rota:cs-duty", when=at("2026-09-07 09:00"))) == ["E03"]
    assert cli(app, "roster", "show", "cs-duty", "2026-09-07").output.strip() == "E03"
    clock.set(at("2026-09-06 16:00"))
    in_tx(app, jobs.duty_reminders, clock.now())
    assert [m.recipient for m in outbox(app, template="hr/duty_reminder.txt", channel="sms")] == ["+8613900000003"]


def _dated(app: App) -> dict[str, list[str]]:
    with app.sessions() as s:
        rows = s.scalars(select(RotaShift).where(RotaShift.rota == "cs-duty").order_by(RotaShift.id))
        out: dict[str, list[str]] = {}
        for r in rows:
            out.setdefault(f"{r.starts_at.astimezone(TZ):%m-%d %H:%M}–{r.ends_at.astimezone(TZ):%H:%M}", []).append(
                r.staff_key
            )
        return out


def test_a_month_list_of_duty_days_is_imported_into_the_rota_and_told_like_roster_set(
    hr_app: Callable[..., App], clock: Any, tmp_path: Path
) -> None:
    app = hr_app()
    clock.set(at("2026-09-06 10:00"))
    assert cli(app, "import", "employees", str(DEMO / "employees.csv")).exit_code == 0
    path = tmp_path / "值班表.csv"
    path.write_text(
        "2026年9月 客服部值班表\n日期,值班人\n"
        "2026-09-07 星期一,E03\n"  # the pattern's E02 is taken off: both told
        "09-08,客服02\n"  # by name, the pattern's own person: written, nobody told
        "09-09,E03、E02\n"  # two on duty: only E03 is new
        "09-10,张三\n",
        encoding="utf-8",
    )
    result = cli(app, "import", "roster", str(path))
    assert result.exit_code == 2 and "'张三' is not in [staff.people]" in result.output, result.output
    assert _dated(app) == {
        "09-07 08:00–20:00": ["E03"],
        "09-08 08:00–20:00": ["E02"],
        "09-09 08:00–20:00": ["E03", "E02"],
    }
    off = outbox(app, template="hr/duty_change_off.txt")
    on = outbox(app, template="hr/duty_change_on.txt")
    assert {m.recipient for m in off} == {"+8613900000002", "e02@cs.test"}
    assert [m.recipient for m in on] == ["+8613900000003", "+8613900000003"]  # 09-07 and 09-09
    assert cli(app, "roster", "show", "cs-duty", "2026-09-09").output.strip() == "E03, E02"
    again = cli(app, "import", "roster", str(path))
    assert "0 created" in again.output and "0 updated" in again.output, again.output
    assert len(outbox(app, template="hr/duty_change_on.txt")) == 2 and len(_dated(app)) == 3
    clock.set(at("2026-09-06 16:00"))
    in_tx(app, jobs.duty_reminders, clock.now())
    assert [m.recipient for m in outbox(app, template="hr/duty_reminder.txt", channel="sms")] == ["+8613900000003"]


def test_the_wide_roster_with_days_as_columns_and_a_change_told_to_both(
    hr_app: Callable[..., App], clock: Any, tmp_path: Path
) -> None:
    app = hr_app()
    clock.set(at("2026-08-31 10:00"))
    assert cli(app, "import", "employees", str(DEMO / "employees.csv")).exit_code == 0

    def sheet(rows: list[list[str]]) -> Path:
        wb = Workbook()
        ws = wb.active
        ws.append(["2026年9月值日表"])
        ws.append(["姓名", "1 周二", "2", "3日", "4"])
        for r in rows:
            ws.append(r)
        path = tmp_path / f"wide{len(list(tmp_path.iterdir()))}.xlsx"
        wb.save(path)
        return path

    first = sheet([["客服02", "√", "√", "", ""], ["E03", "休", "", "√", ""], ["E01", "", "maybe", "", ""]])
    result = cli(app, "import", "roster", str(first), "--month", "2026-09")
    assert result.exit_code == 2 and "'maybe' is not a duty mark" in result.output, result.output
    assert _dated(app) == {"09-01 08:00–20:00": ["E02"], "09-02 08:00–20:00": ["E02"], "09-03 08:00–20:00": ["E03"]}
    # 09-01/02: E02 is the pattern's own person, nobody told; 09-03: E03 replaces the pattern's E02
    assert {m.recipient for m in outbox(app, template="hr/duty_change_off.txt")} == {"+8613900000002", "e02@cs.test"}
    assert [m.recipient for m in outbox(app, template="hr/duty_change_on.txt")] == ["+8613900000003"]
    again = cli(app, "import", "roster", str(first), "--month", "2026-09")
    assert "0 created" in again.output and len(_dated(app)) == 3, again.output
    changed = sheet([["客服02", "√", "√", "√", ""], ["E03", "", "", "", ""]])
    assert cli(app, "import", "roster", str(changed), "--month", "2026-09").exit_code == 0
    assert _dated(app)["09-03 08:00–20:00"] == ["E02"]
    assert "+8613900000003" in {m.recipient for m in outbox(app, template="hr/duty_change_off.txt")}
    assert len(outbox(app, template="hr/duty_change_on.txt")) == 1 + 2  # E02 back on 09-03: SMS and mail
    refused = cli(app, "import", "roster", str(changed))
    assert refused.exit_code != 0 and "日期" in refused.output
