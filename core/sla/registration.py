"""Start-time checks of the SLA side of registrations: kinds' policies, holiday data, core jobs."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from kefu.jobs import CronJob, make_trigger
from kefu.kinds import CaseKind, WholeDays
from kefu.sla.calendar import package_version
from kefu.sla.deadlines import calendar_of
from kefu.sla.recipients import check_target

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.registrations import Registrations

KPI_JOB = "kefu.sla.kpi_report"


def check_kind(app: App, kind: CaseKind) -> tuple[list[str], list[str]]:
    """(problems that refuse the start, warnings) for ``kind``'s declarations."""
    problems: list[str] = []
    notes: list[str] = []
    staff = app.settings.staff
    names = [p.name for p in kind.policies]
    for dup in {n for n in names if names.count(n) > 1}:
        problems.append(f"policy {dup!r} is declared twice")
    if len(set(kind.steps)) != len(kind.steps):
        problems.append("a step is listed twice")
    if not 1 <= kind.satisfied_from <= 5:
        problems.append(f"satisfied_from {kind.satisfied_from} is not a score between 1 and 5")
    for policy in kind.policies:
        where = f"policy {policy.name!r}"
        if isinstance(policy.within, WholeDays):
            if policy.within.days < 1:
                problems.append(f"{where}: {policy.within} is not a positive number of days")
        elif policy.within <= timedelta(0):
            problems.append(f"{where}: duration {policy.within} must be positive")
        if policy.clock not in ("24x7", "workday"):
            problems.append(f"{where}: clock {policy.clock!r} must be '24x7' or 'workday'")
        if policy.step is not None and policy.step not in kind.steps:
            problems.append(f"{where}: step {policy.step!r} is not one of the kind's steps ({', '.join(kind.steps)})")
        if policy.warn_at is not None and not 0 < policy.warn_at < 1:
            problems.append(f"{where}: warn_at {policy.warn_at} must be a share between 0 and 1")
        if policy.repeat_every is not None and policy.repeat_every <= timedelta(0):
            problems.append(f"{where}: repeat_every must be positive")
        for level in policy.chain:
            for channel in level.channels or policy.channels:
                if channel not in ("email", "sms"):
                    problems.append(f"{where}: channel {channel!r} must be 'email' or 'sms'")
            if kind.resolve_role is not None:
                continue  # the plugin's resolve_role answers for its targets
            problem = check_target(staff, level.who)
            if problem and level.who.startswith("rota:"):
                notes.append(f"{where}: {problem}; only imported shifts can fill it")
            elif problem:
                problems.append(f"{where}: escalation chain: {problem}")
    return problems, notes


def calendar_warnings(app: App) -> list[str]:
    """Warnings for the current year and the years ahead that have no holiday data."""
    cal = calendar_of(app)
    year = app.clock.now().astimezone(app.settings.tz).year
    ahead = app.settings.calendar.warn_years_ahead
    return [
        f"calendar: no holiday data for {missing} (chinese_calendar {package_version()} lacks it): "
        f"working days of {missing} are Monday-Friday without statutory holidays or make-up days "
        f"until you add [calendar.years.{missing}] with the State Council's list"
        for missing in cal.missing_years(range(year, year + ahead + 1))
    ]


def add_core_jobs(app: App, regs: Registrations) -> None:
    """The core's own cron jobs: the monthly KPI mail to the heads in ``[sla] report_to``."""
    sla = app.settings.sla
    if not sla.report_to:
        return
    for target in sla.report_to:
        problem = check_target(app.settings.staff, target)
        if problem:
            raise ValueError(f"sla.report_to: {problem}")
    make_trigger(sla.report_schedule, app.settings.tz)
    from kefu.sla.kpi import mail_monthly_report

    regs.jobs[KPI_JOB] = (
        "kefu",
        CronJob(
            id=KPI_JOB,
            schedule=sla.report_schedule,
            func=mail_monthly_report,
            missed="run_once",
            description="monthly KPI report to the heads",
        ),
    )
