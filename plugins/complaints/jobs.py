"""The complaints plugin's cron jobs: warranty notices, tasks for risk control, monthly reports.

Each job takes the firing time, not the wall clock, and is idempotent on its own
business keys (a warranty notice per home, item and lead; a task per project and
milestone; a report per month), so a rerun or a second daemon adds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from kefu.api import OPEN_STATES, Case, CronJob, Customer, OutboxItem
from kefu.plugins.complaints import kinds, notify, reports, rules
from kefu.plugins.complaints.config import Ctx
from kefu.plugins.complaints.models import Home, JobMark, Project, WarrantyNotice

if TYPE_CHECKING:
    from kefu.plugins.complaints.config import ComplaintsConfig


def schedule(cfg: ComplaintsConfig) -> list[CronJob]:
    """The plugin's jobs, on the schedules of its config."""
    return [
        CronJob(
            "warranty_notices",
            cfg.warranty.schedule,
            warranty_notices,
            missed="run_once",
            description="保修期到期温馨提示 and the pre-expiry defect lists",
        ),
        CronJob(
            "risk_tasks",
            cfg.assessment.schedule,
            risk_tasks,
            missed="run_once",
            description="milestone risk assessments and the post-delivery assessment",
        ),
        CronJob(
            "monthly_reports",
            cfg.reports.schedule,
            monthly_reports,
            missed="run_once",
            description="monthly defect report and repair KPIs to the heads",
        ),
    ]


def warranty_notices(ctx: Ctx, fired_at: datetime) -> int:
    """Queue every warranty notice due on the firing's day, once per home, item and lead.

    One SMS and one mail per home and expiry date list the items expiring then; a
    repair manager gets, at the first notice, the list of those homes that still
    have open repairs (到期前集中接报、集中整改). Returns the notices recorded.
    """
    cfg = ctx.config
    session = ctx.db()
    today = fired_at.astimezone(ctx.tz).date()
    tables = {code: cfg.warranty_for(code) for code in cfg.projects}
    default_table = cfg.warranty_for(None)
    windows = {w for t in [default_table, *tables.values()] for w in rules.delivery_windows(t, cfg.warranty, today)}
    if not windows:
        return 0
    homes = list(
        session.scalars(
            select(Home).where(or_(*(Home.delivered_on.between(low, high) for low, high in sorted(windows))))
        )
    )
    if not homes:
        return 0
    ids = [h.id for h in homes]
    sent = {
        (n.home_id, n.item, n.lead_days)
        for chunk in _chunks(ids)
        for n in session.scalars(select(WarrantyNotice).where(WarrantyNotice.home_id.in_(chunk)))
    }
    now = ctx.now()
    grouped: dict[tuple[int, date, int], list[str]] = defaultdict(list)
    for home in homes:
        assert home.delivered_on is not None
        table = tables.get(home.project_code, default_table)
        for due in rules.home_notices(home.delivered_on, table, cfg.warranty, today):
            if (home.id, due.item, due.lead_days) in sent:
                continue
            session.add(
                WarrantyNotice(
                    home_id=home.id,
                    item=due.item,
                    lead_days=due.lead_days,
                    expires_on=due.expires_on,
                    noticed_on=today,
                    created_at=now,
                )
            )
            grouped[(home.id, due.expires_on, due.lead_days)].append(due.item)
    if not grouped:
        return 0
    by_id = {h.id: h for h in homes}
    cust_ids = {cid for hid, _e, _l in grouped if (cid := by_id[hid].customer_id) is not None}
    customers = {
        c.id: c
        for chunk in _chunks(list(cust_ids))
        for c in session.scalars(select(Customer).where(Customer.id.in_(chunk)))
    }
    defect_homes: dict[tuple[str, date], list[Home]] = defaultdict(list)
    messages: list[OutboxItem] = []
    count = 0
    for (home_id, expires, lead), items in grouped.items():
        home = by_id[home_id]
        table = tables.get(home.project_code, default_table)
        titles = [table[i].title for i in items]
        count += len(items)
        customer = customers.get(home.customer_id or -1)
        if customer is not None:
            messages.extend(
                notify.tell_items(
                    customer,
                    "warranty_notice",
                    {
                        "home": home.ref,
                        "expires": expires.strftime("%Y年%m月%d日"),
                        "items": "、".join(titles),
                        "item_list": titles,
                        "lead_days": lead,
                    },
                    key=f"{ctx.name}/warranty/{home.ref}/{expires.isoformat()}/{lead}",
                    channels=tuple(cfg.warranty.channels),
                )
            )
        if lead <= cfg.warranty.defect_list_days_before:
            defect_homes[(home.project_code, expires)].append(home)
    session.flush()
    # One INSERT per 500 notices (existing keys skipped) instead of a lookup and an insert per message.
    ctx.queue_many(messages)
    _defect_lists(ctx, defect_homes, customers)
    return count


