"""Imports through the core's one pipeline: the register and the punches (打卡记录).

Punches come in three layouts, all read by one row model whose column names are the
ready maps:

* 钉钉 (DingTalk) 打卡结果 wide export: ``姓名, 工号, 部门, 日期, 班次, 上班1打卡时间,
  上班1打卡结果, 下班1打卡时间, 下班1打卡结果, 上班2打卡时间 …`` (one row a person-day),
  with one header row or, as DingTalk downloads it, two: ``上班1`` merged over
  ``打卡时间 | 打卡结果`` and 姓名, 工号 … merged down, read by the core pipeline as
  ``上班1打卡时间``, ``上班1打卡结果`` (CSV or XLSX, under its title row);
* 企业微信 (WeCom) 打卡记录: ``姓名, 账号, 部门, 打卡日期, 打卡时间, 打卡类型, 打卡状态,
  打卡设备`` (one row a punch);
* a long layout of any device: ``工号, 打卡时间`` (date and time), optionally ``类型``
  (in/out, 上班/下班), ``设备``, ``结果``.

Dates are read as the exports write them (the core's ``parse_day``): DingTalk's
``26-11-02 星期一``, WeCom's ``2026/11/02 星期一``, ``2026-11-02 周一``, and ``11-02``
in a file whose title names its dates (``每日统计表 统计日期：2026-11-01 至 2026-11-30``).
A time is ``08:58``, ``08:58:12``, ``次日 00:30`` (a night shift's punch after midnight,
stored on the next day) or a date and time; anything else is a bad row naming its cell.

Every punch is stored as it came (source, device, the vendor's result code) and never
edited; a re-import of the same file adds nothing. Each batch loads only the stored
punches of its own 工号 between its first and last punch (``prepare``), so a database
holding years of punches costs an import nothing beyond the file's own days. The vendor's 迟到/严重迟到 verdict is
kept on the punch and not used: lateness is recomputed from the shift.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, cast

from pydantic import BeforeValidator, ValidationInfo, create_model
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from kefu.api.imports import (
    Code,
    Day,
    Importer,
    ImportRow,
    Number,
    OptionalPhone,
    Outcome,
    RowError,
    column,
    parse_day,
)
from kefu.plugins.hr import rosters
from kefu.plugins.hr.config import Ctx
from kefu.plugins.hr.models import Employee, Punch
from kefu.plugins.hr.register import by_number, register

_TIME = re.compile(r"(?:(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*)?(次日)?\s*(\d{1,2})[:：](\d{2})")
NO_PUNCH = ("", "-", "--", "未打卡", "缺卡", "无")
SLOTS = (("in1", "上班1", "in"), ("out1", "下班1", "out"), ("in2", "上班2", "in"), ("out2", "下班2", "out"))


_CELL = re.compile(
    r"^(?P<day>.*?)\s*(?P<next>次日|翌日)?\s*(?P<h>\d{1,2})\s*:\s*(?P<m>\d{2})(?::\d{2}(?:\.\d+)?)?\s*(?P<rest>\D*)$"
)


def clock_cell(text: str, span: tuple[date, date] | None = None) -> str:
    """A time cell in the one form :func:`parse_clock` reads: ``08:58``, ``次日 00:30``, ``2026-11-02 08:58``.

    Accepts what the exports write (seconds, a date in any form ``parse_day`` reads, a
    trailing word such as 外勤); '' for no punch; ValueError for anything else.
    """
    value = unicodedata.normalize("NFKC", text).strip()
    if value in NO_PUNCH:
        return ""
    match = _CELL.match(value)
    if not match or int(match["h"]) > 23 or int(match["m"]) > 59:
        raise ValueError(f"{text!r} is not a punch time (write 08:58, 次日 00:30 or 2026-11-02 08:58)")
    day = match["day"].strip()
    prefix = f"{parse_day(day, span).isoformat()} " if day else ""
    if match["next"]:
        prefix += "次日 "
    return f"{prefix}{int(match['h']):02d}:{match['m']}"


def _clock(value: Any, info: ValidationInfo) -> Any:
    return clock_cell(value, (info.context or {}).get("span")) if isinstance(value, str) else value


Clock = Annotated[str, BeforeValidator(_clock)]
"""A punch time cell, checked and written in one form ('' for no punch)."""


def parse_clock(text: str, day: date | None) -> datetime | None:
    """A punch time as exports write it: ``08:03``, ``08:03:12``, ``次日 01:10``, ``2026-11-02 08:03``.

    None for an empty cell or a vendor's "no punch" word; ValueError for anything else.
    """
    text = text.strip()
    if text in NO_PUNCH:
        return None
    match = _TIME.search(text)
    if not match:
        raise ValueError(f"{text!r} is not a time (write 08:03 or 2026-11-02 08:03)")
    y, mo, d, next_day, h, mi = match.groups()
    if y:
        base = date(int(y), int(mo), int(d))
    elif day is not None:
        base = day
    else:
        raise ValueError(f"{text!r} has no date and the row has no 日期 column")
    if next_day:
        base += timedelta(days=1)
    return datetime(base.year, base.month, base.day, int(h), int(mi))


def direction_of(text: str) -> str:
    """in, out or '' from 上班打卡 / 下班打卡 / in / out / 签到 / 签退."""
    t = text.strip().lower()
    if not t:
        return ""
    if t in ("in", "i", "上班", "签到") or t.startswith("上班"):
        return "in"
    if t in ("out", "o", "下班", "签退") or t.startswith("下班"):
        return "out"
    return ""


class PunchRow(ImportRow):
    """One row of a punch export, in any of the three layouts."""

    number: Code = column("工号", "账号", "员工编号", "UserId", "考勤号码", "employee_no")
    name: str = column("姓名", "员工姓名", default="")
    department: str = column("部门", default="")
    day: Day | None = column("日期", "打卡日期", "考勤日期", default=None)
    shift_name: str = column("班次", default="")
    in1: Clock = column("上班1打卡时间", "上班打卡时间", default="")
    in1_result: str = column("上班1打卡结果", "上班打卡结果", default="")
    out1: Clock = column("下班1打卡时间", "下班打卡时间", default="")
    out1_result: str = column("下班1打卡结果", "下班打卡结果", default="")
    in2: Clock = column("上班2打卡时间", default="")
    in2_result: str = column("上班2打卡结果", default="")
    out2: Clock = column("下班2打卡时间", default="")
    out2_result: str = column("下班2打卡结果", default="")
    at: Clock = column("打卡时间", "时间", "punch_time", default="")
    kind: str = column("打卡类型", "类型", "direction", default="")
    result: str = column("打卡结果", "打卡状态", "结果", default="")
    device: str = column("打卡设备", "设备", "考勤机", "device", default="")


class PunchImport(Importer[PunchRow]):
    """``kefu hr import punches``: raw punches, keyed by 工号 + day (wide) or 工号 + time + type (long)."""

    name = "punches"
    row_model = PunchRow
    key_label = "punch"

    def __init__(self, ctx: Ctx, source: str | None = None) -> None:
        self.ctx = ctx
        self.source = source
        self.now = ctx.now()
        self.numbers: dict[str, str] = {}
        self.known: set[tuple[str, datetime, str]] = set()
        self.pending: list[dict[str, Any]] = []
        self.loaded = 0  # stored punches read to compare against, over the whole import

    def key(self, row: PunchRow) -> tuple[str, ...]:
        """Wide: 工号 and day; long: 工号, time and type."""
        if row.at:
            return (row.number, str(row.day or ""), row.at, row.kind)
        return (row.number, str(row.day or ""))

    def start(self, session: Session) -> None:
        """The register's numbers; stored punches are loaded batch by batch (``prepare``)."""
        self.numbers = by_number(register(self.ctx))
        self.pending = []
        self.known = set()

    def prepare(self, session: Session, rows: list[PunchRow]) -> None:
        """The stored punches this batch can meet: its 工号, from its first punch to its last.

        Earlier batches of the file are flushed by then, so they are found the same way
        and a punch given twice in one file is still stored once.
        """
        spans: dict[str, tuple[datetime, datetime]] = {}
        for row in rows:
            try:
                found = self.punches(row)
            except (ValueError, RowError):
                continue  # check() refuses the row
            for at, *_ in found:
                lo, hi = spans.get(row.number, (at, at))
                spans[row.number] = (min(lo, at), max(hi, at))
        self.known = set()
        if not spans:
            return
        tz = self.ctx.tz
        first = min(lo for lo, _ in spans.values()).replace(tzinfo=tz)
        last = max(hi for _, hi in spans.values()).replace(tzinfo=tz)
        for n, a, d in session.execute(
            select(Punch.number, Punch.at, Punch.direction).where(
                Punch.number.in_(sorted(spans)), Punch.at >= first, Punch.at <= last
            )
        ):
            # Kept only inside the number's own span: a batch holding the end of one person's
            # month and the start of the next one's keeps neither one's whole month.
            local = a.astimezone(tz)
            lo, hi = spans[n]
            if lo <= local.replace(tzinfo=None) <= hi:
                self.known.add((n, local, d))
        self.loaded += len(self.known)

    def punches(self, row: PunchRow) -> list[tuple[datetime, str, str, str]]:
        """(local time, direction, slot, vendor result) of the row's punches."""
        out = []
        if row.at:
            at = parse_clock(row.at, row.day)
            if at is not None:
                out.append((at, direction_of(row.kind), row.kind, row.result))
            return out
        if row.day is None:
            raise RowError("a wide row needs its 日期", "day")
        for field, slot, direction in SLOTS:
            at = parse_clock(getattr(row, field), row.day)
            if at is not None:
                out.append((at, direction, slot, getattr(row, f"{field}_result")))
        return out

    def check(self, row: PunchRow) -> None:
        """A known 工号 and readable times."""
        if row.number not in self.numbers:
            raise RowError(f"工号 {row.number!r} is not in the register (kefu hr import employees)", "number")
        try:
            self.punches(row)
        except ValueError as exc:
            raise RowError(str(exc), "at" if row.at else "in1") from exc

    def apply(self, session: Session, row: PunchRow) -> Outcome:
        """Store each punch not stored yet, exactly as it came."""
        source = self.source or ("long" if row.at else "dingtalk")
        created = False
        for local, direction, slot, result in self.punches(row):
            at = local.replace(tzinfo=self.ctx.tz)
            if (row.number, at, direction) in self.known:
                continue
            self.known.add((row.number, at, direction))
            self.pending.append(
                {
                    "number": row.number,
                    "name": row.name,
                    "at": at,
                    "direction": direction,
                    "slot": slot,
                    "source": source,
                    "device": row.device,
                    "vendor_result": result,
                    "recorded_at": self.now,
                }
            )
            created = True
        return "created" if created else "unchanged"

    def end_batch(self, session: Session) -> None:
        """The batch's punches in one Core executemany (a month of 1,000 people is ~85,000 rows)."""
        if self.pending:
            session.execute(insert(cast(Table, Punch.__table__)), self.pending)
            self.pending = []


