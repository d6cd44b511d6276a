"""The hr plugin's staff-console page: leave, the certificate, the month's sheet, and attendance.

Every action calls the same function as its ``kefu hr …`` command, with the signed-in
person as the actor: an employee files their own leave (``hr leave request``), the
manager or a manager's superior decides it (``hr leave approve|refuse``: only they may),
HR records a certificate brought back, rebuilds, sends and amends the sheet, and the
approver approves it (``--accept-breaches`` is the form's confirmation). A
:class:`~kefu.plugins.hr.leave.LeaveError` or
:class:`~kefu.plugins.hr.sheet.SheetError` is the refusal the page shows.

The tables are personal (``ConsolePage(personal=True)``): data about an employee is shown
only to that employee, their manager (the register's 上级) and HR (``[hr] hr_reviewer``);
the sheet also to its approver. The console's own scope (plugins × units) cannot say
"one's own records", so employees sign in with the ``self`` role and see no hr case.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from kefu.api import Case, ConsoleAction, ConsoleField, ConsolePage
from kefu.plugins.hr import attendance, leave, sheet
from kefu.plugins.hr.config import Ctx
from kefu.plugins.hr.models import Amendment, DayResult, Leave, Sheet
from kefu.plugins.hr.register import Person, register

# Actions only HR or the approver use: hidden from employees (``self``), checked again in run.
OFFICE_ROLES = ("admin", "head", "agent")
STATUS = {"work": "出勤", "off": "休息", "leave": "请假", "absent": "旷工"}
LEAVE_STATE = {"requested": "待审批", "approved": "已批准", "refused": "未批准"}
SHEET_STATE = {"draft": "草稿", "sent": "待批准", "approved": "已批准"}


def is_hr(ctx: Ctx, key: str) -> bool:
    """Whether ``key`` is HR: the person or one of the role ``[hr] hr_reviewer`` names."""
    target = ctx.config.hr_reviewer
    return bool(target) and key in ctx.staff_for(target)


def may_view(ctx: Ctx, actor: str, person: Person) -> bool:
    """Data about ``person`` is for them, their manager and HR only."""
    return actor == person.key or actor == person.manager or is_hr(ctx, actor)


def _day(text: str, label: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"{label}：日期格式应为 2026-11-05") from exc


def _leave_id(values: Mapping[str, str]) -> int:
    text = (values.get("leave_id") or "").strip()
    if not text.isdigit():
        raise ValueError("请假编号应为数字（见“待我审批的请假”）")
    return int(text)


def _period(ctx: Ctx, values: Mapping[str, str]) -> str:
    period = (values.get("period") or "").strip() or f"{ctx.local_now():%Y-%m}"
    attendance.month_bounds(period)  # refuses a malformed month
    return period


def _require_hr(ctx: Ctx, actor: str, what: str) -> None:
    if not is_hr(ctx, actor):
        raise ValueError(f"只有人事（{ctx.config.hr_reviewer or '未配置 hr_reviewer'}）可以{what}")


# -- actions ---------------------------------------------------------------------------


def request_leave(ctx: Ctx, _case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """The signed-in employee's own request (``hr leave request``), told to their manager."""
    start = _day(values.get("start", ""), "开始日期")
    end = _day(values["end"], "结束日期") if (values.get("end") or "").strip() else None
    phoned_text = (values.get("phoned_at") or "").strip()
    try:
        phoned = datetime.fromisoformat(phoned_text).replace(tzinfo=ctx.tz) if phoned_text else None
    except ValueError as exc:
        raise ValueError("电话告假时间格式应为 2026-11-05 08:40") from exc
    row = leave.request(
        ctx,
        actor,
        values.get("kind", ""),
        start,
        end,
        reason=(values.get("reason") or "").strip(),
        via="console",
        phoned_at=phoned,
    )
    return f"请假申请 {row.id} 已提交（{row.start}–{row.end}），待 {_name(ctx, row.approver)} 审批"