def _defect_lists(ctx: Ctx, groups: dict[tuple[str, date], list[Home]], customers: dict[int, Customer]) -> None:
    """Tell each project's repair manager which homes about to leave warranty have open repairs."""
    session = ctx.db()
    for (project, expires), homes in groups.items():
        by_customer = {h.customer_id: h for h in homes if h.customer_id is not None}
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(list(by_customer)):
            for case in session.scalars(
                select(Case).where(
                    Case.kind.like(f"{ctx.kind(kinds.REPAIR)}%"),
                    Case.customer_id.in_(chunk),
                    Case.state.in_(OPEN_STATES),
                )
            ):
                home = by_customer[case.customer_id or 0]  # in the IN list, so never None
                cust = customers.get(case.customer_id or -1)
                rows.append(
                    {
                        "home": home.ref,
                        "owner": cust.name if cust else "",
                        "case_number": case.number,
                        "title": case.title,
                    }
                )
        if rows:
            notify.tell_role(
                ctx,
                project,
                "repair_manager",
                "defect_list",
                {"expires": expires.strftime("%Y年%m月%d日"), "rows": rows},
                key=f"{ctx.name}/defect_list/{project}/{expires.isoformat()}",
            )


def _chunks(values: list[int], size: int = 500) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)] or [[]]


def _mark(ctx: Ctx, key: str) -> bool:
    """True when ``key`` was already done; else False (the caller then does it and calls :func:`_done`)."""
    return ctx.db().scalar(select(JobMark.id).where(JobMark.key == key)) is not None


def _done(ctx: Ctx, key: str, case: Case | None, note: str = "") -> None:
    ctx.db().add(JobMark(key=key, case_id=case.id if case else None, created_at=ctx.now(), note=note))
    ctx.db().flush()


def risk_tasks(ctx: Ctx, fired_at: datetime) -> int:
    """Open the milestone assessments 14 days ahead and the assessment a month after delivery."""
    cfg = ctx.config
    today = fired_at.astimezone(ctx.tz).date()
    opened = 0
    for code, project in cfg.projects.items():
        for task in rules.milestone_tasks(code, project, cfg.assessment.milestones, cfg.assessment.milestone_lead_days):
            key = f"milestone/{code}/{task.milestone}/{task.milestone_on.isoformat()}"
            if not (task.task_on <= today <= task.milestone_on) or _mark(ctx, key):
                continue
            due = datetime.combine(task.milestone_on, time(0), ctx.tz)
            due = max(due, ctx.now() + timedelta(hours=1))
            case = ctx.open_case(
                kind=kinds.MILESTONE,
                title=f"{project.name}：{task.title}客户端风险评估",
                unit=code,
                due={"resolution": due},
                data={
                    "milestone": task.milestone,
                    "milestone_on": task.milestone_on.isoformat(),
                    "due_at": due.isoformat(),
                },
            )
            _done(ctx, key, case)
            opened += 1
    for proj in ctx.db().scalars(select(Project).where(Project.delivered_on.is_not(None))):
        assert proj.delivered_on is not None
        assess_on = rules.assessment_date(proj.delivered_on, cfg.assessment.after_delivery_months)
        start_on = assess_on - timedelta(days=cfg.assessment.milestone_lead_days)
        key = f"assessment/{proj.code}/{assess_on.isoformat()}"
        if not (start_on <= today <= assess_on) or _mark(ctx, key):
            continue
        due = datetime.combine(assess_on + timedelta(days=1), time(0), ctx.tz)
        case = ctx.open_case(
            kind=kinds.ASSESSMENT,
            title=f"{proj.name}：交付后客户体验评估（交付 {proj.delivered_on}）",
            unit=proj.code,
            data={
                "delivered_on": proj.delivered_on.isoformat(),
                "due_at": max(due, ctx.now() + timedelta(hours=1)).isoformat(),
            },
        )
        _done(ctx, key, case)
        opened += 1
    return opened


def monthly_reports(ctx: Ctx, fired_at: datetime) -> None:
    """Mail last month's defect report and repair KPIs to the heads (once per month)."""
    cfg = ctx.config
    period = rules.previous_month(fired_at.astimezone(ctx.tz).date())
    session = ctx.db()
    defects = reports.defect_rows(session, period, ctx.tz, ctx.name)
    notify.tell_role(
        ctx,
        None,
        cfg.reports.recipients_role,
        "defect_report",
        {"period": period, "rows": defects, "total": sum(r["count"] for r in defects)},
        key=f"{ctx.name}/defect_report/{period}",
    )
    notify.tell_role(
        ctx,
        None,
        cfg.reports.recipients_role,
        "kpi_report",
        {"period": period, "rows": reports.kpi_rows(session, period, ctx.tz, ctx.name)},
        key=f"{ctx.name}/kpi_report/{period}",
    )
