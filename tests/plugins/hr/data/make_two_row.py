"""Write DingTalk's 打卡结果 export as it comes, with its two-row merged header, in CSV and XLSX.

The real export: a title merged across the sheet naming the dates, a first header row
whose one-level columns (姓名, 考勤组 …) are merged down over two rows and whose slots
(上班1, 下班1 …) are merged across their two sub-headers (打卡时间, 打卡结果), dates as
``26-09-01 星期二``. The CSV is what DingTalk's CSV download writes (GB18030, each group
once then empty cells). Run ``python make_two_row.py`` in this folder to rewrite both.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
TITLE = "打卡结果 统计日期：2026-09-01 至 2026-09-30"
SINGLE = ["姓名", "考勤组", "部门", "工号", "职位", "日期", "班次"]
SLOTS = ["上班1", "下班1", "上班2", "下班2"]
TAIL = ["关联的审批单"]
SHIFT = "客服班 08:30-12:00 13:30-17:30"
# name, 工号, day, then (time, result) for each slot; 缺卡 is DingTalk's word for no punch.
ROWS = [
    ("客服03", "E03", "26-09-01 星期二", ("08:33", "迟到"), ("12:01", "正常"), ("13:25", "正常"), ("17:31", "正常")),
    ("客服03", "E03", "26-09-02 星期三", ("08:21", "正常"), ("12:02", "正常"), ("", "缺卡"), ("17:32", "正常")),
    ("客服99", "E99", "26-09-01 星期二", ("08:20", "正常"), ("12:00", "正常"), ("13:20", "正常"), ("17:30", "正常")),
    ("客服05", "E05", "26-09-01 星期二", ("08:44", "迟到"), ("12:01", "正常"), ("13:25", "正常"), ("17:31", "正常")),
]


def header_rows() -> tuple[list[str], list[str]]:
    """The two header rows as a CSV writes them: a group once, then empty cells."""
    top = list(SINGLE)
    below = [""] * len(SINGLE)
    for slot in SLOTS:
        top += [slot, ""]
        below += ["打卡时间", "打卡结果"]
    return top + TAIL, below + [""] * len(TAIL)


def data_rows() -> list[list[str]]:
    """One row a person-day."""
    out = []
    for name, number, day, *slots in ROWS:
        cells = [name, "客服考勤组", "客服部", number, "客服专员", day, SHIFT]
        for at, result in slots:
            cells += [at, result]
        out.append([*cells, ""])
    return out


def write_csv(path: Path) -> None:
    """The CSV download: GB18030, the title on its own line."""
    top, below = header_rows()
    with path.open("w", encoding="gb18030", newline="") as f:
        w = csv.writer(f)
        w.writerow([TITLE] + [""] * (len(top) - 1))
        w.writerows([top, below, *data_rows()])


def write_xlsx(path: Path) -> None:
    """The workbook: the title merged across, one-level columns merged down, slots across."""
    top, below = header_rows()
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "打卡结果"
    width = len(top)
    ws.append([TITLE])
    ws.append([c or None for c in top])
    ws.append([c or None for c in below])
    for cells in data_rows():
        ws.append([c or None for c in cells])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    for col, cell in enumerate(top, 1):
        if cell in SLOTS:
            ws.merge_cells(start_row=2, start_column=col, end_row=2, end_column=col + 1)
        elif cell:
            ws.merge_cells(start_row=2, start_column=col, end_row=3, end_column=col)
    book.save(path)


if __name__ == "__main__":
    write_csv(HERE / "dingtalk-two-row-2026-09.csv")
    write_xlsx(HERE / "dingtalk-two-row-2026-09.xlsx")
