"""The ecommerce plugin's cron jobs; each takes the firing time and works in the firing's transaction."""

from __future__ import annotations

from datetime import datetime

from kefu.api import CronJob
from kefu.plugins.ecommerce import desk, disputes, promise
from kefu.plugins.ecommerce.config import Ctx, EcommerceConfig


def digest(ctx: Ctx, fired_at: datetime) -> None:
    """The daily refunds/disputes digest to after-sales and the supervisor."""
    disputes.send_digest(ctx, fired_at.astimezone(ctx.tz).date().isoformat())


def dispute_watch(ctx: Ctx, fired_at: datetime) -> None:
    """Disputes untouched 24 h or close to the platform's deadline → the supervisor."""
    disputes.escalate(ctx, fired_at)


def late_orders(ctx: Ctx, fired_at: datetime) -> None:
    """Orders not shipped by their promised day → the supervisor."""
    promise.escalate_late(ctx, fired_at.astimezone(ctx.tz).date())


def transfers(ctx: Ctx, fired_at: datetime) -> None:
    """Unmatched bank transfers followed up once a day."""
    desk.follow_up_transfers(ctx, fired_at.astimezone(ctx.tz).date())


def cron_jobs(cfg: EcommerceConfig) -> list[CronJob]:
    """Every job, on schedules from config; a missed day runs once at start (run_once)."""
    return [
        CronJob("digest", f"0 {cfg.disputes.digest_hour} * * *", digest, "run_once", "退款/维权每日汇总"),
        CronJob("dispute_watch", "10 * * * *", dispute_watch, "run_once", "维权超时升级"),
        CronJob("late_orders", "5 * * * *", late_orders, "run_once", "未按承诺发货升级"),
        CronJob("transfers", f"0 {cfg.transfers.follow_up_hour} * * *", transfers, "run_once", "银行转账跟踪"),
    ]
