"""Punch imports through the pipeline: what an import reads of a years-old database, and the date
and time forms real DingTalk / WeCom exports write."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
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


def _punches(app: App, number: str) -> list[tuple[str, str, str]]:
    with app.sessions() as s:
        rows = s.scalars(select(Punch).where(Punch.number == number).order_by(Punch.at))
        return [(f"{p.at.astimezone(TZ):%Y-%m-%d %H:%M}", p.direction, p.slot) for p in rows]


def test_dingtalk_daily_statistics_dates_under_its_title_and_a_night_shifts_next_day_punch(
    hr_app: Callable[..., App], clock: Any, tmp_path: Path
) -> None:
    # DingTalk's 每日统计 sheet: a title naming the dates, 日期 as 26-09-01 星期二 (two-digit year) or,
    # re-saved by hand, 09-02; a night shift's sign-out after midnight as 次日 00:30.
    app = hr_app()
    clock.set(at("2026-09-30 20:00"))
    assert cli(app, "import", "employees", str(DEMO / "employees.csv")).exit_code == 0
    path = write_csv(
        tmp_path / "daily.csv",
        "每日统计表 统计日期：2026-09-01 至 2026-09-30\n"
        "姓名,工号,日期,上班1打卡时间,上班1打卡结果,下班1打卡时间,下班1打卡结果\n"
        "客服03,E03,26-09-01 星期二,08:58,正常,17:31:05,正常\n"
        "客服03,E03,09-02 星期三,16:00,正常,次日 00:30,正常\n"
        "客服03,E03,2026-09-03 周四,０８：２０,正常,17:35 外勤,正常\n"
        "客服04,E04,09-31,08:30,正常,,\n"
        "客服04,E04,10-01,08:30,正常,,\n"
        "客服04,E04,26-09-04 星期五,8点30,正常,,\n"
        "客服04,E04,26-09-07 星期一,25:10,正常,,\n",
    )
    result = cli(app, "import", "punches", str(path), "--json")
    assert result.exit_code == 2, result.output
    assert _punches(app, "E03") == [
        ("2026-09-01 08:58", "in", "上班1"),
        ("2026-09-01 17:31", "out", "下班1"),
        ("2026-09-02 16:00", "in", "上班1"),
        ("2026-09-03 00:30", "out", "下班1"),  # 次日: the morning after the shift's day
        ("2026-09-03 08:20", "in", "上班1"),  # full-width digits and colon
        ("2026-09-03 17:35", "out", "下班1"),
    ]
    assert _punches(app, "E04") == []
    errors = [(e["line"], e["error"]) for e in json.loads(result.output)[0]["errors"]]
    assert errors == [
        (6, "day (日期): '09-31' is not a date (write 2026-11-02)"),
        (7, "day (日期): '10-01' is not within the file's dates 2026-09-01 – 2026-09-30"),
        (8, "in1 (上班1打卡时间): '8点30' is not a punch time (write 08:58, 次日 00:30 or 2026-11-02 08:58)"),
        (9, "in1 (上班1打卡时间): '25:10' is not a punch time (write 08:58, 次日 00:30 or 2026-11-02 08:58)"),
    ], errors
    again = cli(app, "import", "punches", str(path))
    assert "0 created" in again.output, again.output


def test_wecom_record_dates_with_the_weekday_and_a_month_day_time_under_a_month_title(
    hr_app: Callable[..., App], clock: Any, tmp_path: Path
) -> None:
    app = hr_app()
    clock.set(at("2026-09-30 20:00"))
    assert cli(app, "import", "employees", str(DEMO / "employees.csv")).exit_code == 0
    wecom = write_csv(
        tmp_path / "wecom.csv",
        "姓名,账号,部门,打卡日期,打卡时间,打卡类型,打卡状态,打卡设备\n"
        "客服07,E07,客服部,2026/09/01 星期二,08:52,上班打卡,迟到,手机\n"
        "客服07,E07,客服部,2026/09/01 星期二,17:31,下班打卡,正常,手机\n",
    )
    assert cli(app, "import", "punches", str(wecom), "--source", "wecom").exit_code == 0
    long = write_csv(tmp_path / "long.csv", "2026年9月 考勤机记录\n工号,打卡时间,类型\nE08,09-02 08:31,上班\n")
    assert cli(app, "import", "punches", str(long)).exit_code == 0
    assert _punches(app, "E07") == [("2026-09-01 08:52", "in", "上班打卡"), ("2026-09-01 17:31", "out", "下班打卡")]
    assert _punches(app, "E08") == [("2026-09-02 08:31", "in", "上班")]
    untitled = write_csv(tmp_path / "untitled.csv", "工号,打卡时间\nE08,09-03 08:31\n")
    result = cli(app, "import", "punches", str(untitled))
    assert result.exit_code == 2 and "has no year and the file's title names no dates" in result.output


TWO_ROW = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize(
    ("name", "sheet"), [("dingtalk-two-row-2026-09.csv", None), ("dingtalk-two-row-2026-09.xlsx", "打卡结果")]
)
def test_dingtalks_punch_result_export_with_its_two_row_merged_header(
    hr_app: Callable[..., App], clock: Any, name: str, sheet: str | None
) -> None:
    # DingTalk's 打卡结果 as downloaded: a title, 姓名/工号/… merged down over two header rows,
    # 上班1/下班1/… merged across 打卡时间 and 打卡结果 (tests/plugins/hr/data/make_two_row.py).
    app = hr_app()
    clock.set(at("2026-09-30 20:00"))
    assert cli(app, "import", "employees", str(DEMO / "employees.csv")).exit_code == 0
    result = cli(app, "import", "punches", str(TWO_ROW / name), "--json")
    assert result.exit_code == 2, result.output
    [report] = json.loads(result.output)
    assert (report["read"], report["created"]) == (4, 3)
    # the data starts under the second header row: E99 (not in the register) is the file's 6th line
    assert [(e["line"], e["sheet"], e["error"]) for e in report["errors"]] == [
        (6, sheet, "number: 工号 'E99' is not in the register (kefu hr import employees)")
    ], report["errors"]
    assert _punches(app, "E03") == [
        ("2026-09-01 08:33", "in", "上班1"),
        ("2026-09-01 12:01", "out", "下班1"),
        ("2026-09-01 13:25", "in", "上班2"),
        ("2026-09-01 17:31", "out", "下班2"),
        ("2026-09-02 08:21", "in", "上班1"),
        ("2026-09-02 12:02", "out", "下班1"),  # 上班2 缺卡: no punch
        ("2026-09-02 17:32", "out", "下班2"),
    ]
    assert _punches(app, "E05")[0] == ("2026-09-01 08:44", "in", "上班1")
    with app.sessions() as s:
        results = {(p.slot, p.vendor_result) for p in s.scalars(select(Punch).where(Punch.number == "E05"))}
        assert results == {("上班1", "迟到"), ("下班1", "正常"), ("上班2", "正常"), ("下班2", "正常")}
        assert {p.source for p in s.scalars(select(Punch))} == {"dingtalk"}
    again = cli(app, "import", "punches", str(TWO_ROW / name))
    assert "0 created" in again.output, again.output
