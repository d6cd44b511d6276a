"""Pure attendance rules: one employee's day from punches, shift, calendar and leave.

No database and no clock here: times are minutes since local midnight, so a month of a
thousand people is a few million integer comparisons (bench/hr_month.py). Late and
early minutes are always recomputed from the scheduled time; whatever threshold the
vendor used (钉钉 "严重迟到") is kept on the raw punch and ignored here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import Any

from kefu.plugins.hr.config import HrConfig, LeaveTypeConfig, ShiftConfig

ZERO = Decimal("0")


def minutes(t: time) -> int:
    """Minutes since midnight."""
    return t.hour * 60 + t.minute


@dataclass(frozen=True)
class Schedule:
    """A shift as minutes since midnight, computed once per shift (not per day)."""

    morning_start: int
    afternoon_start: int
    afternoon_end: int
    split: int
    afternoon_mid: int
    earliest: int
    grace: int
    sign_out: bool

    @classmethod
    def of(cls, shift: ShiftConfig) -> Schedule:
        """The shift's minutes; a punch before ``split`` (mid-lunch) belongs to the morning."""
        ms, me, a_s = minutes(shift.morning_start), minutes(shift.morning_end), minutes(shift.afternoon_start)
        return cls(
            morning_start=ms,
            afternoon_start=a_s,
            afternoon_end=minutes(shift.afternoon_end),
            split=(me + a_s) // 2,
            afternoon_mid=(a_s + minutes(shift.afternoon_end)) // 2,
            earliest=ms - shift.window_before,
            grace=shift.grace,
            sign_out=shift.sign_out,
        )


@dataclass(frozen=True)
class LeaveDay:
    """Approved leave covering a day, and whether sick leave was phoned in in time."""

    kind: str
    spec: LeaveTypeConfig
    phoned_minute: int | None = None  # minutes since midnight of that day; None: not phoned in
    half: str = ""  # '' the whole day; am / pm: only that half is on leave, the other is worked


@dataclass
class DayOutcome:
    """A day's result: status, minutes, absence and the exception lines for the sheet."""

    status: str  # work, off, leave, absent
    late_minutes: int = 0
    early_minutes: int = 0
    absent: Decimal = ZERO
    leave_kind: str = ""
    lines: list[dict[str, Any]] = field(default_factory=list)


def _late_line(cfg: HrConfig, rule: str, label: str, value: int, out: DayOutcome) -> None:
    """A late/early value: a band's line, or absence beyond ``absence_over`` (seed: 超过两小时按旷工处理)."""
    late = cfg.late
    if value > late.absence_over:
        out.absent = Decimal("1")
        out.lines.append(
            {"rule": "absence", "label": f"{label}{value}分钟，超过{late.absence_over}分钟按旷工处理", "minutes": value}
        )
        return
    band = late.band(value)
    if band is not None:
        out.lines.append(
            {
                "rule": rule,
                "label": f"{label}{value}分钟",
                "minutes": value,
                "amount": str(band.amount),
                "seed": band.seed,
            }
        )


