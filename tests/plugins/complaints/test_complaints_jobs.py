"""Imports, warranty notices exactly once, risk-control tasks, monthly reports."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from kefu.app import App
from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.models import Case, Customer, Deadline, OutboxMessage
from kefu.plugins.complaints import actions, jobs, reports
from kefu.plugins.complaints.imports import import_homes
from kefu.plugins.complaints.models import Home, WarrantyNotice
from kefu.sla.cases import open_case

HEADER = "project_code,project,building,room,owner,phone,email,delivered_on\n"


def _homes_csv(n: int, start: date) -> bytes:
    lines = [HEADER]
    for i in range(n):
        delivered = start + timedelta(days=(i * 365 // n) % 365)
        lines.append(f"JY,锦园,{i // 100 + 1},{i % 100 + 101},业主{i},138{i:08d},o{i}@example.com,{delivered}\n")
    return "".join(lines).encode()


def test_import_homes_gb18030_bad_rows_by_line_and_idempotent(complaints_app: App) -> None:
    app = complaints_app
    text = (
        "项目编码,项目名称,楼栋,房号,业主姓名,手机,交付日期\n"
        "JY,锦园,3,1201,张三,13800000001,2024年6月1日\n"
        "JY,锦园,3,1202,李四,not-a-phone,2024-06-01\n"
        "JY,锦园,3,1203,王五,13800000003,2024/13/01\n"
        "JY,锦园,3,1204,赵六,13800000004,20240602\n"
    )
    with transaction(app.sessions) as s:
        report = import_homes(s, text.encode("gb18030"), app.clock.now())
    assert (report.created, [line for line, _ in report.errors]) == (2, [3, 4])
    with transaction(app.sessions) as s:
        again = import_homes(s, text.encode("gb18030"), app.clock.now())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    with app.sessions() as s:
        home = s.scalars(select(Home).where(Home.ref == "JY-3-1201")).one()
        owner = s.get(Customer, home.customer_id)
        assert home.delivered_on == date(2024, 6, 1) and owner.name == "张三" and owner.unit == "JY"


def test_warranty_notices_daily_over_a_year_each_exactly_once(
    complaints_app: App, clock: FakeClock, run_pass: Callable[[App], object]
) -> None:
    """Every home delivered over one year gets each item's 60- and 30-day notice once, no more."""
    app = complaints_app
    homes = 120
    with transaction(app.sessions) as s:
        import_homes(s, _homes_csv(homes, date(2024, 11, 1)), app.clock.now())
    runs = 0
    started = time.perf_counter()
    day = datetime.fromisoformat("2026-09-01T09:00:00+08:00")
    while day < datetime.fromisoformat("2027-10-01T09:00:00+08:00"):
        with transaction(app.sessions) as s:
            jobs.warranty_notices(app.context("complaints", s), day)
        # a second run of the same day (another daemon, a restart) adds nothing
        if runs % 30 == 0:
            with transaction(app.sessions) as s:
                jobs.warranty_notices(app.context("complaints", s), day)
        runs += 1
        day += timedelta(days=1)
    elapsed = time.perf_counter() - started
    with app.sessions() as s:
        notices = Counter((n.home_id, n.item, n.lead_days) for n in s.scalars(select(WarrantyNotice)))
        sms = s.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == "complaints/warranty_notice.txt", OutboxMessage.channel == "sms")
        )
        items = {item for _h, item, _l in notices}
    assert max(notices.values()) == 1
    # The 2-year items of homes delivered 2024-11-01..2025-10-31 all expire in that simulated year.
    for item in ("electrical", "plumbing", "equipment", "decoration"):
        assert sum(1 for (_h, i, _l) in notices if i == item) == homes * 2, item
    assert "heating_cooling" in items and "waterproofing" not in items
    assert sms is not None and sms > 0
    print(f"\nwarranty job: {runs} daily runs over {homes} homes, {len(notices)} notices in {elapsed:.2f}s")