class EmployeeRow(ImportRow):
    """One person of the register (花名册)."""

    number: Code = column("工号", "员工编号", "employee_no")
    key: Code | None = column("账号", "staff_key", "登录名", default=None)
    name: str = column("姓名", "员工姓名")
    department: str = column("部门", default="")
    manager: str = column("上级", "直属上级", "manager", default="")
    shift: str = column("班次", default="")
    salary: Number = column("月薪", "工资", "基本工资", default=0.0)
    hired: Day | None = column("入职日期", "参加工作日期", default=None)
    left: Day | None = column("离职日期", default=None)
    phone: OptionalPhone = column("手机", "电话", "联系电话", default=None)
    email: str | None = column("邮箱", "email", default=None)


class EmployeeImport(Importer[EmployeeRow]):
    """``kefu hr import employees``: the register, keyed by 工号."""

    name = "employees"
    row_model = EmployeeRow
    key_label = "工号"

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.now = ctx.now()
        self.rows: dict[str, Employee] = {}

    def key(self, row: EmployeeRow) -> str:
        """The 工号."""
        return row.number

    def start(self, session: Session) -> None:
        """The register as stored."""
        self.rows = {e.key: e for e in session.scalars(select(Employee))}

    def check(self, row: EmployeeRow) -> None:
        """A known department and shift, dates in order."""
        cfg = self.ctx.config
        if row.department and cfg.departments and row.department not in cfg.departments:
            raise RowError(f"部门 {row.department!r} is not in [hr.departments]", "department")
        if row.shift and row.shift not in cfg.shifts:
            raise RowError(f"班次 {row.shift!r} is not in [hr.shifts]", "shift")
        if row.hired and row.left and row.left < row.hired:
            raise RowError("离职日期 is before 入职日期", "left")

    def apply(self, session: Session, row: EmployeeRow) -> Outcome:
        """Create or update the person."""
        key = row.key or row.number
        values: dict[str, object] = {
            "number": row.number,
            "name": row.name,
            "department": row.department,
            "manager": row.manager,
            "shift": row.shift,
            "salary": Decimal(str(round(row.salary, 2))).quantize(Decimal("0.01")),
            "hired": row.hired,
            "left": row.left,
            "phone": row.phone,
            "email": row.email,
        }
        emp = self.rows.get(key)
        if emp is None:
            emp = Employee(key=key, updated_at=self.now, **values)
            session.add(emp)
            self.rows[key] = emp
            return "created"
        changed = False
        for name, value in values.items():
            if getattr(emp, name) != value:
                setattr(emp, name, value)
                changed = True
        if changed:
            emp.updated_at = self.now
        return "updated" if changed else "unchanged"


