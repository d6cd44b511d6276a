"""The monthly reward/penalty sheet (客服每月奖罚评分表, 第五篇).

Built from the month's day results, 代签 findings and leave (and, with
``[hr.sheet] scorecards``, every other plugin's per-person case KPIs through
``ctx.kpis``: the repair engineers' 报事关闭率 / 维修及时率 / 维修满意度 from complaints).
Due one working day before payday (seed: 发工资前一天提交给上级批准), sent to the approver
as PDF and XLSX, reminded each working day until approved. Once approved the month is
frozen: a correction is an amendment with a reason, never an edit.

``penalties = "record_only"`` (default) lists the facts and no money at all;
``"deduct"`` adds the money lines, each naming the published rules' version. Either way
each person's pay after deductions is checked against the local minimum wage (80 % of
it on sick-leave days) and a breach is flagged on the sheet before it goes out.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select

from kefu.api import Case
from kefu.plugins.hr import attendance, kinds
from kefu.plugins.hr.config import Ctx
from kefu.plugins.hr.models import Amendment, DayResult, Proxy, Sheet
from kefu.plugins.hr.register import register

CENT = Decimal("0.01")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SheetError(ValueError):
    """A sheet action refused, with the reason."""


def money(value: Decimal) -> Decimal:
    """Rounded to the fen."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def payday_of(ctx: Ctx, period: str) -> date:
    """Payday for ``period``'s wages: ``[hr.sheet] payday`` of the next month."""
    _first, nxt = attendance.month_bounds(period)
    return nxt.replace(day=ctx.config.sheet.payday)


def due_on(ctx: Ctx, period: str) -> date:
    """The working day(s) before payday the sheet is due (seed: 发工资前一天)."""
    d = payday_of(ctx, period)
    for _ in range(ctx.config.sheet.due_working_days_before):
        d -= timedelta(days=1)
        while not ctx.calendar.is_working_day(d):
            d -= timedelta(days=1)
    return d


def build_rows(ctx: Ctx, period: str) -> list[dict[str, Any]]:
    """One row per employee: the month's facts, and money only under ``deduct``."""
    cfg = ctx.config
    deduct = cfg.penalties == "deduct"
    first, end = attendance.month_bounds(period)
    people = register(ctx)
    session = ctx.db()
    days: dict[str, list[DayResult]] = defaultdict(list)
    for d in session.scalars(
        select(DayResult).where(DayResult.day >= first, DayResult.day < end).order_by(DayResult.day)
    ):
        days[d.employee].append(d)
    proxies_year: dict[str, int] = defaultdict(int)
    for p in session.scalars(select(Proxy).where(Proxy.day >= date(first.year, 1, 1), Proxy.day < end)):
        proxies_year[p.signed_for] += 1
        proxies_year[p.signed_by] += 1
    scores = scorecards(ctx, period) if cfg.sheet.scorecards else {}
    types = cfg.leave.types
    pay_days = cfg.sheet.pay_days_per_month
    rows = []
    for key in sorted(people):
        person = people[key]
        mine = days.get(key, [])
        daily = person.salary / pay_days if pay_days else Decimal("0")
        lines: list[dict[str, Any]] = []
        counts = {"late": 0, "early": 0, "missing": 0, "proxy": 0, "notice_late": 0}
        absent = Decimal("0")
        leave: dict[str, Decimal] = defaultdict(Decimal)
        penalty = leave_cut = Decimal("0")
        share_lost = Decimal("0")  # minimum-wage days not due (unpaid days, 80 % on sick days)
        worked = 0
        for d in mine:
            if d.status in ("work", "absent"):
                worked += d.status == "work"
            absent += Decimal(d.absent)
            if Decimal(d.absent) > 0:
                share_lost += Decimal(d.absent)
            for line in d.lines or []:
                rule = line["rule"]
                entry: dict[str, Any] = {"day": d.day.isoformat(), "rule": rule, "label": line["label"]}
                if rule in counts:
                    counts[rule] += 1
                if rule == "leave":
                    spec = types.get(line["kind"])
                    share = Decimal("0.5") if line.get("half") else Decimal(1)  # 上午/下午: half a day
                    leave[spec.name if spec else line["kind"]] += share
                    if spec is not None:
                        share_lost += share * (1 - spec.min_wage_share)
                        cut = (daily * (1 - spec.paid) + spec.allowance) * share
                        if deduct and cut:
                            entry["amount"] = str(money(cut))
                            leave_cut += money(cut)
                        elif not cut:
                            continue  # a paid leave day: counted above, no line
                elif rule in ("late", "early", "proxy") and deduct:
                    entry["amount"] = line["amount"]
                    penalty += Decimal(line["amount"])
                elif rule == "absence" and deduct and Decimal(d.absent) > 0:
                    cut = money(daily * cfg.absence.days_pay * Decimal(d.absent))
                    entry["amount"] = str(cut)
                    penalty += cut
                if deduct and "amount" in entry:
                    entry["rules_version"] = cfg.rules_version
                lines.append(entry)
        threshold = money(cfg.minimum_wage * (1 - share_lost / pay_days)) if pay_days else cfg.minimum_wage
        pay_after = money(person.salary - penalty - leave_cut)
        row: dict[str, Any] = {
            "employee": key,
            "name": person.name,
            "department": person.department,
            "days_worked": worked,
            "late": counts["late"],
            "early": counts["early"],
            "missing": counts["missing"],
            "absent_days": str(absent.quantize(Decimal("0.1"))),
            "leave": {k: int(v) if v == v.to_integral_value() else float(v) for k, v in leave.items()},
            "proxy_month": counts["proxy"],
            "proxy_year": proxies_year.get(key, 0),
            "bonus_frozen": proxies_year.get(key, 0) >= cfg.proxy.freeze_from,
            "notice_late": counts["notice_late"],
            "lines": lines,
            "scorecard": scores.get(key, []),
            "minimum": str(threshold),
            "breach": bool(person.salary) and pay_after < threshold,
        }
        if deduct:
            row.update(
                {
                    "salary": str(money(person.salary)),
                    "penalties": str(money(penalty)),
                    "leave_deductions": str(money(leave_cut)),
                    "pay_after": str(pay_after),
                    "rules_version": cfg.rules_version,
                }
            )
        rows.append(row)
    return rows


