"""The market's calendar: event preparation tasks (30 d and 7 d before) and the 地毯式 fire inspection
before every statutory holiday (from the China calendar) and each major event (seed: 每逢重大活动，
节假日前 … 组织开展"地毯式"消防安全检查).

Each task has a key (``inspect/holiday/2027-02-06``) recorded in ``market_tasks``, so the
daily planning job may run any number of times: a task is opened once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from kefu.api import Case
from kefu.plugins.market import kinds
from kefu.plugins.market.config import Ctx
from kefu.plugins.market.models import MarketTask
from kefu.plugins.market.notify import people_for, tell


@dataclass(frozen=True)
class Holiday:
    """A run of days off around statutory holidays: its first day off, its last, its name."""

    start: date
    end: date
    name: str


def holidays(ctx: Ctx, year: int) -> list[Holiday]:
    """The statutory holiday blocks of ``year`` (package data, or ``[calendar.years]``), with their weekends."""
    cal = ctx.calendar
    named = [i for i in cal.year_days(year) if not i.working and i.name and i.name != "调休上班"]
    blocks: list[Holiday] = []
    for info in sorted(named, key=lambda i: i.day):
        last = blocks[-1] if blocks else None
        if last and all(
            not cal.is_working_day(last.end + timedelta(days=k)) for k in range(1, (info.day - last.end).days + 1)
        ):
            blocks[-1] = Holiday(last.start, info.day, last.name)
            continue
        start = info.day
        while not cal.is_working_day(start - timedelta(days=1)):
            start -= timedelta(days=1)
        blocks.append(Holiday(start, info.day, info.name or "法定节假日"))
    return blocks


def _days(span: timedelta) -> int:
    return max(1, round(span.total_seconds() / 86400))


def _end_of(ctx: Ctx, day: date) -> datetime:
    return datetime.combine(day, time(23, 59), tzinfo=ctx.tz)


def _task(ctx: Ctx, key: str, label: str, due_on: date) -> MarketTask | None:
    """The task ``key`` unless it exists already (then None)."""
    session = ctx.db()
    if session.scalar(select(MarketTask.id).where(MarketTask.key == key)) is not None:
        return None
    task = MarketTask(key=key, label=label, due_on=due_on, created_at=ctx.now())
    session.add(task)
    session.flush()
    return task


def _inspection(ctx: Ctx, key: str, reason: str, starts: date) -> MarketTask | None:
    cfg = ctx.config
    due = starts - timedelta(days=1)
    task = _task(ctx, key, f"地毯式消防安全检查（{reason}）", due)
    if task is None:
        return None
    owners = people_for(ctx, cfg.security_manager)
    case = ctx.open_case(
        kind=f"{ctx.name}.{kinds.FIRE_INSPECTION}",
        title=f"地毯式消防安全检查：{reason}（{starts} 前完成）",
        owner=owners[0] if owners else None,
        due={"resolution": _end_of(ctx, due)},
        data={
            "task": key,
            "checklist": [{"item": item, "done": False} for item in cfg.events.checklist],
        },
        reason=f"{reason}前组织开展地毯式消防安全检查",
    )
    task.case_id = case.id
    context = {
        "case_number": case.number,
        "reason": reason,
        "due_on": due.isoformat(),
        "checklist": cfg.events.checklist,
    }
    tell(
        ctx,
        cfg.security_manager,
        f"{case.number}/inspection",
        "fire_inspection.txt",
        context,
        case=case,
    )
    for floor in cfg.floors:
        tell(
            ctx,
            cfg.floor_manager(floor),
            f"{case.number}/inspection",
            "fire_inspection.txt",
            context,
            case=case,
            unit=floor,
            channels=("email",),
        )
    return task


CHECKS = {
    "weekly_night": "安保部夜间查岗（每周一次）",
    "monthly_night": "商贸城负责人夜间查岗（每月不少于一次）",
    "monthly_fire": "防火检查（每月一次）",
}


def plan_checks(ctx: Ctx, today: date) -> list[str]:
    """The week's night check (from Monday) and the month's night check and fire inspection (from the 1st)."""
    cfg = ctx.config.checks
    week_start = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    periods = {
        "weekly_night": (f"{week_start:%G-W%V}", week_start + timedelta(days=6), cfg.weekly_night),
        "monthly_night": (
            f"{month_start:%Y-%m}",
            next_month - timedelta(days=1),
            cfg.monthly_night,
        ),
        "monthly_fire": (f"{month_start:%Y-%m}", next_month - timedelta(days=1), cfg.monthly_fire),
    }
    opened: list[str] = []
    for what, (period, due, target) in periods.items():
        task = _task(ctx, f"check/{what}/{period}", f"{CHECKS[what]} {period}", due)
        if task is None:
            continue
        owners = people_for(ctx, target)
        case = ctx.open_case(
            kind=f"{ctx.name}.{kinds.CHECK}",
            title=f"{CHECKS[what]}：{period}（{due} 前）",
            owner=owners[0] if owners else None,
            due={"resolution": _end_of(ctx, due)},
            data={"task": task.key, "check": what, "period": period},
        )
        task.case_id = case.id
        tell(
            ctx,
            target,
            f"{case.number}/check",
            "check_task.txt",
            {
                "case_number": case.number,
                "check": CHECKS[what],
                "period": period,
                "due_on": due.isoformat(),
            },
            case=case,
        )
        opened.append(task.key)
    return opened


def check_done(ctx: Ctx, case: Case, *, by: str, note: str = "") -> None:
    """Record who did a scheduled check (the case resolves with them as its actor)."""
    if ctx.person(by) is None:
        raise ValueError(f"{by!r} is not in [staff.people]")
    ctx.record_event(case, "check_done", actor=by, reason=note or "已完成", data={"done_by": by})
    ctx.resolve(case, actor=by, reason=f"{by} 完成" + (f"：{note}" if note else ""))


def plan_day(ctx: Ctx, today: date) -> list[str]:
    """Open the tasks that fall due ``today``: checks, event preparation, 地毯式 inspections; their keys."""
    ev = ctx.config.events
    opened: list[str] = plan_checks(ctx, today)
    lead = timedelta(days=_days(ev.inspect_before))
    for year in (today.year, today.year + 1):
        for block in holidays(ctx, year):
            if block.start - lead <= today < block.start:
                task = _inspection(ctx, f"inspect/holiday/{block.start}", f"{block.name}假期", block.start)
                opened += [task.key] if task else []
        for key, event in sorted(ev.events.items()):
            starts = event.on(year)
            if event.major and starts - lead <= today < starts:
                task = _inspection(ctx, f"inspect/event/{key}/{starts}", event.name, starts)
                opened += [task.key] if task else []
            for span in ev.lead_times:
                days = _days(span)
                if starts - timedelta(days=days) <= today < starts:
                    task = _prepare(ctx, key, event.name, starts, days)
                    opened += [task.key] if task else []
    return opened


def _prepare(ctx: Ctx, key: str, name: str, starts: date, days: int) -> MarketTask | None:
    """The floor managers' preparation task ``days`` before an event."""
    cfg = ctx.config
    task = _task(ctx, f"event/{key}/{starts}/{days}d", f"{name}筹备（提前 {days} 天）", starts)
    if task is None:
        return None
    case = ctx.open_case(
        kind=f"{ctx.name}.{kinds.EVENT_TASK}",
        title=f"{name} {starts} 开始：提前 {days} 天筹备",
        due={"resolution": _end_of(ctx, starts - timedelta(days=1))},
        data={"task": task.key, "event": key, "starts": starts.isoformat(), "lead_days": days},
    )
    task.case_id = case.id
    for floor in cfg.floors:
        tell(
            ctx,
            cfg.floor_manager(floor),
            f"{case.number}/event",
            "event_task.txt",
            {
                "case_number": case.number,
                "event": name,
                "starts": starts.isoformat(),
                "days": days,
                "floor": floor,
            },
            case=case,
            unit=floor,
        )
    return task
