"""The clock-in device's punch API on the real listener, with its bearer token; and other punch layouts."""

from __future__ import annotations

import csv
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from kefu.app import App
from kefu.http.server import HttpServer
from kefu.plugins.hr.models import DayResult, Punch

from .conftest import DEMO, at, cli

TOKEN = "device-token-123"


@pytest.fixture
def served(hr_app: Callable[..., App], clock: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[App, str]]:
    monkeypatch.setenv("KEFU_HR_DEVICE_TOKEN", TOKEN)
    app = hr_app(hr={"token_secret": "hr_device_token"})
    clock.set(at("2026-09-01 07:00"))
    assert cli(app, "import", "employees", str(DEMO / "employees.csv")).exit_code == 0
    server = HttpServer(app)
    server.start()
    yield app, f"http://127.0.0.1:{server.port}"
    server.stop()


def _post(base: str, body: Any, token: str | None) -> tuple[int, Any]:
    req = urllib.request.Request(
        f"{base}/hr/punches",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_clock_in_device_posts_punches_with_its_bearer_token(served: tuple[App, str], clock: Any) -> None:
    app, base = served
    day = [
        {"number": "E05", "at": "2026-09-01T08:41:00", "direction": "in", "device": "大厅考勤机", "result": "0"},
        {"number": "E05", "at": "2026-09-01T13:20:00", "direction": "in", "device": "大厅考勤机"},
        {"number": "E05", "at": "2026-09-01T17:35:00", "direction": "out", "device": "大厅考勤机"},
    ]
    assert _post(base, {"punches": day}, None)[0] == 401
    assert _post(base, {"punches": day}, "wrong")[0] == 401
    assert _post(base, {"number": "X99", "at": "2026-09-01T08:00:00"}, TOKEN)[0] == 400
    assert _post(base, {"punches": day}, TOKEN) == (200, {"recorded": 3, "duplicates": 0})
    assert _post(base, {"punches": day}, TOKEN) == (200, {"recorded": 0, "duplicates": 3})  # a resent buffer
    with app.sessions() as s:
        rows = s.scalars(select(Punch).where(Punch.number == "E05").order_by(Punch.at)).all()
    first = rows[0]
    assert (first.source, first.device, first.direction, first.vendor_result) == ("api", "大厅考勤机", "in", "0")
    clock.set(at("2026-09-01 20:00"))
    assert cli(app, "compute", "2026-09").exit_code == 0
    with app.sessions() as s:
        e05 = s.scalars(select(DayResult).where(DayResult.employee == "E05")).one()
    assert [x["label"] for x in e05.lines] == ["上午迟到11分钟"]


def test_no_token_secret_no_route(hr_app: Callable[..., App]) -> None:
    app = hr_app()
    server = HttpServer(app)
    server.start()
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}/hr/punches", data=b"{}", method="POST")
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=10)
        assert refused.value.code == 404
    finally:
        server.stop()


def _punch_lines(app: App, emp: str) -> list[str]:
    with app.sessions() as s:
        row = s.scalars(select(DayResult).where(DayResult.employee == emp)).one()
    return [x["label"] for x in row.lines]


def test_wecom_record_export_is_read_by_its_column_map(hr_app: Callable[..., App], clock: Any, tmp_path: Path) -> None:
    app = hr_app()
    clock.set(at("2026-09-01 07:00"))
    assert cli(app, "import", "employees", str(DEMO / "employees.csv")).exit_code == 0
    path = tmp_path / "wecom.csv"
    with path.open("w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "账号", "部门", "打卡日期", "打卡时间", "打卡类型", "打卡状态", "打卡设备"])
        w.writerow(["客服07", "E07", "客服部", "2026/09/01", "08:52", "上班打卡", "迟到", "手机"])
        w.writerow(["客服07", "E07", "客服部", "2026/09/01", "13:29", "上班打卡", "正常", "手机"])
        w.writerow(["客服07", "E07", "客服部", "2026/09/01", "17:31", "下班打卡", "正常", "手机"])
    result = cli(app, "import", "punches", str(path), "--source", "wecom")
    assert result.exit_code == 0, result.output
    clock.set(at("2026-09-01 20:00"))
    assert cli(app, "compute", "2026-09").exit_code == 0
    assert _punch_lines(app, "E07") == ["上午迟到22分钟"]
    with app.sessions() as s:
        assert {p.source for p in s.scalars(select(Punch))} == {"wecom"}


def test_long_layout_xlsx_with_unknown_number_is_a_bad_row(
    hr_app: Callable[..., App], clock: Any, tmp_path: Path
) -> None:
    app = hr_app()
    clock.set(at("2026-09-01 07:00"))
    assert cli(app, "import", "employees", str(DEMO / "employees.csv")).exit_code == 0
    book = Workbook()
    ws = book.active
    ws.append(["工号", "打卡时间", "设备"])
    for row in (
        ("E09", "2026-09-01 08:29", "门禁1"),
        ("E09", "2026-09-01 13:31", "门禁1"),
        ("E09", "2026-09-01 16:00", "门禁1"),
        ("Z01", "2026-09-01 08:00", "门禁1"),
    ):
        ws.append(list(row))
    path = tmp_path / "long.xlsx"
    book.save(path)
    result = cli(app, "import", "punches", str(path))
    assert result.exit_code == 2 and "Z01" in result.output, result.output
    clock.set(at("2026-09-01 20:00"))
    assert cli(app, "compute", "2026-09").exit_code == 0
    # no direction in the file: the afternoon's last punch is the sign-out
    assert _punch_lines(app, "E09") == ["早退90分钟"]
