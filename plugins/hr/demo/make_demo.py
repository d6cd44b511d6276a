"""Write the demo: a 客服部 of 40 people and September 2026 of DingTalk 打卡结果 (wide export).

September 2026 has a 调休 make-up Sunday (09-20) and a statutory holiday (09-25, 中秋).
Most people punch normally; the people E03–E30 each carry one hand-computed case that
tests/plugins/hr/test_hr_fixture.py asserts line by line. Run ``python make_demo.py`` in
this folder to rewrite employees.csv and punches-2026-09.csv (deterministic).
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
MONTH = [date(2026, 9, d) for d in range(1, 31)]
# The China working calendar of September 2026 (State Council notice): Sun 09-20 is worked, Fri 09-25 is off.
MAKEUP, HOLIDAY = date(2026, 9, 20), date(2026, 9, 25)
HEADER = [
    "姓名", "工号", "部门", "日期", "班次",
    "上班1打卡时间", "上班1打卡结果", "下班1打卡时间", "下班1打卡结果",
    "上班2打卡时间", "上班2打卡结果", "下班2打卡时间", "下班2打卡结果",
]  # fmt: skip
WEEK = "一二三四五六日"


def working(day: date) -> bool:
    """The demo month's working days."""
    return day == MAKEUP or (day.weekday() < 5 and day != HOLIDAY)


def d(text: str) -> date:
    return date.fromisoformat(f"2026-09-{text}")


# (employee, day) → the four punch times ("" = no punch); anything else is a normal day.
SPECIAL: dict[tuple[str, date], tuple[str, str, str, str]] = {
    ("E03", d("01")): ("08:33", "12:01", "13:25", "17:31"),  # 3 min late: under the first band
    ("E04", d("01")): ("08:35", "12:01", "13:25", "17:31"),  # 5 min: ¥10 (5 included)
    ("E05", d("02")): ("08:44", "12:01", "13:25", "17:31"),  # 14 min: ¥10
    ("E06", d("02")): ("08:45", "12:01", "13:25", "17:31"),  # 15 min: ¥30
    ("E07", d("03")): ("09:29", "12:01", "13:25", "17:31"),  # 59 min: ¥30
    ("E08", d("03")): ("09:31", "12:01", "13:25", "17:31"),  # 61 min: ¥30, the band the seed does not state
    ("E09", d("04")): ("10:30", "12:01", "13:25", "17:31"),  # 120 min: still ¥30
    ("E10", d("04")): ("10:31", "12:01", "13:25", "17:31"),  # 121 min: absence
    ("E11", d("07")): ("08:25", "12:01", "13:25", "17:10"),  # early 20 min: ¥30
    ("E12", d("07")): ("08:25", "12:01", "", "17:31"),  # no afternoon sign-in: 缺卡
    ("E13", d("08")): ("", "", "", ""),  # nothing, no leave: 旷工
    ("E14", MAKEUP): ("", "", "", ""),  # absent on the make-up Sunday: 旷工
    ("E02", HOLIDAY): ("09:00", "", "", "15:00"),  # came in on the holiday: off, ignored
    ("E17", d("09")): ("", "", "", ""),  # sick leave 09-09..10, phoned 08:40; no certificate
    ("E17", d("10")): ("", "", "", ""),
    ("E18", d("14")): ("", "", "", ""),  # sick leave phoned at 08:50 (20 min after start)
    ("E19", d("15")): ("", "", "", ""),  # 事假 approved
    ("E20", d("16")): ("", "", "", ""),  # 公假 approved
    ("E21", d("17")): ("", "", "", ""),  # 出差 09-17..18 approved
    ("E21", d("18")): ("", "", "", ""),
    ("E22", d("21")): ("", "", "", ""),  # 事假 asked, never approved: 旷工
    ("E25", d("22")): ("08:25", "12:01", "13:50", "17:31"),  # afternoon 20 min late: ¥30
    ("E26", d("22")): ("08:50", "12:01", "13:25", "17:31"),  # vendor says 严重迟到; we say 20 min: ¥30
    ("E26", d("23")): ("08:36", "12:01", "13:25", "17:31"),  # vendor says 正常 (its grace); we say 6 min: ¥10
    ("E27", d("23")): ("08:25", "12:01", "13:25", ""),  # no sign-out: 缺卡
    ("E29", d("24")): ("08:25", "12:01", "13:25", "15:20"),  # early 130 min: absence
    ("E30", d("24")): ("08:45", "12:01", "13:25", "17:00"),  # late 15 and early 30: ¥30 + ¥30
}
# E28 is absent from 09-01 through the make-up Sunday 09-20: 15 working days in a row.
for _day in MONTH:
    if working(_day) and _day <= MAKEUP:
        SPECIAL[("E28", _day)] = ("", "", "", "")

