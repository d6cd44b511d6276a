"""The market plugin's cron jobs; each takes the firing time and works in the firing's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from kefu.api import CronJob
from kefu.plugins.market import desk, fees, logs, patrols, plan, watch
from kefu.plugins.market.config import Ctx, MarketConfig


def fee_ladder(ctx: Ctx, fired_at: datetime) -> None:
    """Queue the day's fee reminders and escalations."""
    fees.run_ladder(ctx, fired_at.astimezone(ctx.tz).date())


def overdue_lists(ctx: Ctx, fired_at: datetime) -> None:
    """Send each floor manager the floor's overdue list."""
    fees.overdue_lists(ctx, fired_at.astimezone(ctx.tz).date())


PATROL_STEP = timedelta(minutes=15)


def patrol_rounds(ctx: Ctx, fired_at: datetime) -> None:
    """Record the rounds whose window has closed; a missed point alerts the duty deputy manager."""
    patrols.evaluate(ctx, patrols.evaluate_since(ctx, fired_at, PATROL_STEP), fired_at)


def unsigned_rounds(ctx: Ctx, fired_at: datetime) -> None:
    """Remind the supervisor of patrol records left unsigned."""
    patrols.remind_unsigned(ctx, fired_at)


def plan_tasks(ctx: Ctx, fired_at: datetime) -> None:
    """Open the day's event-preparation and 地毯式 inspection tasks."""
    plan.plan_day(ctx, fired_at.astimezone(ctx.tz).date())


def closed_shops(ctx: Ctx, fired_at: datetime) -> None:
    """Tell the market manager of shops closed N days in a row (from the opening checks)."""
    watch.closed_streaks(ctx, fired_at.astimezone(ctx.tz).date())


def lost_items(ctx: Ctx, fired_at: datetime) -> None:
    """Report lost items held past their time."""
    desk.report_unclaimed(ctx, fired_at.astimezone(ctx.tz).date())


def parcels(ctx: Ctx, fired_at: datetime) -> None:
    """At closing, tell the supervisor of parcels not collected."""
    desk.parcels_left(ctx, fired_at.astimezone(ctx.tz).date())


def shift_logs(ctx: Ctx, fired_at: datetime) -> None:
    """Remind shifts that ended without their duty or work log."""
    logs.remind_missing(ctx, fired_at)


def cron_jobs(cfg: MarketConfig) -> list[CronJob]:
    """Every job, on schedules from config; a missed day runs once at start (run_once)."""
    f = cfg.fees
    closes = cfg.patrols.windows.closes
    return [
        CronJob("fee_ladder", f"0 {f.reminder_hour} * * *", fee_ladder, "run_once", "欠费催缴阶梯提醒"),
        CronJob(
            "plan_tasks",
            f"0 {cfg.events.plan_hour} * * *",
            plan_tasks,
            "run_once",
            "活动与地毯式检查任务",
        ),
        CronJob("closed_shops", "0 11 * * *", closed_shops, "run_once", "连续未开门商铺"),
        CronJob("lost_items", "30 9 * * *", lost_items, "run_once", "遗留商品保管期满上报"),
        CronJob("parcels", f"{closes.minute} {closes.hour} * * *", parcels, "run_once", "闭店未取存包"),
        CronJob("shift_logs", "*/15 * * * *", shift_logs, "run_once", "值班记录/工作日志未填提醒"),
        CronJob("patrol_rounds", "*/15 * * * *", patrol_rounds, "run_once", "巡查时段检查（漏巡）"),
        CronJob("unsigned_rounds", "5 * * * *", unsigned_rounds, "run_once", "巡查记录签字提醒"),
        CronJob(
            "overdue_lists",
            f"0 {f.overdue_list_hour} * * *",
            overdue_lists,
            "run_once",
            "楼层欠费清单",
        ),
    ]
