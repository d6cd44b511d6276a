"""值班记录 and 工作日志: recorded per shift; a shift that ends without one is reminded.

The duty log (``duty``) belongs to the duty deputy manager's shift, which ends at
``logs.duty_ends`` (08:00) the day after it started; each floor's work log
(``floor:<key>``) belongs to the floor manager's day, ending at ``logs.floor_ends``.
``grace`` after a shift ends, whoever was on duty at its end is reminded once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from kefu.api import UnknownRecipient
from kefu.plugins.market.config import Ctx
from kefu.plugins.market.models import ShiftLog
from kefu.plugins.market.notify import tell


def shift_day(ctx: Ctx, log: str, at: datetime) -> date:
    """The shift day a log written at ``at`` belongs to (the duty shift before 08:00 is yesterday's)."""
    local = at.astimezone(ctx.tz)
    if log == "duty" and local.time() < ctx.config.logs.duty_ends:
        return local.date() - timedelta(days=1)
    return local.date()


def write(ctx: Ctx, log: str, text: str, *, by: str) -> ShiftLog:
    """Record (or replace) the log of the current shift."""
    if log != "duty" and not (log.startswith("floor:") and log[6:] in ctx.config.floors):
        raise ValueError(f"{log!r}: write duty or floor:<floor key of [market.floors]>")
    day = shift_day(ctx, log, ctx.now())
    row = ctx.db().scalars(select(ShiftLog).where(ShiftLog.log == log, ShiftLog.day == day)).one_or_none()
    if row is None:
        row = ShiftLog(log=log, day=day, author=by, text=text, written_at=ctx.now())
        ctx.db().add(row)
    else:
        row.author, row.text, row.written_at = by, text, ctx.now()
    ctx.db().flush()
    return row


def _ends(ctx: Ctx, log: str, day: date) -> datetime:
    cfg = ctx.config.logs
    if log == "duty":
        return datetime.combine(day + timedelta(days=1), cfg.duty_ends, tzinfo=ctx.tz)
    return datetime.combine(day, cfg.floor_ends, tzinfo=ctx.tz)


def remind_missing(ctx: Ctx, now: datetime) -> int:
    """Remind each shift that ended (plus grace) in the last day without its log; how many reminders."""
    cfg = ctx.config
    logs = {"duty": cfg.duty_deputy, **{f"floor:{f}": cfg.floor_manager(f) for f in cfg.floors}}
    sent = 0
    today = now.astimezone(ctx.tz).date()
    for log, target in logs.items():
        for day in (today - timedelta(days=2), today - timedelta(days=1), today):
            ends = _ends(ctx, log, day)
            if not ends + cfg.logs.grace <= now < ends + timedelta(days=1):
                continue
            if ctx.db().scalar(select(ShiftLog.id).where(ShiftLog.log == log, ShiftLog.day == day)):
                continue
            try:
                on_duty = ctx.staff_for(target, when=ends - timedelta(minutes=1), unit=log[6:] or None)
            except UnknownRecipient:
                on_duty = []
            for key in on_duty:
                sent += len(
                    tell(
                        ctx,
                        key,
                        f"log/{log}/{day}",
                        "log_missing.txt",
                        {
                            "log": "值班记录" if log == "duty" else f"{log[6:]} 工作日志",
                            "day": day.isoformat(),
                            "command": log,
                        },
                    )
                )
    return sent
