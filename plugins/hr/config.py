"""``[hr]``: the people, their departments, managers and shifts, and every number of the
attendance rules (plugins/hr/README.md) as a field default (seed 第四篇 考勤制度, 第五篇).

Employees are the people of ``[staff.people]`` (``staff = "zhang"``) or people only hr
knows (an imported register, ``kefu hr import employees``): one key per person, so the
engineer of the complaints plugin and the employee of the attendance sheet are the same.
Figures the seed states are marked *(seed)*; the others are defaults to set by the
department. Not legal advice: see the README.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kefu.api import PluginContext


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShiftConfig(_Strict):
    """A day's shift: morning and afternoon sign-in (seed: 上午和下午上班前签到) and the day's end."""

    morning_start: time = Field(default=time(8, 30), description="上午上班: the morning sign-in is due")
    morning_end: time = Field(default=time(12, 0), description="上午下班")
    afternoon_start: time = Field(default=time(13, 30), description="下午上班: the afternoon sign-in is due")
    afternoon_end: time = Field(default=time(17, 30), description="下午下班: leaving earlier is early leave")
    window_before: int = Field(default=120, ge=0, description="a sign-in counts from this many minutes before")
    grace: int = Field(default=0, ge=0, description="minutes late or early that are not counted at all")
    sign_out: bool = Field(default=True, description="a sign-out at the day's end is expected (early leave)")
    days: str = Field(
        default="calendar",
        description="'calendar': the China working calendar (holidays off, 调休 days on); or 'mon-sat', 'daily' …",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ShiftConfig:
        if not self.morning_start < self.morning_end <= self.afternoon_start < self.afternoon_end:
            raise ValueError("shift times must run morning_start < morning_end <= afternoon_start < afternoon_end")
        return self


class DepartmentConfig(_Strict):
    """A 部门: its name, its manager (who approves its leave), its shift."""

    name: str = ""
    manager: str = Field(default="", description="employee key of the department's manager (部门经理)")
    shift: str = Field(default="default", description="key of [hr.shifts]")


class EmployeeConfig(_Strict):
    """One employee given in config (an imported register adds or overrides these)."""

    name: str = ""
    number: str = Field(default="", description="工号 as the clock-in device knows it (default: the key)")
    department: str = ""
    manager: str = Field(default="", description="employee key of the superior; default the department's manager")
    shift: str = Field(default="", description="key of [hr.shifts]; default the department's")
    salary: Decimal = Field(default=Decimal("0"), ge=0, description="monthly pay before deductions (¥)")
    hired: date | None = Field(default=None, description="start of work (years of work for 年休假)")
    left: date | None = None
    phone: str | None = None
    email: str | None = None


class Band(_Strict):
    """Late or early minutes in [from_minutes, to_minutes) cost ``amount`` each time."""

    from_minutes: int = Field(ge=0)
    to_minutes: int = Field(gt=0)
    amount: Decimal = Field(ge=0)
    seed: bool = Field(default=True, description="the seed states this band; False: a department default")


def _seed_bands() -> list[Band]:
    # 考勤制度 四: 5 分钟以上 15 分钟以下 10 元; 15 分钟以上 1 小时以下 30 元; 超过两小时按旷工处理.
    # 60–120 min is not stated in the seed: ¥30 is our default (the 15–60 figure carried on).
    return [
        Band(from_minutes=5, to_minutes=15, amount=Decimal("10")),
        Band(from_minutes=15, to_minutes=60, amount=Decimal("30")),
        Band(from_minutes=60, to_minutes=121, amount=Decimal("30"), seed=False),
    ]


class LateConfig(_Strict):
    """迟到 / 早退: bands and the point where lateness counts as absence."""

    bands: list[Band] = Field(default_factory=_seed_bands)
    absence_over: int = Field(default=120, description="late or early more than this many minutes = 旷工 (seed)")
    missing_sign_in: Literal["flag", "absence"] = Field(
        default="flag",
        description="one missing sign-in (缺卡): 'flag' lists it for HR; 'absence' counts half a day absent",
    )

    def band(self, minutes: int) -> Band | None:
        """The band ``minutes`` falls in, or None (under the first band, or absence)."""
        for b in self.bands:
            if b.from_minutes <= minutes < b.to_minutes:
                return b
        return None


class ProxyConfig(_Strict):
    """代签: each of the two pays ``amount`` each time; from ``freeze_from`` times a year the bonus is frozen."""

    amount: Decimal = Field(default=Decimal("10"), description="¥ to each of the two, each time (seed)")
    freeze_from: int = Field(default=3, ge=1, description="from this many times in a year: bonus level frozen (seed)")


class AbsenceConfig(_Strict):
    """旷工: 旷一扣三 (seed), and when HR reviews (never an automatic dismissal)."""

    days_pay: Decimal = Field(default=Decimal("3"), description="days' pay one absent day costs (旷一扣三, seed)")
    review_consecutive: int = Field(default=15, ge=1, description="consecutive absent working days → HR review")
    review_in_year: int = Field(default=30, ge=1, description="absent days in a calendar year → HR review")


class LeaveTypeConfig(_Strict):
    """A kind of leave: paid or not, and what it needs."""

    name: str
    paid: Decimal = Field(default=Decimal("1"), ge=0, le=1, description="share of the day's pay kept (事假 0, 公假 1)")
    certificate: bool = Field(default=False, description="a certificate is due on the first day back (病假, seed)")
    phone_within: int | None = Field(default=None, description="must be phoned in within N min of shift start")
    min_wage_share: Decimal = Field(
        default=Decimal("1"), description="share of the minimum wage due on such days (病假 0.8)"
    )
    allowance: Decimal = Field(default=Decimal("0"), ge=0, description="¥ of the day's 福利补贴 withheld each day")
    half_days: bool = Field(
        default=False, description="may be taken for a morning or an afternoon (上午/下午, 0.5 day)"
    )


def _leave_types() -> dict[str, LeaveTypeConfig]:
    return {
        "sick": LeaveTypeConfig(
            # Seed: 病假期间扣除当日福利补贴 (the allowance is the department's figure); pay itself is kept.
            name="病假",
            certificate=True,
            phone_within=15,
            min_wage_share=Decimal("0.8"),
            half_days=True,
        ),
        "personal": LeaveTypeConfig(name="事假", paid=Decimal("0"), min_wage_share=Decimal("0"), half_days=True),
        "public": LeaveTypeConfig(name="公假"),
        "trip": LeaveTypeConfig(name="出差"),
        "annual": LeaveTypeConfig(name="年休假", half_days=True),
        "marriage": LeaveTypeConfig(name="婚假"),
        "bereavement": LeaveTypeConfig(name="丧假"),
        "maternity": LeaveTypeConfig(name="产假"),
        "paternity": LeaveTypeConfig(name="陪产假"),
    }


class ProvinceLeave(_Strict):
    """婚假 / 丧假 / 陪产假 / 产假 extra days of one province's regulations (check the current text)."""

    marriage: int = 3
    bereavement: int = 3
    paternity: int = 15
    maternity_extra: int = 0