def scorecards(ctx: Ctx, period: str) -> dict[str, list[dict[str, Any]]]:
    """Other plugins' per-person KPIs of the month (complaints: the repair engineers), by staff key."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in ctx.kpis(period):
        if row["by"] != "person" or row["plugin"] == ctx.name:
            continue
        person = row["group"].split("/", 1)[1]
        if person == "-":
            continue
        out[person].append(
            {
                "plugin": row["plugin"],
                "opened": row["opened"],
                "closed": row["closed"],
                "closure_rate": row["closure_rate"],
                "in_time_rate": row["in_time_rate"],
                "satisfaction": row["satisfaction"],
            }
        )
    return dict(out)


def get(ctx: Ctx, period: str) -> Sheet | None:
    """The stored sheet of ``period``."""
    return ctx.db().scalar(select(Sheet).where(Sheet.period == period))


def build(ctx: Ctx, period: str) -> Sheet:
    """(Re)build the sheet of ``period`` from its day results; refused once approved."""
    sheet = get(ctx, period)
    if sheet is not None and sheet.state == "approved":
        raise SheetError(
            f"{period} was approved by {sheet.approved_by}: it is frozen; add an amendment (kefu hr sheet amend)"
        )
    rows = build_rows(ctx, period)
    if sheet is None:
        sheet = Sheet(period=period, due_on=due_on(ctx, period), built_at=ctx.now(), mode=ctx.config.penalties)
        ctx.db().add(sheet)
    sheet.rows = rows
    sheet.mode = ctx.config.penalties
    sheet.rules_version = ctx.config.rules_version if ctx.config.penalties == "deduct" else ""
    sheet.built_at = ctx.now()
    sheet.due_on = due_on(ctx, period)
    ctx.db().flush()
    return sheet


def xlsx(sheet: Sheet, amendments: list[Amendment] = ()) -> bytes:  # type: ignore[assignment]
    """The sheet as a workbook: one row per person, one sheet of lines, one of amendments."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = "汇总"
    money_cols = sheet.mode == "deduct"
    head = [
        "工号/账号",
        "姓名",
        "部门",
        "出勤天数",
        "迟到",
        "早退",
        "缺卡",
        "旷工天数",
        "请假",
        "代签(本月)",
        "代签(本年)",
        "奖金冻结",
    ]
    if money_cols:
        head += ["月薪", "罚款", "请假扣款", "扣后工资", "制度版本"]
    head += ["最低工资线", "低于最低工资"]
    ws.append(head)
    for r in sheet.rows:
        line = [
            r["employee"], r["name"], r["department"], r["days_worked"], r["late"], r["early"], r["missing"],
            float(r["absent_days"]), "、".join(f"{k}{v}天" for k, v in r["leave"].items()),
            r["proxy_month"], r["proxy_year"], "是" if r["bonus_frozen"] else "",
        ]  # fmt: skip
        if money_cols:
            line += [
                float(r["salary"]),
                float(r["penalties"]),
                float(r["leave_deductions"]),
                float(r["pay_after"]),
                r["rules_version"],
            ]
        line += [float(r["minimum"]), "是" if r["breach"] else ""]
        ws.append(line)
    detail = book.create_sheet("明细")
    detail.append(["工号/账号", "姓名", "日期", "事项", "金额", "制度版本"])
    for r in sheet.rows:
        for line in r["lines"]:
            detail.append(
                [
                    r["employee"],
                    r["name"],
                    line["day"],
                    line["label"],
                    line.get("amount", ""),
                    line.get("rules_version", ""),
                ]
            )
    cards = book.create_sheet("评分")
    cards.append(["工号/账号", "姓名", "来源", "受理", "关闭", "关闭率", "及时率", "满意度"])
    for r in sheet.rows:
        for c in r["scorecard"]:
            cards.append(
                [
                    r["employee"],
                    r["name"],
                    c["plugin"],
                    c["opened"],
                    c["closed"],
                    c["closure_rate"],
                    c["in_time_rate"],
                    c["satisfaction"],
                ]
            )
    amend = book.create_sheet("更正")
    amend.append(["工号/账号", "原因", "金额", "说明", "更正人", "时间"])
    for a in amendments:
        amend.append([a.employee, a.reason, float(a.amount), a.note, a.by, a.at.isoformat()])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _approver(ctx: Ctx) -> tuple[str, Any]:
    key = ctx.config.sheet.approver
    if not key:
        raise SheetError("[hr.sheet] approver is not set")
    return key, ctx.person(key)


