"""Two-row headers: a merged group row over its sub-headers, read as one header by the pipeline."""

from __future__ import annotations

import io
from collections.abc import Iterator

import openpyxl
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from kefu.imports import Importer, ImportFileError, ImportRow, Outcome, column, run_import
from kefu.imports.stacked import combine


class ShiftRow(ImportRow):
    number: str = column("工号")
    name: str = column("姓名", default="")
    morning_in: str = column("上午签到")  # required, and only a group and a sub-header name it
    morning_out: str = column("上午签退", default="")
    afternoon_in: str = column("下午签到", default="")
    note: str = column("备注", default="")


class ShiftImport(Importer[ShiftRow]):
    name = "shifts"
    row_model = ShiftRow

    def __init__(self) -> None:
        self.rows: list[ShiftRow] = []

    def apply(self, session: Session, row: ShiftRow) -> Outcome:
        self.rows.append(row)
        return "created"


class NumberRow(ImportRow):
    number: str = column("工号")
    name: str = column("姓名", default="")
    morning_in: str = column("上午签到", default="")


class NumberImport(Importer[NumberRow]):
    name = "numbers"
    row_model = NumberRow

    def __init__(self) -> None:
        self.rows: list[NumberRow] = []

    def apply(self, session: Session, row: NumberRow) -> Outcome:
        self.rows.append(row)
        return "created"


@pytest.fixture
def session(sqlite_url: str) -> Iterator[Session]:
    engine = create_engine(sqlite_url)
    with Session(engine) as s:
        yield s
    engine.dispose()


@pytest.mark.parametrize(
    ("groups", "subs", "expected"),
    [
        # CSV: the group once, then empty cells; the one-level columns empty below
        (
            ["姓名", "工号", "上午", "", "下午"],
            ["", "", "签到", "签退", "签到"],
            ["姓名", "工号", "上午签到", "上午签退", "下午签到"],
        ),
        # a vertical merge some exports fill with the name twice
        (["姓名", "上午", ""], ["姓名", "签到", "签退"], ["姓名", "上午签到", "上午签退"]),
        # the empty tail of a merge names no column; a sub-header left of every group is itself
        (["", "上午", "", ""], ["序号", "签到", "签退", ""], ["序号", "上午签到", "上午签退", ""]),
        # rows of different lengths (a CSV's trailing empty cells left off)
        (["工号", "上午"], ["", "签到", "签退"], ["工号", "上午签到", "上午签退"]),
    ],
)
def test_a_group_carries_over_its_merge_and_joins_each_sub_header(
    groups: list[str], subs: list[str], expected: list[str]
) -> None:
    assert combine(groups, subs) == expected


CSV_TWO_ROWS = (
    "考勤表 统计日期：2026-11-01 至 2026-11-30\n"
    "姓名,工号,上午,,下午,备注\n"
    ",,签到,签退,签到,\n"
    "张三,E01,08:58,12:01,13:30,\n"
    "李四,E02,,12:00,13:29,病假\n"
    "\n"
    "王五,,08:50,12:02,13:31,\n"
)


def test_a_csv_with_a_group_row_over_sub_headers_is_read_and_bad_rows_keep_their_lines(session: Session) -> None:
    importer = ShiftImport()
    report = run_import(importer, session, data=CSV_TWO_ROWS.encode("gb18030"), name="shifts.csv")
    assert report.encoding == "gb18030" and report.read == 3
    [zhang] = importer.rows
    assert (zhang.number, zhang.name, zhang.morning_in, zhang.morning_out, zhang.afternoon_in) == (
        "E01",
        "张三",
        "08:58",
        "12:01",
        "13:30",
    )
    # line 5 has no 上午签到, line 7 (after a blank line) no 工号: the file's own line numbers
    assert report.errors == [(5, "morning_in (上午签到): is empty"), (7, "number (工号): is empty")]


def test_an_xlsx_with_merged_group_cells_and_a_merged_title(session: Session) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "考勤"
    ws.append(["考勤表 统计日期：2026-11-01 至 2026-11-30"])
    ws.append(["姓名", "工号", "上午", None, "下午", "备注"])
    ws.append([None, None, "签到", "签退", "签到", None])
    ws.append(["张三", "E01", "08:58", "12:01", "13:30", None])
    ws.append(["李四", "E02", None, "12:00", "13:29", "病假"])
    ws.merge_cells("A1:F1")
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:B3")
    ws.merge_cells("C2:D2")
    ws.merge_cells("F2:F3")
    out = io.BytesIO()
    book.save(out)
    importer = ShiftImport()
    report = run_import(importer, session, data=out.getvalue(), name="shifts.xlsx")
    [zhang] = importer.rows
    assert (zhang.morning_in, zhang.morning_out, zhang.afternoon_in) == ("08:58", "12:01", "13:30")
    [bad] = report.bad
    assert (bad.where.sheet, bad.where.row, bad.column) == ("考勤", 5, "morning_in (上午签到)")


def test_sub_headers_under_a_header_that_already_names_the_required_columns(session: Session) -> None:
    # 工号 alone would do; the row under it still names 上午签到, and the data starts below it
    importer = NumberImport()
    text = "姓名,工号,上午,\n,,签到,签退\n张三,E01,08:58,12:01\n"
    report = run_import(importer, session, data=text.encode(), name="n.csv")
    assert report.read == 1 and not report.bad
    [row] = importer.rows
    assert (row.number, row.morning_in) == ("E01", "08:58")


def test_a_one_row_header_keeps_its_first_data_row(session: Session) -> None:
    # a header cell joined to the data below it names no field, so the row below stays data
    importer = NumberImport()
    text = "工号,姓名,上午签到\nE01,张三,08:58\nE02,李四,\n"
    report = run_import(importer, session, data=text.encode(), name="n.csv")
    assert report.read == 2 and [r.number for r in importer.rows] == ["E01", "E02"]
    importer = NumberImport()
    report = run_import(importer, session, data="工号,上午签到\n,\nE01,08:58\n".encode(), name="n.csv")
    assert [r.morning_in for r in importer.rows] == ["08:58"]


def test_a_two_row_header_missing_a_column_names_it_and_what_the_two_rows_read(session: Session) -> None:
    text = "姓名,工号,下午,\n,,签到,签退\n张三,E01,13:30,17:31\n"
    with pytest.raises(ImportFileError) as err:
        run_import(ShiftImport(), session, data=text.encode(), name="s.csv")
    message = str(err.value)
    assert "missing column(s) morning_in (morning_in/上午签到)" in message
    assert "the two header rows closest to it read 姓名, 工号, 下午签到, 下午签退" in message