def _provinces() -> dict[str, ProvinceLeave]:
    # Figures to check against the province's current 人口与计划生育条例; defaults, not advice.
    return {
        "national": ProvinceLeave(marriage=3, bereavement=3, paternity=0, maternity_extra=0),
        "广东": ProvinceLeave(marriage=3, bereavement=3, paternity=15, maternity_extra=80),
        "上海": ProvinceLeave(marriage=10, bereavement=3, paternity=10, maternity_extra=60),
        "北京": ProvinceLeave(marriage=3, bereavement=3, paternity=15, maternity_extra=60),
    }


class StatutoryLeaveConfig(_Strict):
    """Statutory leave besides the seed's: 年休假 by years of work, 产假, and the province's days."""

    annual: dict[int, int] = Field(
        default_factory=lambda: {1: 5, 10: 10, 20: 15},
        description="years of work (at least) → 年休假 days (职工带薪年休假条例 art. 3)",
    )
    maternity: int = Field(default=98, description="产假 days (女职工劳动保护特别规定 art. 7)")
    maternity_dystocia: int = Field(default=15, description="extra days for 难产")
    maternity_per_extra_baby: int = Field(default=15, description="extra days for each further baby")
    province: str = Field(default="national", description="key of provinces: whose 婚假/丧假/陪产假 apply")
    provinces: dict[str, ProvinceLeave] = Field(default_factory=_provinces)

    def annual_days(self, years: int) -> int:
        """年休假 days for ``years`` of work."""
        return max((days for at_least, days in self.annual.items() if years >= at_least), default=0)

    def maternity_days(self, *, dystocia: bool = False, babies: int = 1) -> int:
        """产假 days: 98 + extensions + the province's extra days."""
        extra = self.provinces.get(self.province, ProvinceLeave()).maternity_extra
        return (
            self.maternity
            + (self.maternity_dystocia if dystocia else 0)
            + self.maternity_per_extra_baby * max(0, babies - 1)
            + extra
        )


