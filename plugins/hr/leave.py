"""请假: requests, the manager's approval, sick-leave notice and the certificate on return.

Seed 考勤制度 五–九: a request is approved by the employee's department manager
(managers by their own superior) before leaving; sick leave is phoned in before the
shift or within 15 min of its start and a certificate from a medical institution is
brought on the first working day back; 事假 deducts the day's pay; 公假 is paid; 出差
is filed. A missing certificate is reminded to the employee on that day, then
escalated to the manager. 事假, 病假 and 年休假 (``half_days`` types) may be asked for a
morning or an afternoon (``half``: am / pm, 上午 / 下午): the day's other half is worked
as usual, 事假 deducts half the day's pay and the year's 年休假 counts the half.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from kefu.api import Case, InboundItem
from kefu.plugins.hr import kinds, rules
from kefu.plugins.hr.config import Ctx
from kefu.plugins.hr.models import Leave
from kefu.plugins.hr.register import Person, register

HALVES = {"am": "am", "上午": "am", "pm": "pm", "下午": "pm", "": ""}


def half_of(text: str) -> str:
    """am, pm or '' from am / pm / 上午 / 下午; ValueError otherwise."""
    try:
        return HALVES[text.strip().lower()]
    except KeyError:
        raise LeaveError(f"{text!r}: a half day is am/上午 or pm/下午") from None


_DATE = re.compile(r"(?:(\d{4})\s*[-/.年])?\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


class LeaveError(ValueError):
    """A request or decision refused, with the reason a person must fix."""


def kind_of(ctx: Ctx, text: str) -> str | None:
    """The leave type key named in ``text`` (its key or its name: sick / 病假)."""
    for key, spec in ctx.config.leave.types.items():
        if key == text.strip() or spec.name in text:
            return key
    return None


def parse_dates(text: str, today: date) -> tuple[date, date] | None:
    """The first one or two dates in ``text`` (11月5日, 2026-11-05, 11/5–11/6); None without one."""
    found = []
    for y, m, d in _DATE.findall(text):
        try:
            found.append(date(int(y) if y else today.year, int(m), int(d)))
        except ValueError:
            continue
    if not found:
        return None
    return found[0], found[1] if len(found) > 1 else found[0]


def request(
    ctx: Ctx,
    employee: str,
    kind: str,
    start: date,
    end: date | None = None,
    *,
    reason: str = "",
    via: str = "cli",
    phoned_at: datetime | None = None,
    case: Case | None = None,
    half: str = "",
) -> Leave:
    """File a request and tell the approver (the employee's manager); the leave row.

    ``half`` (am / pm) asks for that half of the one day ``start``.
    """
    people = register(ctx)
    person = people.get(employee)
    if person is None:
        raise LeaveError(f"{employee!r} is not an employee (kefu hr employees)")
    if kind not in ctx.config.leave.types:
        raise LeaveError(f"leave type {kind!r}: one of {', '.join(ctx.config.leave.types)}")
    end = end or start
    if end < start:
        raise LeaveError("the leave ends before it starts")
    if not person.manager:
        raise LeaveError(f"{employee}: no manager to approve (set [hr.departments.*].manager or 上级)")
    spec = ctx.config.leave.types[kind]
    half = half_of(half)
    if half and not spec.half_days:
        raise LeaveError(f"{spec.name} is taken in whole days (half_days in [hr.leave.types.{kind}])")
    if half and end != start:
        raise LeaveError("a half day is one day: give START only")
    check_entitlement(ctx, person, kind, start, end, half)
    span = f"{start} {'上午' if half == 'am' else '下午'}" if half else f"{start}–{end}"
    if case is None:
        case = ctx.open_case(
            kind=kinds.LEAVE, title=f"{person.name}{spec.name}申请 {span}", data={"employee": employee}
        )
    leave = Leave(
        employee=employee,
        kind=kind,
        start=start,
        end=end,
        half=half,
        reason=reason,
        via=via,
        requested_at=ctx.now(),
        approver=person.manager,
        phoned_at=phoned_at,
        certificate_due=first_day_back(ctx, end) if spec.certificate else None,
        case_id=case.id,
    )
    ctx.db().add(leave)
    ctx.db().flush()
    case.data = {**(case.data or {}), "employee": employee, "leave_id": leave.id}
    approver = people.get(person.manager)
    _tell(ctx, approver, person.manager, case, "leave_request.txt", f"{case.number}/request", person, leave)
    return leave


def entitlement(ctx: Ctx, person: Person, kind: str, on: date) -> int | None:
    """Days a year of a statutory leave type (config tables), None for the others.

    年休假 by years of work (working days); 婚假, 丧假, 陪产假 by the province's table and
    产假 (98 days + the province's extra) in calendar days.
    """
    statutory = ctx.config.leave.statutory
    province = statutory.provinces.get(statutory.province)
    if kind == "annual":
        return statutory.annual_days(rules.years_of_work(person.hired, on))
    if kind == "maternity":
        return statutory.maternity_days()
    if province is not None and kind in ("marriage", "bereavement", "paternity"):
        return int(getattr(province, kind))
    return None


def _days(ctx: Ctx, kind: str, start: date, end: date, half: str = "") -> Decimal:
    """Days a leave uses: working days for 年休假 (holidays are not counted), else calendar days;
    a half day counts 0.5."""
    n = (end - start).days + 1
    if kind == "annual":
        n = sum(ctx.calendar.is_working_day(start + timedelta(days=i)) for i in range(n))
    return Decimal(n) / 2 if half else Decimal(n)


def _shown(days: Decimal) -> str:
    """10, 9.5: days as a person writes them."""
    return str(int(days)) if days == days.to_integral_value() else f"{days.normalize():f}"


def check_entitlement(ctx: Ctx, person: Person, kind: str, start: date, end: date, half: str = "") -> None:
    """Refuse a statutory leave beyond its days this year (requests not refused count as used)."""
    allowed = entitlement(ctx, person, kind, start)
    if allowed is None:
        return
    used = sum(
        (
            _days(ctx, kind, x.start, x.end, x.half)
            for x in ctx.db().scalars(
                select(Leave).where(
                    Leave.employee == person.key,
                    Leave.kind == kind,
                    Leave.state != "refused",
                    Leave.start >= date(start.year, 1, 1),
                    Leave.start <= date(start.year, 12, 31),
                )
            )
        ),
        Decimal(0),
    )
    asked = _days(ctx, kind, start, end, half)
    if used + asked > allowed:
        name = ctx.config.leave.types[kind].name
        raise LeaveError(
            f"{person.key}: {name} {_shown(asked)} days exceed the {allowed} days of [hr.leave.statutory]"
            f" ({_shown(used)} used)"
        )


def first_day_back(ctx: Ctx, last: date) -> date:
    """The first working day after the leave's last day (when the certificate is due)."""
    d = last + timedelta(days=1)
    for _ in range(60):
        if ctx.calendar.is_working_day(d):
            return d
        d += timedelta(days=1)
    return d


def decide(ctx: Ctx, leave_id: int, by: str, *, approve: bool, reason: str = "") -> Leave:
    """The approver's decision; only the employee's manager (a manager's superior) may decide."""
    leave = ctx.db().get(Leave, leave_id)
    if leave is None:
        raise LeaveError(f"no leave request {leave_id}")
    if leave.state != "requested":
        raise LeaveError(f"leave {leave_id} is already {leave.state}")
    if by != leave.approver:
        raise LeaveError(
            f"{by!r} cannot decide leave {leave_id}: it is for {leave.approver!r} (the manager) to approve"
        )
    leave.state = "approved" if approve else "refused"
    leave.decided_by, leave.decided_at = by, ctx.now()
    people = register(ctx)
    case = _case(ctx, leave)
    if case is not None:
        ctx.record_event(case, "note", actor=by, reason=f"{leave.state}: {reason}".strip(": "))
        ctx.resolve(case, actor=by, reason=leave.state)
    person = people.get(leave.employee)
    if person is not None and case is not None:
        _tell(ctx, person, leave.employee, case, "leave_decided.txt", f"{case.number}/decided", person, leave)
    return leave


def certificate(ctx: Ctx, leave_id: int) -> Leave:
    """Record that the medical certificate was handed in."""
    leave = ctx.db().get(Leave, leave_id)
    if leave is None:
        raise LeaveError(f"no leave request {leave_id}")
    leave.certificate_at = ctx.now()
    return leave


def remind_certificates(ctx: Ctx, today: date) -> int:
    """On the first day back: remind the employee of a missing certificate; after
    ``escalate_after_days`` more working days: tell the manager. How many messages."""
    cfg = ctx.config.leave
    people = register(ctx)
    sent = 0
    for leave in ctx.db().scalars(
        select(Leave).where(
            Leave.state == "approved", Leave.certificate_at.is_(None), Leave.certificate_due.is_not(None)
        )
    ):
        due = leave.certificate_due
        if due is None or today < due:
            continue
        person = people.get(leave.employee)
        case = _case(ctx, leave)
        if person is None or case is None:
            continue
        if leave.reminded_at is None:
            leave.reminded_at = ctx.now()
            sent += _tell(
                ctx,
                person,
                leave.employee,
                case,
                "certificate_reminder.txt",
                f"{case.number}/certificate",
                person,
                leave,
            )
            ctx.record_event(case, "note", reason=f"病假证明未交：已提醒{person.name}")
            continue
        escalate_on = due
        for _ in range(cfg.escalate_after_days):
            escalate_on = first_day_back(ctx, escalate_on)
        if leave.escalated_at is None and today >= escalate_on:
            leave.escalated_at = ctx.now()
            manager = people.get(person.manager)
            sent += _tell(
                ctx,
                manager,
                person.manager,
                case,
                "certificate_escalation.txt",
                f"{case.number}/certificate-escalation",
                person,
                leave,
            )
            ctx.record_event(case, "note", reason=f"病假证明仍未交：已告知{person.manager}")
    return sent


def _case(ctx: Ctx, leave: Leave) -> Case | None:
    return ctx.db().get(Case, leave.case_id) if leave.case_id else None


def _tell(
    ctx: Ctx, to: Person | None, key: str, case: Case, template: str, idem: str, person: Person, leave: Leave
) -> int:
    """SMS and mail to ``to`` (a Person of the register, else ``[staff.people]``); how many queued."""
    phone = to.phone if to else None
    email = to.email if to else None
    name = to.name if to else key
    staff = ctx.person(key)
    phone, email = phone or (staff.phone if staff else None), email or (staff.email if staff else None)
    spec = ctx.config.leave.types[leave.kind]
    context = {
        "name": person.name,
        "kind": spec.name,
        "start": leave.start,
        "end": leave.end,
        "reason": leave.reason,
        "state": {"approved": "已批准", "refused": "未批准"}.get(leave.state, "待审批"),
        "leave_id": leave.id,
        "due": leave.certificate_due,
    }
    queued = 0
    for channel, address in (("sms", phone), ("email", email)):
        if address:
            row = ctx.queue(
                key=f"{idem}/{key}/{channel}",
                channel=channel,
                recipient=address,
                recipient_name=name,
                template=template,
                context=context,
                case=case,
                audience="staff",
            )
            queued += row is not None
    if not queued:
        ctx.log.warning("%s: %s has neither phone nor email; %s not sent", case.number, key, template)
    return queued


def from_message(ctx: Ctx, case: Case) -> Leave | None:
    """A request by SMS or mail (``请假 病假 11月5日``): matched to the sender in the register."""
    item_id = (case.data or {}).get("item_id")
    item = ctx.db().get(InboundItem, item_id) if item_id else None
    if item is None:
        return None
    sender = (item.sender or "").strip().lower()
    people = register(ctx)
    person = next((p for p in people.values() if sender and sender in ((p.email or "").lower(), p.phone or "")), None)
    text = f"{item.subject or ''} {item.text or ''}"
    if person is None:
        ctx.record_event(case, "note", reason="请假申请：发件人不在花名册中，请人工处理")
        return None
    kind = kind_of(ctx, text)
    today = ctx.local_now().date()
    dates = parse_dates(text, today)
    if kind is None or dates is None:
        ctx.record_event(case, "note", reason="请假申请：未写明假别或日期（例：请假 病假 11月5日）")
        return None
    phoned = ctx.now() if kind == "sick" and dates[0] == today else None
    # 请假 事假 9月9日 上午: a half day when one day is named with its half.
    half = ""
    if dates[0] == dates[1] and ctx.config.leave.types[kind].half_days:
        half = "am" if "上午" in text else "pm" if "下午" in text else ""
    return request(
        ctx,
        person.key,
        kind,
        dates[0],
        dates[1],
        reason=text.strip()[:500],
        via=item.kind,
        phoned_at=phoned,
        case=case,
        half=half,
    )