def test_warranty_notice_lists_open_defects_for_the_repair_manager(complaints_app: App) -> None:
    app = complaints_app
    with transaction(app.sessions) as s:
        import_homes(
            s, (HEADER + "JY,锦园,3,1201,张三,13800000001,z@example.com,2024-12-31\n").encode(), app.clock.now()
        )
        owner = s.scalars(select(Customer).where(Customer.ref == "JY-3-1201")).one()
        open_case(app.context("complaints", s), kind="complaints.repair", title="墙面开裂", customer=owner)
    with transaction(app.sessions) as s:
        jobs.warranty_notices(app.context("complaints", s), datetime.fromisoformat("2026-11-01T09:00:00+08:00"))
    with app.sessions() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.template == "complaints/defect_list.txt")))
    assert len(rows) == 1 and rows[0].recipient == "mgr@example.com" and "墙面开裂" in rows[0].body


def test_milestone_task_14_days_before_and_assessment_a_month_after_delivery(
    complaints_app: App, clock: FakeClock
) -> None:
    app = complaints_app
    with transaction(app.sessions) as s:
        import_homes(s, (HEADER + "JY,锦园,1,101,甲,13800000009,,2026-10-20\n").encode(), app.clock.now())
    with transaction(app.sessions) as s:  # Nov 2: sales opening (Nov 20) and assessment (Nov 20) are > 14 d away
        assert jobs.risk_tasks(app.context("complaints", s), app.clock.now()) == 0
    clock.set("2026-11-06T08:30:00+08:00")
    for _ in range(2):  # twice: nothing new the second time
        with transaction(app.sessions) as s:
            jobs.risk_tasks(app.context("complaints", s), app.clock.now())
    with app.sessions() as s:
        cases = list(s.scalars(select(Case).where(Case.kind.in_(["complaints.milestone", "complaints.assessment"]))))
        tasks = list(s.scalars(select(OutboxMessage).where(OutboxMessage.template == "complaints/task.txt")))
    assert sorted(c.kind for c in cases) == ["complaints.assessment", "complaints.milestone"]
    assert all(c.owner == "risk" for c in cases)
    assert {t.recipient for t in tasks} == {"risk@example.com"} and len(tasks) == 2
    milestone = next(c for c in cases if c.kind == "complaints.milestone")
    assert "开盘前" in milestone.title
    with app.sessions() as s:
        due = s.scalars(select(Deadline.due_at).where(Deadline.case_id == milestone.id, Deadline.state == "open")).one()
    assert due == datetime.fromisoformat("2026-11-20T00:00:00+08:00")


def test_monthly_defect_report_and_kpis_by_project_and_engineer(complaints_app: App, clock: FakeClock) -> None:
    app = complaints_app
    with transaction(app.sessions) as s:
        import_homes(s, (HEADER + "JY,锦园,3,1201,张三,13800000001,,2024-06-01\n").encode(), app.clock.now())
        owner = s.scalars(select(Customer).where(Customer.ref == "JY-3-1201")).one()
        ctx = app.context("complaints", s)
        a = open_case(ctx, kind="complaints.repair.plumbing_leak", title="卫生间漏水", customer=owner).number
        open_case(ctx, kind="complaints.repair", title="门锁坏了", customer=owner)
    with transaction(app.sessions) as s:
        actions.resolve(app.context("complaints", s), a, defect=True, cause="防水层")
        actions.callback_score(app.context("complaints", s), a, 4)
    with app.sessions() as s:
        rows = reports.kpi_rows(s, "2026-11", app.settings.tz)
        defects = reports.defect_rows(s, "2026-11", app.settings.tz)
    project = next(r for r in rows if r["scope"] == "project")
    assert (project["opened"], project["closure_rate"], project["timeliness"], project["satisfaction"]) == (
        2,
        "50.0%",
        "100.0%",
        "4.00",
    )
    assert any(r["scope"] == "engineer" and r["name"] == "eng" for r in rows)
    assert defects == [{"project": "JY", "trade": "防水", "cause": "防水层", "count": 1, "cases": a}]
    clock.set("2026-12-01T08:00:00+08:00")
    with transaction(app.sessions) as s:
        jobs.monthly_reports(app.context("complaints", s), clock.now())
    with app.sessions() as s:
        mails = list(s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "head@example.com")))
    assert {m.template for m in mails} >= {"complaints/defect_report.txt", "complaints/kpi_report.txt"}
    assert any(a in m.body for m in mails if m.template == "complaints/defect_report.txt")
