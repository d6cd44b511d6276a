"""The hr plugin's cron jobs; each takes the firing time and works in the firing's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from kefu.api import CronJob
from kefu.plugins.hr import attendance, leave, rosters, sheet
from kefu.plugins.hr.config import Ctx, HrConfig


def day_results(ctx: Ctx, fired_at: datetime) -> None:
    """Recompute yesterday's month (and this month) from the punches so far; opens HR reviews."""
    today = fired_at.astimezone(ctx.tz).date()
    yesterday = today - timedelta(days=1)
    for period in sorted({f"{yesterday:%Y-%m}", f"{today:%Y-%m}"}):
        try:
            attendance.compute(ctx, period, until=yesterday)
        except attendance.FrozenMonth:
            continue


def certificates(ctx: Ctx, fired_at: datetime) -> None:
    """Remind missing sick-leave certificates, then escalate to the manager."""
    leave.remind_certificates(ctx, fired_at.astimezone(ctx.tz).date())


def duty_reminders(ctx: Ctx, fired_at: datetime) -> None:
    """Remind tomorrow's people on duty."""
    rosters.remind_tomorrow(ctx, fired_at.astimezone(ctx.tz).date())


def monthly_sheet(ctx: Ctx, fired_at: datetime) -> None:
    """Send last month's sheet on its due day; remind the approver each working day after."""
    sheet.daily(ctx, fired_at.astimezone(ctx.tz).date())


def cron_jobs(cfg: HrConfig) -> list[CronJob]:
    """Every job, on schedules from config; a missed day runs once at start (run_once)."""
    jobs = [
        CronJob("day_results", "30 6 * * *", day_results, "run_once", "考勤日结果与旷工复核"),
        CronJob("certificates", f"0 {cfg.leave.remind_hour} * * *", certificates, "run_once", "病假证明提醒"),
        CronJob("monthly_sheet", f"0 {cfg.sheet.send_hour} * * *", monthly_sheet, "run_once", "奖罚评分表提交与催批"),
    ]
    if cfg.rosters.rotas:
        jobs.append(
            CronJob(
                "duty_reminders", f"0 {cfg.rosters.remind_hour} * * *", duty_reminders, "run_once", "值班提前一天提醒"
            )
        )
    return jobs