def _context(ctx: Ctx, sheet: Sheet) -> dict[str, Any]:
    breaches = [r for r in sheet.rows if r["breach"]]
    return {
        "period": sheet.period,
        "due": sheet.due_on,
        "rows": sheet.rows,
        "mode": sheet.mode,
        "rules_version": sheet.rules_version,
        "breaches": [f"{r['name']}（{r['employee']}）" for r in breaches],
        "count": len(sheet.rows),
    }


def send(ctx: Ctx, period: str) -> Sheet:
    """Build the sheet (unless approved), open its case, send it to the approver as PDF and XLSX."""
    sheet = build(ctx, period)
    key, approver = _approver(ctx)
    case = ctx.db().get(Case, sheet.case_id) if sheet.case_id else None
    if case is None:
        case = ctx.open_case(kind=kinds.SHEET, title=f"{period} 奖罚评分表待批准", data={"period": period}, owner=None)
        sheet.case_id = case.id
    if approver is None or not approver.email:
        raise SheetError(f"the approver {key!r} has no email in [staff.people]: the PDF and XLSX cannot be sent")
    ctx.queue(
        key=f"{case.number}/sheet/{sheet.built_at:%Y%m%d%H%M}/{key}/email",
        channel="email",
        recipient=approver.email,
        recipient_name=approver.name,
        template="sheet.txt",
        letter="sheet.html",
        context=_context(ctx, sheet),
        case=case,
        audience="staff",
        files=[(f"奖罚评分表-{period}.xlsx", xlsx(sheet), XLSX)],
    )
    if sheet.state == "draft":
        sheet.state = "sent"
    sheet.sent_at = ctx.now()
    ctx.record_event(
        case,
        "note",
        reason=f"sent to {key}"
        + (
            f"; {len(_context(ctx, sheet)['breaches'])} below minimum wage"
            if any(r["breach"] for r in sheet.rows)
            else ""
        ),
    )
    return sheet


