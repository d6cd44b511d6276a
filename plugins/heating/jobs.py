"""The heating plugin's cron jobs; each takes the firing time and works in the firing's transaction."""

from __future__ import annotations

from datetime import datetime

from kefu.api import CronJob
from kefu.plugins.heating import fees, rules, visits
from kefu.plugins.heating.config import Ctx, HeatingConfig


def _local_day(ctx: Ctx, fired_at: datetime) -> datetime:
    return fired_at.astimezone(ctx.tz)


def fee_reminders(ctx: Ctx, fired_at: datetime) -> None:
    """Queue the fee campaign of the day, if the day is one of the configured dates."""
    fees.run_campaign(ctx, _local_day(ctx, fired_at).date())


def shutoff_checks(ctx: Ctx, fired_at: datetime) -> None:
    """On the configured day before the season, send each station its 关栓 spot-check task."""
    cfg = ctx.config
    day = _local_day(ctx, fired_at).date()
    if f"{day:%m-%d}" == cfg.season.shutoff_checks_on:
        fees.create_shutoff_checks(ctx, day)


def _visits_apply(ctx: Ctx, fired_at: datetime) -> bool:
    cfg = ctx.config
    return not cfg.visits.only_in_season or rules.in_season(_local_day(ctx, fired_at).date(), cfg.season)


def visits_weekly(ctx: Ctx, fired_at: datetime) -> None:
    """Escalate stations that missed last week's visit minimum."""
    if _visits_apply(ctx, fired_at):
        visits.weekly_check(ctx, _local_day(ctx, fired_at).date())


def visits_midweek(ctx: Ctx, fired_at: datetime) -> None:
    """Remind the responsible people of stations not yet visited this week."""
    if _visits_apply(ctx, fired_at):
        visits.midweek_reminder(ctx, _local_day(ctx, fired_at).date())


def visits_monthly(ctx: Ctx, fired_at: datetime) -> None:
    """Check last month's minimums, escalate shortfalls and mail the summary."""
    if _visits_apply(ctx, fired_at):
        visits.monthly_check(ctx, _local_day(ctx, fired_at).date())


def cron_jobs(cfg: HeatingConfig) -> list[CronJob]:
    """Every job, on schedules from config."""
    hour = cfg.season.reminder_hour
    return [
        CronJob("fee_reminders", f"0 {hour} * * *", fee_reminders, "run_once", "采暖费催缴短信"),
        CronJob("shutoff_checks", f"0 {hour} * * *", shutoff_checks, "run_once", "关栓抽查任务"),
        CronJob("visits_weekly", cfg.visits.weekly_check, visits_weekly, "run_once", "包保走访周检查"),
        CronJob("visits_midweek", cfg.visits.midweek_reminder, visits_midweek, "skip", "包保走访提醒"),
        CronJob("visits_monthly", cfg.visits.monthly_check, visits_monthly, "run_once", "包保走访月检查与汇总"),
    ]