# 值班表 / 值日表: a month of duty as a spreadsheet, into the core's rotas (rosters.publish).
NOT_ON = ("", "-", "--", "休", "×", "x", "0", "否", "无")
ON = ("√", "✓", "✔", "○", "●", "1", "是", "y", "yes", "值", "值班", "值日", "班")
_PEOPLE = re.compile(r"[、,，/;；\s]+")


class RosterRow(ImportRow):
    """One day of a duty list: 日期 and who (one or several, 、-separated: key, 工号 or name)."""

    day: Day = column("日期", "值班日期", "值日日期", "date")
    who: str = column("值班人", "值日人", "值班人员", "值日人员", "值班", "值日", "人员", "who")


def _day_headers(n: int, month: date | None) -> tuple[str, ...]:
    """How a wide roster heads day ``n``'s column: 1, 01, 1日, 1号; with the month, 11-01, 11/1, 11月1日 …"""
    out = [str(n), f"{n:02d}", f"{n}日", f"{n}号"]
    if month is not None:
        try:
            d = date(month.year, month.month, n)
        except ValueError:
            return tuple(out)
        m = d.month
        week = "一二三四五六日"[d.weekday()]
        out += [f"{m}-{n}", f"{m:02d}-{n:02d}", f"{m}/{n}", f"{m:02d}/{n:02d}", f"{m}月{n}日", d.isoformat()]
        out += [f"{d.year}/{m}/{n}", f"{d.year}/{m:02d}/{n:02d}"]
        out += [f"{h}{w}{week}" for h in out[:4] for w in ("周", "星期")]
    return tuple(out)