def remind(ctx: Ctx, period: str, today: date) -> bool:
    """One reminder a day to the approver while the sent sheet waits; True if one was queued."""
    sheet = get(ctx, period)
    if sheet is None or sheet.state != "sent" or sheet.case_id is None:
        return False
    case = ctx.db().get(Case, sheet.case_id)
    key, approver = _approver(ctx)
    if case is None or approver is None:
        return False
    queued = False
    for channel, address in (("sms", approver.phone), ("email", approver.email)):
        if address:
            queued |= (
                ctx.queue(
                    key=f"{case.number}/sheet-reminder/{today.isoformat()}/{key}/{channel}",
                    channel=channel,
                    recipient=address,
                    recipient_name=approver.name,
                    template="sheet_reminder.txt",
                    context=_context(ctx, sheet),
                    case=case,
                    audience="staff",
                )
                is not None
            )
    return queued


def approve(ctx: Ctx, period: str, by: str, *, accept_breaches: bool = False) -> Sheet:
    """The approver approves: the month is frozen from now on."""
    sheet = get(ctx, period)
    if sheet is None:
        raise SheetError(f"no sheet for {period} (kefu hr sheet build {period})")
    if sheet.state == "approved":
        raise SheetError(f"{period} is already approved")
    key, _ = _approver(ctx)
    if by != key:
        raise SheetError(f"{by!r} is not the sheet's approver ({key!r})")
    flagged = [r["employee"] for r in sheet.rows if r["breach"]]
    if flagged and not accept_breaches:
        raise SheetError(
            f"below the minimum wage after deductions: {', '.join(flagged)}; correct or approve with --accept-breaches"
        )
    sheet.state, sheet.approved_by, sheet.approved_at = "approved", by, ctx.now()
    case = ctx.db().get(Case, sheet.case_id) if sheet.case_id else None
    if case is not None:
        ctx.resolve(case, actor=by, reason="approved")
    return sheet


def amend(
    ctx: Ctx, period: str, employee: str, reason: str, by: str, *, amount: Decimal = Decimal("0"), note: str = ""
) -> Amendment:
    """A correction to an approved sheet: stored beside it with its reason (the sheet is not edited)."""
    sheet = get(ctx, period)
    if sheet is None or sheet.state != "approved":
        raise SheetError(f"{period} is not approved: rebuild it instead (kefu hr sheet build {period})")
    if not reason.strip():
        raise SheetError("an amendment needs its reason")
    if employee not in {r["employee"] for r in sheet.rows}:
        raise SheetError(f"{employee!r} is not on the {period} sheet")
    row = Amendment(
        sheet_id=sheet.id,
        employee=employee,
        reason=reason.strip(),
        amount=money(amount),
        note=note,
        by=by,
        at=ctx.now(),
    )
    ctx.db().add(row)
    ctx.db().flush()
    return row


def amendments(ctx: Ctx, sheet: Sheet) -> list[Amendment]:
    """The sheet's amendments in order."""
    return list(ctx.db().scalars(select(Amendment).where(Amendment.sheet_id == sheet.id).order_by(Amendment.id)))


def daily(ctx: Ctx, today: date) -> None:
    """The job: on the due day compute, build and send last month's sheet; then remind until approved."""
    first = today.replace(day=1)
    period = f"{(first - timedelta(days=1)):%Y-%m}"
    sheet = get(ctx, period)
    if sheet is not None and sheet.state == "approved":
        return
    if sheet is None or sheet.state == "draft":
        if today < due_on(ctx, period):
            return
        attendance.compute(ctx, period, until=first - timedelta(days=1))
        send(ctx, period)
        return
    if today > (sheet.sent_at.astimezone(ctx.tz).date() if sheet.sent_at else today) and ctx.calendar.is_working_day(
        today
    ):
        remind(ctx, period, today)