def day_result(
    cfg: HrConfig,
    schedule: Schedule,
    working: bool,
    punches: Sequence[tuple[int, str]],
    leave: LeaveDay | None = None,
    proxies: Iterable[tuple[str, str]] = (),
    requested_leave: str = "",
) -> DayOutcome:
    """The result of one day.

    ``punches`` are (minute of the day, direction 'in'/'out'/'') in time order;
    ``proxies`` are (role 'for'/'by', the other person) of the day's 代签 findings;
    ``requested_leave`` names leave asked for but not approved (noted on an absence).
    """
    if not working:
        return DayOutcome("off")
    half = leave.half if leave is not None else ""
    if leave is not None and not half:
        out = DayOutcome("leave", leave_kind=leave.kind)
        out.lines.append({"rule": "leave", "label": leave.spec.name, "kind": leave.kind, "paid": str(leave.spec.paid)})
        within = leave.spec.phone_within
        if within is not None and (
            leave.phoned_minute is None or leave.phoned_minute > schedule.morning_start + within
        ):
            out.lines.append({"rule": "notice_late", "label": f"{leave.spec.name}未在上班后{within}分钟内电话报告"})
        _proxy_lines(cfg, proxies, out)
        return out
    s = schedule
    in1 = in2 = out2 = None
    afternoon: list[tuple[int, str]] = []
    for minute, direction in punches:
        if minute < s.earliest:
            continue  # too early to be this day's sign-in (e.g. the night before's sign-out)
        if minute < s.split:
            if in1 is None and direction != "out":
                in1 = minute
        else:
            afternoon.append((minute, direction))
    # A lone afternoon punch without a direction is the sign-out when it falls in the
    # afternoon's second half (a long export without 上班/下班), else the sign-in.
    lone = len(afternoon) == 1
    for minute, direction in afternoon:
        if (
            in2 is None
            and out2 is None
            and direction != "out"
            and not (direction == "" and lone and minute >= s.afternoon_mid)
        ):
            in2 = minute
        elif direction != "in":
            out2 = minute
    out = DayOutcome("work")
    slots = [(in1, "上午", s.morning_start), (in2, "下午", s.afternoon_start)]
    if leave is not None and half:
        # Half a day on leave: that half expects nothing, the other half is checked as any day.
        worked = 1 if half == "am" else 0
        slot, value, start = slots[worked][1], slots[worked][0], slots[worked][2]
        out.leave_kind = leave.kind
        name = f"{leave.spec.name}（{'上午' if half == 'am' else '下午'}）"
        out.lines.append(
            {"rule": "leave", "label": name, "kind": leave.kind, "paid": str(leave.spec.paid), "half": half}
        )
        within = leave.spec.phone_within
        leave_start = s.morning_start if half == "am" else s.afternoon_start
        if within is not None and (leave.phoned_minute is None or leave.phoned_minute > leave_start + within):
            out.lines.append({"rule": "notice_late", "label": f"{leave.spec.name}未在上班后{within}分钟内电话报告"})
        if value is None:
            out.status, out.absent = "absent", Decimal("0.5")
            out.lines.append({"rule": "absence", "label": f"旷工半天：{slot}无签到、无请假"})
        elif value - start > s.grace:
            out.late_minutes = value - start
            _late_line(cfg, "late", f"{slot}迟到", value - start, out)
            out.absent = min(out.absent, Decimal("0.5"))
        if half == "am" and value is not None:
            _sign_out(cfg, s, out2, out)
        _proxy_lines(cfg, proxies, out)
        return out
    if in1 is None and in2 is None:
        out.status, out.absent = "absent", Decimal("1")
        label = "旷工：无签到、无请假"
        if requested_leave:
            label += f"（{requested_leave}申请未批准）"
        out.lines.append({"rule": "absence", "label": label})
        _proxy_lines(cfg, proxies, out)
        return out
    for value, slot, start in slots:
        if value is None:
            out.lines.append({"rule": "missing", "label": f"缺卡：{slot}未签到"})
            if cfg.late.missing_sign_in == "absence":
                out.absent += Decimal("0.5")
        elif value - start > s.grace:
            out.late_minutes += value - start
            _late_line(cfg, "late", f"{slot}迟到", value - start, out)
    _sign_out(cfg, s, out2, out)
    out.absent = min(out.absent, Decimal("1"))
    if out.absent >= 1:
        out.status = "absent"
    _proxy_lines(cfg, proxies, out)
    return out


def _sign_out(cfg: HrConfig, s: Schedule, out2: int | None, out: DayOutcome) -> None:
    """Early leave against the shift's end, or the missing sign-out when the shift wants one."""
    if out2 is not None:
        if s.afternoon_end - out2 > s.grace:
            out.early_minutes = s.afternoon_end - out2
            _late_line(cfg, "early", "早退", out.early_minutes, out)
    elif s.sign_out:
        out.lines.append({"rule": "missing", "label": "缺卡：下班未签退"})


def _proxy_lines(cfg: HrConfig, proxies: Iterable[tuple[str, str]], out: DayOutcome) -> None:
    for role, other in proxies:
        label = f"代签：替{other}签到" if role == "by" else f"代签：由{other}代为签到"
        out.lines.append({"rule": "proxy", "label": label, "amount": str(cfg.proxy.amount), "seed": True})


def longest_absent_run(days: Iterable[tuple[date, str]]) -> int:
    """The longest run of absent working days; days off do not break it, any other day does."""
    best = run = 0
    for _day, status in days:
        if status == "absent":
            run += 1
            best = max(best, run)
        elif status != "off":
            run = 0
    return best


def years_of_work(hired: date | None, on: date) -> int:
    """Whole years from ``hired`` to ``on`` (0 without a start date)."""
    if hired is None:
        return 0
    return on.year - hired.year - ((on.month, on.day) < (hired.month, hired.day))