VENDOR = {"E26": {d("22"): "严重迟到", d("23"): "正常"}}


def normal(i: int) -> tuple[str, str, str, str]:
    """A person's ordinary day: in before 08:30 and 13:30, out after 12:00 and 17:30."""
    return (f"08:{20 + i % 8:02d}", f"12:{1 + i % 3:02d}", f"13:{20 + i % 7:02d}", f"17:{31 + i % 5:02d}")


def vendor_result(slot: int, value: str, start: str) -> str:
    """What DingTalk writes beside a time (its own 10-minute grace and 30-minute 严重迟到)."""
    if not value:
        return "缺卡"
    h, m = (int(x) for x in value.split(":"))
    sh, sm = (int(x) for x in start.split(":"))
    diff = (h * 60 + m) - (sh * 60 + sm)
    if slot in (0, 2):
        return "正常" if diff <= 10 else ("严重迟到" if diff >= 30 else "迟到")
    return "正常" if diff >= 0 else "早退"


def people() -> list[dict[str, str]]:
    """The 40 people of 客服部: E01 is its manager; E28 earns the local minimum wage."""
    out = []
    for i in range(1, 41):
        key = f"E{i:02d}"
        out.append(
            {
                "工号": key,
                "姓名": f"客服{i:02d}",
                "部门": "cs",
                "月薪": "2300" if key == "E28" else "4000",
                "入职日期": f"20{10 + i % 15:02d}-03-01",
                "手机": f"+86139000{i:05d}",
            }
        )
    return out


def rows() -> list[list[str]]:
    """The DingTalk rows: one per person and day, rest days as 休息."""
    out = []
    for p in people():
        key = p["工号"]
        i = int(key[1:])
        for day in MONTH:
            label = f"{day.isoformat()} 星期{WEEK[day.weekday()]}"
            if (key, day) in SPECIAL:
                times = SPECIAL[(key, day)]
            elif working(day):
                times = normal(i)
            else:
                out.append([p["姓名"], key, "客服部", label, "休息", "", "", "", "", "", "", "", ""])
                continue
            shift = "休息" if not working(day) else "客服班 08:30-12:00 13:30-17:30"
            starts = ("08:30", "12:00", "13:30", "17:30")
            results = [vendor_result(s, t, starts[s]) if working(day) else "" for s, t in enumerate(times)]
            if key in VENDOR and day in VENDOR[key]:
                results[0] = VENDOR[key][day]
            if working(day) and not any(times):
                results = ["旷工"] * 4
            line = [p["姓名"], key, "客服部", label, shift]
            for t, r in zip(times, results, strict=True):
                line += [t, r]
            out.append(line)
    return out


def main() -> None:
    """Rewrite the two demo files."""
    with (HERE / "employees.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(people()[0]))
        w.writeheader()
        w.writerows(people())
    with (HERE / "punches-2026-09.csv").open("w", encoding="utf-8", newline="") as fh:
        w2 = csv.writer(fh)
        w2.writerow(HEADER)
        w2.writerows(rows())


if __name__ == "__main__":
    main()
    print(f"wrote {HERE / 'employees.csv'} and {HERE / 'punches-2026-09.csv'}")