def approve_leave(ctx: Ctx, _case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """The manager's (a manager's superior's) approval; anyone else is refused by ``leave.decide``."""
    row = leave.decide(ctx, _leave_id(values), actor, approve=True, reason=(values.get("reason") or "").strip())
    return f"请假 {row.id}（{_name(ctx, row.employee)}）已批准"


def refuse_leave(ctx: Ctx, _case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """The manager's refusal, with its reason told to the employee."""
    row = leave.decide(ctx, _leave_id(values), actor, approve=False, reason=(values.get("reason") or "").strip())
    return f"请假 {row.id}（{_name(ctx, row.employee)}）未批准"


def record_certificate(ctx: Ctx, _case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """HR records the medical certificate brought back (``hr leave certificate``): reminders stop."""
    _require_hr(ctx, actor, "登记病假证明")
    row = leave.certificate(ctx, _leave_id(values))
    return f"请假 {row.id}（{_name(ctx, row.employee)}）：病假证明已登记"


def build_sheet(ctx: Ctx, _case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """HR recomputes the month and rebuilds its sheet (``hr sheet build``); refused once approved."""
    _require_hr(ctx, actor, "重算评分表")
    period = _period(ctx, values)
    attendance.compute(ctx, period)
    built = sheet.build(ctx, period)
    breaches = sum(1 for r in built.rows if r["breach"])
    return f"{period} 奖罚评分表已重算：{len(built.rows)} 人" + (f"，{breaches} 人低于最低工资" if breaches else "")


def send_sheet(ctx: Ctx, _case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """HR sends the sheet to its approver now (``hr sheet send``: PDF and XLSX by mail)."""
    _require_hr(ctx, actor, "发送评分表")
    period = _period(ctx, values)
    sent = sheet.send(ctx, period)
    return f"{period} 奖罚评分表已发送审批人，{sent.due_on} 前批准"


def approve_sheet(ctx: Ctx, _case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """The approver approves the month (``hr sheet approve``): refused with breaches unless confirmed."""
    period = _period(ctx, values)
    sheet.approve(ctx, period, actor, accept_breaches=values.get("accept_breaches") == "yes")
    return f"{period} 奖罚评分表已批准，本月考勤已冻结"


def amend_sheet(ctx: Ctx, _case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """HR adds an amendment with its reason beside an approved sheet (``hr sheet amend``)."""
    _require_hr(ctx, actor, "更正评分表")
    period = _period(ctx, values)
    try:
        amount = Decimal((values.get("amount") or "0").strip() or "0")
    except InvalidOperation as exc:
        raise ValueError("金额应为数字（负数为扣回）") from exc
    row = sheet.amend(
        ctx,
        period,
        (values.get("employee") or "").strip(),
        values.get("reason") or "",
        actor,
        amount=amount,
        note=(values.get("note") or "").strip(),
    )
    return f"{period}：{_name(ctx, row.employee)} 的更正 {row.id} 已记录"


# -- pages -----------------------------------------------------------------------------


def _name(ctx: Ctx, key: str) -> str:
    person = ctx.person(key)
    return person.name if person else key


def _lines(d: DayResult) -> str:
    return "；".join(str(line["label"]) for line in d.lines or [])


def _month(ctx: Ctx) -> tuple[date, date]:
    return attendance.month_bounds(f"{ctx.local_now():%Y-%m}")


DAY_COLUMNS = ["日期", "结果", "迟到（分钟）", "早退（分钟）", "旷工（天）", "异常"]


def _day_row(d: DayResult) -> list[str]:
    return [
        d.day.isoformat(),
        STATUS.get(d.status, d.status),
        str(d.late_minutes or ""),
        str(d.early_minutes or ""),
        str(d.absent) if d.absent else "",
        _lines(d),
    ]


def my_attendance(ctx: Ctx, actor: str) -> tuple[list[str], list[list[str]]]:
    """The signed-in person's day results this month, with their late/early/absent lines."""
    first, end = _month(ctx)
    days = ctx.db().scalars(
        select(DayResult)
        .where(DayResult.employee == actor, DayResult.day >= first, DayResult.day < end)
        .order_by(DayResult.day)
    )
    return DAY_COLUMNS, [_day_row(d) for d in days]


def my_leave(ctx: Ctx, actor: str) -> tuple[list[str], list[list[str]]]:
    """The signed-in person's own leave requests and their state."""
    types = ctx.config.leave.types
    rows = [
        [
            str(x.id),
            types[x.kind].name if x.kind in types else x.kind,
            f"{x.start}–{x.end}",
            LEAVE_STATE.get(x.state, x.state),
            _name(ctx, x.approver),
        ]
        for x in ctx.db().scalars(select(Leave).where(Leave.employee == actor).order_by(Leave.id.desc()).limit(50))
    ]
    return ["编号", "假别", "日期", "状态", "审批人"], rows


def department_days(ctx: Ctx, actor: str) -> tuple[list[str], list[list[str]]]:
    """A manager's people's day results this month with an exception line (HR: everyone's)."""
    people = register(ctx)
    hr = is_hr(ctx, actor)
    mine = {k for k, p in people.items() if hr or (p.manager == actor and k != actor)}
    if not mine:
        return ["员工", *DAY_COLUMNS], []
    first, end = _month(ctx)
    days = ctx.db().scalars(
        select(DayResult)
        .where(DayResult.employee.in_(sorted(mine)), DayResult.day >= first, DayResult.day < end)
        .order_by(DayResult.employee, DayResult.day)
    )
    rows = [[f"{people[d.employee].name}（{d.employee}）", *_day_row(d)] for d in days if d.lines]
    return ["员工", *DAY_COLUMNS], rows


def pending_leave(ctx: Ctx, actor: str) -> tuple[list[str], list[list[str]]]:
    """Requests waiting for the signed-in person's decision (they are the approver)."""
    types = ctx.config.leave.types
    people = register(ctx)
    rows = []
    for x in ctx.db().scalars(
        select(Leave).where(Leave.state == "requested", Leave.approver == actor).order_by(Leave.start, Leave.id)
    ):
        case = ctx.db().get(Case, x.case_id) if x.case_id else None
        person = people.get(x.employee)
        rows.append(
            [
                str(x.id),
                case.number if case else "",
                f"{person.name if person else x.employee}（{x.employee}）",
                types[x.kind].name if x.kind in types else x.kind,
                f"{x.start}–{x.end}",
                f"{x.phoned_at.astimezone(ctx.tz):%m-%d %H:%M}" if x.phoned_at else "",
                x.reason,
            ]
        )
    return ["编号", "工单", "员工", "假别", "日期", "电话告假", "事由"], rows


def certificates_due(ctx: Ctx, actor: str) -> tuple[list[str], list[list[str]]]:
    """For HR: approved leave whose certificate is due and not handed in yet."""
    if not is_hr(ctx, actor):
        return ["编号", "员工", "日期", "应交日"], []
    people = register(ctx)
    rows = [
        [
            str(x.id),
            f"{people[x.employee].name if x.employee in people else x.employee}（{x.employee}）",
            f"{x.start}–{x.end}",
            str(x.certificate_due),
        ]
        for x in ctx.db().scalars(
            select(Leave)
            .where(Leave.state == "approved", Leave.certificate_due.is_not(None), Leave.certificate_at.is_(None))
            .order_by(Leave.certificate_due)
        )
    ]
    return ["编号", "员工", "日期", "应交日"], rows


SHEET_COLUMNS = [
    "月份",
    "状态",
    "员工",
    "部门",
    "出勤天数",
    "迟到",
    "早退",
    "缺卡",
    "旷工（天）",
    "扣后工资",
    "最低工资线",
    "低于最低工资",
]


def sheet_summary(ctx: Ctx, actor: str) -> tuple[list[str], list[list[str]]]:
    """The latest month's sheet, breaches flagged, for its approver and HR only."""
    if actor != ctx.config.sheet.approver and not is_hr(ctx, actor):
        return SHEET_COLUMNS, []
    latest = ctx.db().scalar(select(Sheet).order_by(Sheet.period.desc()).limit(1))
    if latest is None:
        return SHEET_COLUMNS, []
    state = SHEET_STATE.get(latest.state, latest.state)
    rows = [
        [
            latest.period,
            state,
            f"{r['name']}（{r['employee']}）",
            str(r.get("department", "")),
            str(r["days_worked"]),
            str(r["late"]),
            str(r["early"]),
            str(r["missing"]),
            str(r["absent_days"]),
            str(r.get("pay_after", "")),
            str(r["minimum"]),
            "⚠ 是" if r["breach"] else "",
        ]
        for r in sorted(latest.rows, key=lambda r: (not r["breach"], r["employee"]))
    ]
    return SHEET_COLUMNS, rows


def sheet_amendments(ctx: Ctx, actor: str) -> tuple[list[str], list[list[str]]]:
    """The amendments beside approved sheets (approver and HR)."""
    columns = ["月份", "员工", "原因", "金额", "记录人", "时间"]
    if actor != ctx.config.sheet.approver and not is_hr(ctx, actor):
        return columns, []
    rows = [
        [s.period, a.employee, a.reason, str(a.amount), _name(ctx, a.by), f"{a.at.astimezone(ctx.tz):%m-%d %H:%M}"]
        for a, s in ctx.db().execute(
            select(Amendment, Sheet).join(Sheet, Sheet.id == Amendment.sheet_id).order_by(Amendment.id.desc()).limit(50)
        )
    ]
    return columns, rows


def console_actions(ctx: Ctx) -> list[ConsoleAction | ConsolePage]:
    """The actions and pages ``kefu_console_actions`` returns."""
    types = tuple((key, spec.name) for key, spec in ctx.config.leave.types.items())
    leave_id = ConsoleField("leave_id", "请假编号", required=True)
    period = ConsoleField("period", "月份", help="如 2026-09；留空为本月")
    run: dict[str, Any] = {
        "request": request_leave,
        "approve": approve_leave,
        "refuse": refuse_leave,
        "certificate": record_certificate,
        "build": build_sheet,
        "send": send_sheet,
        "sheet_approve": approve_sheet,
        "amend": amend_sheet,
    }
    pages: dict[str, Any] = {
        "my_attendance": my_attendance,
        "my_leave": my_leave,
        "pending": pending_leave,
        "department": department_days,
        "certificates": certificates_due,
        "sheet": sheet_summary,
        "amendments": sheet_amendments,
    }
    return [
        ConsolePage(name="my_attendance", title="我的本月考勤", rows=pages["my_attendance"], personal=True),
        ConsolePage(name="my_leave", title="我的请假", rows=pages["my_leave"], personal=True),
        ConsolePage(name="pending_leave", title="待我审批的请假", rows=pages["pending"], personal=True),
        ConsolePage(name="department_days", title="本部门本月考勤异常", rows=pages["department"], personal=True),
        ConsolePage(name="certificates_due", title="待交病假证明", rows=pages["certificates"], personal=True),
        ConsolePage(name="sheet", title="奖罚评分表（最近一月）", rows=pages["sheet"], personal=True),
        ConsolePage(name="amendments", title="评分表更正", rows=pages["amendments"], personal=True),
        ConsoleAction(
            name="leave_request",
            label="提交请假申请",
            on="plugin",
            run=run["request"],
            fields=(
                ConsoleField("kind", "假别", type="select", required=True, choices=types),
                ConsoleField("start", "开始日期", required=True, help="如 2026-11-05"),
                ConsoleField("end", "结束日期", help="留空为一天"),
                ConsoleField(
                    "phoned_at", "电话告假时间", type="datetime", help="病假：上班前或上班后 15 分钟内电话告知"
                ),
                ConsoleField("reason", "事由", type="textarea"),
            ),
        ),
        ConsoleAction(
            name="leave_approve",
            label="批准请假",
            on="plugin",
            run=run["approve"],
            fields=(leave_id, ConsoleField("reason", "备注")),
        ),
        ConsoleAction(
            name="leave_refuse",
            label="不批准请假",
            on="plugin",
            run=run["refuse"],
            fields=(leave_id, ConsoleField("reason", "原因", required=True)),
        ),
        ConsoleAction(
            name="leave_certificate",
            label="登记病假证明",
            on="plugin",
            run=run["certificate"],
            roles=OFFICE_ROLES,
            fields=(leave_id,),
        ),
        ConsoleAction(
            name="sheet_build", label="重算评分表", on="plugin", run=run["build"], roles=OFFICE_ROLES, fields=(period,)
        ),
        ConsoleAction(
            name="sheet_send",
            label="发送评分表审批",
            on="plugin",
            run=run["send"],
            roles=OFFICE_ROLES,
            fields=(period,),
        ),
        ConsoleAction(
            name="sheet_approve",
            label="批准评分表",
            on="plugin",
            run=run["sheet_approve"],
            roles=OFFICE_ROLES,
            confirm="批准后本月考勤冻结，只能更正",
            fields=(
                period,
                ConsoleField(
                    "accept_breaches",
                    "低于最低工资",
                    type="select",
                    choices=(("yes", "已知有人低于最低工资，仍批准"),),
                    help="有人扣后低于最低工资时须确认（同 --accept-breaches）",
                ),
            ),
        ),
        ConsoleAction(
            name="sheet_amend",
            label="更正已批准的评分表",
            on="plugin",
            run=run["amend"],
            roles=OFFICE_ROLES,
            fields=(
                period,
                ConsoleField("employee", "员工", required=True, help="工号（员工键）"),
                ConsoleField("reason", "更正原因", type="textarea", required=True),
                ConsoleField("amount", "金额", help="¥，负数为扣回；留空为 0"),
                ConsoleField("note", "备注"),
            ),
        ),
    ]