class LeaveConfig(_Strict):
    """请假: types, keywords of a mail/SMS request, the certificate reminder and escalation."""

    types: dict[str, LeaveTypeConfig] = Field(default_factory=_leave_types)
    keywords: list[str] = Field(default_factory=lambda: ["请假"], description="a mail/SMS with one is a request")
    remind_hour: int = Field(default=17, ge=0, le=23, description="local hour a missing certificate is reminded")
    escalate_after_days: int = Field(default=1, ge=1, description="working days after the reminder → the manager")
    statutory: StatutoryLeaveConfig = Field(default_factory=StatutoryLeaveConfig)


class SheetConfig(_Strict):
    """奖罚评分表: due one working day before payday (seed), to the approver, reminded until approved."""

    approver: str = Field(default="", description="staff key of whoever approves the sheet (上级)")
    payday: int = Field(default=10, ge=1, le=28, description="day of the next month wages are paid")
    due_working_days_before: int = Field(default=1, ge=1, description="working days before payday (seed: 1)")
    send_hour: int = Field(default=9, ge=0, le=23, description="local hour the sheet is sent and reminded")
    pay_days_per_month: Decimal = Field(default=Decimal("21.75"), description="月计薪天数: a day's pay = salary / this")
    scorecards: bool = Field(default=True, description="add other plugins' monthly scorecards (complaints KPIs)")


class RostersConfig(_Strict):
    """值班表/值日表: which rotas of ``[staff.rotas]`` hr publishes and reminds the day before."""

    rotas: list[str] = Field(default_factory=list, description="rota names of [staff.rotas] / imported shifts")
    remind_hour: int = Field(default=16, ge=0, le=23, description="local hour the day-before reminder goes out")
    import_start: time = Field(default=time(8, 0), description="hr import roster: a listed day's duty starts")
    import_end: time = Field(
        default=time(20, 0), description="hr import roster: and ends (at or before the start: the next morning)"
    )


class HrConfig(_Strict):
    """The ``[hr]`` section."""

    penalties: Literal["record_only", "deduct"] = Field(
        default="record_only",
        description="record_only: facts listed, no money; deduct: money lines under the published rules",
    )
    rules_version: str = Field(default="", description="version of the adopted, published rules (deduct needs it)")
    rules_published: date | None = Field(default=None, description="publication date (劳动合同法 art. 4)")
    minimum_wage: Decimal = Field(default=Decimal("2300"), ge=0, description="local monthly minimum wage (¥)")
    employees: dict[str, EmployeeConfig] = Field(default_factory=dict)
    departments: dict[str, DepartmentConfig] = Field(default_factory=dict)
    shifts: dict[str, ShiftConfig] = Field(default_factory=lambda: {"default": ShiftConfig()})
    late: LateConfig = Field(default_factory=LateConfig)
    proxy: ProxyConfig = Field(default_factory=ProxyConfig)
    absence: AbsenceConfig = Field(default_factory=AbsenceConfig)
    leave: LeaveConfig = Field(default_factory=LeaveConfig)
    sheet: SheetConfig = Field(default_factory=SheetConfig)
    rosters: RostersConfig = Field(default_factory=RostersConfig)
    hr_reviewer: str = Field(default="", description="staff target who gets HR review cases (人事)")
    token_secret: str | None = Field(default=None, description="secret naming the clock-in device's bearer token")

    @model_validator(mode="after")
    def _deduct_needs_rules(self) -> HrConfig:
        if self.penalties == "deduct" and (not self.rules_version or self.rules_published is None):
            raise ValueError(
                "penalties = 'deduct' needs rules_version and rules_published: deductions rest on rules "
                "adopted and published under 劳动合同法 art. 4"
            )
        for key, dept in self.departments.items():
            if dept.shift not in self.shifts:
                raise ValueError(
                    f"departments.{key}.shift: unknown shift {dept.shift!r} (add [hr.shifts.{dept.shift}])"
                )
        for key, emp in self.employees.items():
            if emp.shift and emp.shift not in self.shifts:
                raise ValueError(f"employees.{key}.shift: unknown shift {emp.shift!r}")
        return self


Ctx = PluginContext[HrConfig]