class _RosterImport(Importer[Any]):
    """What both roster layouts share: the rota, the day's window, people by key, 工号 or name."""

    key_label = "day"

    def __init__(self, ctx: Ctx, rota: str) -> None:
        self.ctx = ctx
        self.rota = rota
        self.lookup: dict[str, str] = {}
        self.cfg = ctx.config.rosters

    def start(self, session: Session) -> None:
        """Register keys, 工号 and names (a name two people share is not looked up)."""
        lookup: dict[str, str] = {}
        names: dict[str, list[str]] = {}
        for person in register(self.ctx).values():
            lookup[person.key] = lookup[person.number] = person.key
            names.setdefault(person.name, []).append(person.key)
        self.lookup = {**{n: ks[0] for n, ks in names.items() if len(ks) == 1}, **lookup}

    def person(self, text: str, column_name: str) -> str:
        """The staff key of one written person; RowError naming ``column_name`` otherwise."""
        key = self.lookup.get(text, text)
        if self.ctx.person(key) is None:
            raise RowError(f"{text!r} is not in [staff.people] (nor a 工号 or name of the register)", column_name)
        return key

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The day's duty: [hr.rosters] import_start to import_end (the next morning when not after it)."""
        tz = self.ctx.tz
        starts = datetime.combine(day, self.cfg.import_start, tz)
        ends = datetime.combine(day, self.cfg.import_end, tz)
        return starts, ends if ends > starts else ends + timedelta(days=1)


