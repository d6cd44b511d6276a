"""Shifts per department or person, and weekly patterns besides the China working calendar."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kefu.app import App
from kefu.plugins.hr.models import DayResult

from .conftest import at, cli


def test_a_person_s_shift_overrides_the_department_s_and_a_weekly_pattern_works_saturdays(
    hr_app: Callable[..., App], clock: Any, tmp_path: Path
) -> None:
    app = hr_app(
        hr={
            "shifts": {
                "default": {},
                "late": {
                    "morning_start": "09:30",
                    "morning_end": "12:30",
                    "afternoon_start": "14:00",
                    "afternoon_end": "18:30",
                    "days": "mon-sat",
                },
            },
            "employees": {
                "A1": {"name": "甲", "department": "cs"},
                "B1": {"name": "乙", "department": "cs", "shift": "late"},
            },
        }
    )
    path = tmp_path / "long.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["工号", "打卡时间", "类型"])
        for who in ("A1", "B1"):
            for day in ("2026-09-05", "2026-09-07"):  # a Saturday and a Monday
                w.writerows(
                    [[who, f"{day} 09:25", "上班"], [who, f"{day} 13:59", "上班"], [who, f"{day} 18:31", "下班"]]
                )
    assert cli(app, "import", "punches", str(path)).exit_code == 0
    clock.set(at("2026-09-07 20:00"))
    assert cli(app, "compute", "2026-09").exit_code == 0
    with app.sessions() as s:
        got = {
            (r.employee, r.day.isoformat()): (r.status, [x["label"] for x in r.lines])
            for r in s.scalars(select(DayResult))
        }
    assert got[("A1", "2026-09-07")] == ("work", ["上午迟到55分钟", "下午迟到29分钟"])  # the 08:30 / 13:30 shift
    assert got[("A1", "2026-09-05")] == ("off", [])  # the calendar: Saturday off
    assert got[("B1", "2026-09-07")] == ("work", [])  # 09:30 shift: on time
    assert got[("B1", "2026-09-05")] == ("work", [])  # mon-sat: Saturday worked
    assert got[("B1", "2026-09-01")] == ("absent", ["旷工：无签到、无请假"])