class RosterImport(_RosterImport):
    """``kefu hr import roster``: one row a day (日期, 值班人/值日人), written as it is read."""

    name = "roster"
    row_model = RosterRow

    def key(self, row: RosterRow) -> str:
        """The day."""
        return row.day.isoformat()

    def people(self, row: RosterRow) -> list[str]:
        """The day's people, in order, once each."""
        keys: list[str] = []
        for text in _PEOPLE.split(row.who.strip()):
            if text and (key := self.person(text, "who")) not in keys:
                keys.append(key)
        return keys

    def check(self, row: RosterRow) -> None:
        """Everyone named is a known person."""
        self.people(row)

    def apply(self, session: Session, row: RosterRow) -> Outcome:
        """The day's dated shift, told to whoever it changes for; unchanged when it is already so."""
        starts, ends = self.window(row.day)
        people = self.people(row)
        now = rosters.dated(self.ctx, self.rota, starts, ends)
        if now == people:
            return "unchanged"
        rosters.publish(self.ctx, self.rota, starts, ends, people)
        return "updated" if now else "created"


class WideRosterImport(_RosterImport):
    """The wide layout: a row a person (姓名), a column a day of ``month``, a mark (√) on duty.

    A day's people come from every row, so the days are written at the end of the file
    (``finish``); a row counts as created when one of its marks is not yet on the rota.
    """

    name = "roster"

    def __init__(self, ctx: Ctx, rota: str, month: date) -> None:
        super().__init__(ctx, rota)
        self.month = month
        fields: dict[str, Any] = {
            "who": (str, column("姓名", "值班人", "值日人", "人员", "工号", "who")),
        }
        for n in range(1, 32):
            fields[f"d{n}"] = (str, column(*_day_headers(n, month), default=""))
        self.row_model = create_model("WideRosterRow", __base__=ImportRow, **fields)
        self.plan: dict[date, list[str]] = {}
        self.staged: dict[date, list[str]] = {}  # this batch's marks: dropped with a rolled-back write

    def start(self, session: Session) -> None:
        """The people's lookup; marks of a rolled-back batch are forgotten."""
        super().start(session)
        self.staged = {}

    def end_batch(self, session: Session) -> None:
        """The batch's marks join the month's plan once its rows are written."""
        for day, keys in self.staged.items():
            self.plan.setdefault(day, []).extend(keys)
        self.staged = {}

    def key(self, row: Any) -> str:
        """The person as written."""
        return str(row.who)

    def marks(self, row: Any) -> list[date]:
        """The days this row marks on duty; RowError for a cell that is neither a mark nor empty."""
        days = []
        for n in range(1, 32):
            text = unicodedata.normalize("NFKC", getattr(row, f"d{n}")).strip().lower()
            if text in NOT_ON:
                continue
            if text not in ON:
                raise RowError(f"{text!r} is not a duty mark (√ on duty, empty or 休 not)", f"d{n}")
            try:
                days.append(date(self.month.year, self.month.month, n))
            except ValueError:
                raise RowError(f"{self.month:%Y-%m} has no day {n}", f"d{n}") from None
        return days

    def check(self, row: Any) -> None:
        """A known person and readable marks."""
        self.person(str(row.who), "who")
        self.marks(row)

    def apply(self, session: Session, row: Any) -> Outcome:
        """Add the person to each marked day's plan; written in ``finish``."""
        key = self.person(str(row.who), "who")
        created = False
        for day in self.marks(row):
            self.staged.setdefault(day, []).append(key)
            created |= key not in rosters.dated(self.ctx, self.rota, *self.window(day))
        return "created" if created else "unchanged"

    def finish(self, session: Session, report: Any) -> None:
        """Each day of the month the file marks: its people as the dated shift, told as ``roster set`` tells."""
        for day in sorted(self.plan):
            people = self.plan[day]
            starts, ends = self.window(day)
            now = rosters.dated(self.ctx, self.rota, starts, ends)
            if sorted(now) != sorted(people):
                rosters.publish(self.ctx, self.rota, starts, ends, people)
                report.notes.append(f"{day}: {'、'.join(now) or '—'} → {'、'.join(people)}")
