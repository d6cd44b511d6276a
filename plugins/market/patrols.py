"""Fire-safety patrols: check-ins from SMS, mail, the patrol app and patrol-stick files; rounds evaluated
when their window closes; 漏巡 alerts; the supervisor's countersignature (GB/T 40248-2021).

A round is recorded once per route and window (its business key), so the evaluation
job may run as often as it likes. A missed point opens a 漏巡 case for the duty
deputy manager, told at once; its first-response deadline escalates to the security
manager when nobody takes it up. A closing round whose check-ins do not say that
non-essential power is off (断电) and no fire source is left (无火源) counts as missed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from kefu.api import Case, UnknownRecipient
from kefu.plugins.market import hazards, kinds, windows
from kefu.plugins.market.config import Ctx
from kefu.plugins.market.models import PatrolCheckin, PatrolRound
from kefu.plugins.market.notify import people_for, tell

_REPORT = re.compile(
    r"^\s*巡查\s*(?P<point>[^\s，,]+)(?:[\s，,]+(?P<status>正常|隐患))?(?:[\s，,]+(?P<rest>.*))?$",
    re.S,
)
CLOSING_WORDS = ("断电", "无火源")


@dataclass(frozen=True)
class Report:
    """A patrol report as a guard texts it: ``巡查 3F``, ``巡查 3F 正常``, ``巡查 3F 隐患 消防通道堆货``."""

    point: str
    status: str
    text: str


def parse_report(text: str) -> Report | None:
    """The report in ``text``'s first line, or None if it is not one."""
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    match = _REPORT.match(first)
    if not match:
        return None
    return Report(match["point"].upper(), match["status"] or "", (match["rest"] or "").strip())


def person_of(ctx: Ctx, sender: str | None) -> str:
    """The staff key whose phone or mail is ``sender``, else the sender as given."""
    for key, person in ctx.people.items():
        if sender and sender in (person.phone, person.email):
            return key
    return sender or "unknown"


def on_report(ctx: Ctx, case: Case) -> None:
    """Record the check-in a patrol report's case carries; close it unless it reports a hazard."""
    report = parse_report(case.title)
    if report is None:
        return
    person = person_of(ctx, (case.data or {}).get("reply_to"))
    check_in(
        ctx,
        report.point,
        case.opened_at,
        person,
        status=report.status,
        problem=report.text,
        source=str((case.data or {}).get("source") or "sms"),
    )
    if report.status == "隐患":
        # The report's case is done; the hazard goes on as its own rectification case.
        hazard = hazards.report(
            ctx,
            report.point,
            report.text or "（未说明）",
            by=person,
            source=str((case.data or {}).get("source") or "sms"),
        )
        ctx.close(case, actor=person, reason=f"隐患已转整改工单 {hazard.number}")
    else:
        ctx.close(case, actor=person, reason="巡查打卡已记录")


def check_in(
    ctx: Ctx,
    point: str,
    at: datetime,
    person: str,
    *,
    status: str = "",
    problem: str = "",
    source: str = "sms",
) -> PatrolCheckin | None:
    """Record one check-in (None if this point, time and person are already recorded: a re-import)."""
    if point not in ctx.config.patrols.points:
        raise ValueError(f"patrol point {point!r} is not in [market.patrols.points]")
    session = ctx.db()
    found = session.scalars(
        select(PatrolCheckin).where(
            PatrolCheckin.point == point, PatrolCheckin.at == at, PatrolCheckin.person == person
        )
    ).one_or_none()
    if found is not None:
        return None
    row = PatrolCheckin(point=point, at=at, person=person, status=status, problem=problem, source=source)
    session.add(row)
    session.flush()
    return row


def evaluate(ctx: Ctx, since: datetime, until: datetime) -> list[PatrolRound]:
    """Record every round whose window closed in ``(since, until]``; alert on each with a missed point."""
    cfg = ctx.config.patrols
    session = ctx.db()
    done: list[PatrolRound] = []
    if not cfg.routes:
        return done  # a market that keeps no patrol routes here is never told of missed rounds
    for window in windows.closed_between(since, until, cfg.windows, ctx.tz):
        for route, points in sorted(cfg.routes.items()):
            exists = session.scalar(
                select(PatrolRound.id).where(PatrolRound.route == route, PatrolRound.starts_at == window.starts_at)
            )
            if exists is not None:
                continue
            done.append(_record(ctx, route, points, window))
    for window in windows.deputy_closed_between(since, until, cfg.windows, ctx.tz):
        exists = session.scalar(
            select(PatrolRound.id).where(PatrolRound.route == windows.DEPUTY, PatrolRound.starts_at == window.starts_at)
        )
        if exists is None:
            done.append(_record_deputy(ctx, window))
    return done


def _record_deputy(ctx: Ctx, window: windows.Window) -> PatrolRound:
    """The duty deputy manager's hour: at least one check-in by whoever the rota had on duty (seed ≥ 1 / h)."""
    cfg = ctx.config
    try:
        on_duty = set(ctx.staff_for(cfg.duty_deputy, when=window.starts_at))
    except UnknownRecipient:
        on_duty = set()
    rows = list(
        ctx.db().scalars(
            select(PatrolCheckin).where(
                PatrolCheckin.at >= window.starts_at,
                PatrolCheckin.at < window.ends_at,
                PatrolCheckin.person.in_(sorted(on_duty)),
            )
        )
    )
    rnd = PatrolRound(
        route=windows.DEPUTY,
        label=windows.DEPUTY,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        persons=sorted({r.person for r in rows}),
        missed=[] if rows else ["带队副经理巡场"],
        data={"on_duty": sorted(on_duty)},
        problems=[f"{r.point} {r.problem}".strip() for r in rows if r.status == "隐患"],
    )
    ctx.db().add(rnd)
    ctx.db().flush()
    if not rows:
        local = window.starts_at.astimezone(ctx.tz)
        tell(
            ctx,
            cfg.security_manager,
            f"patrol/{rnd.id}/deputy",
            "deputy_missed.txt",
            {
                "window": f"{local:%Y-%m-%d %H:%M}",
                "on_duty": "、".join(sorted(on_duty)) or "无人值班",
            },
            urgent=True,
        )
    return rnd


def _record(ctx: Ctx, route: str, points: list[str], window: windows.Window) -> PatrolRound:
    session = ctx.db()
    rows = list(
        session.scalars(
            select(PatrolCheckin)
            .where(
                PatrolCheckin.point.in_(points),
                PatrolCheckin.at >= window.starts_at,
                PatrolCheckin.at < window.ends_at,
            )
            .order_by(PatrolCheckin.at)
        )
    )
    seen = {r.point for r in rows}
    missed = [p for p in points if p not in seen]
    data: dict[str, object] = {}
    if window.label == "closing":
        # Every point of the closing round says it: non-essential power off, no fire source left.
        data = {word: all(word in f"{r.status} {r.problem}" for r in rows) for word in CLOSING_WORDS}
        if rows and not all(data.values()):
            missed = missed or [f"闭店检查未记录{'、'.join(w for w, ok in data.items() if not ok)}"]
    rnd = PatrolRound(
        route=route,
        label=window.label,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        persons=sorted({r.person for r in rows}),
        missed=missed,
        data=data,
        problems=[f"{r.point} {r.problem}".strip() for r in rows if r.status == "隐患"],
    )
    session.add(rnd)
    session.flush()
    if missed:
        _alert(ctx, rnd)
    return rnd


def _alert(ctx: Ctx, rnd: PatrolRound) -> None:
    """漏巡: a case for the duty deputy manager, told at once; the SLA chain takes it to security."""
    cfg = ctx.config
    local = rnd.starts_at.astimezone(ctx.tz)
    deputies = people_for(ctx, cfg.duty_deputy)
    case = ctx.open_case(
        kind=f"{ctx.name}.{kinds.MISSED_PATROL}",
        owner=deputies[0] if deputies else None,
        unit=rnd.route,
        title=f"漏巡 {rnd.route} {local:%m-%d %H:%M}：{'、'.join(rnd.missed)}",
        urgent=True,
        data={"round_id": rnd.id, "route": rnd.route, "missed": rnd.missed, "label": rnd.label},
        reason="巡查时段结束，有点位未巡查",
    )
    rnd.case_id = case.id
    tell(
        ctx,
        cfg.duty_deputy,
        f"{case.number}/missed",
        "missed_patrol.txt",
        {
            "case_number": case.number,
            "route": rnd.route,
            "window": f"{local:%Y-%m-%d %H:%M}",
            "missed": "、".join(rnd.missed),
            "label": rnd.label,
        },
        case=case,
        urgent=True,
    )


def sign(ctx: Ctx, round_id: int, by: str) -> PatrolRound:
    """The supervisor countersigns a round's record (once; a second signature is refused)."""
    rnd = ctx.db().get(PatrolRound, round_id)
    if rnd is None:
        raise ValueError(f"no patrol round {round_id}")
    if rnd.signed_at is not None:
        raise ValueError(f"round {round_id} was countersigned by {rnd.signed_by} already")
    if ctx.person(by) is None:
        raise ValueError(f"{by!r} is not in [staff.people]")
    rnd.signed_by, rnd.signed_at = by, ctx.now()
    return rnd


def remind_unsigned(ctx: Ctx, now: datetime) -> int:
    """Remind the supervisor of each round left unsigned ``sign_within`` after it closed; how many rounds."""
    cfg = ctx.config.patrols
    late = list(
        ctx.db().scalars(
            select(PatrolRound)
            .where(
                PatrolRound.signed_at.is_(None),
                PatrolRound.route != windows.DEPUTY,  # the deputy's hours are not countersigned
                PatrolRound.ends_at <= now - cfg.sign_within,
            )
            .order_by(PatrolRound.id)
        )
    )
    count = 0
    for rnd in late:
        local = rnd.starts_at.astimezone(ctx.tz)
        count += bool(
            tell(
                ctx,
                cfg.supervisor,
                f"patrol/{rnd.id}/unsigned",
                "unsigned_patrol.txt",
                {
                    "round_id": rnd.id,
                    "route": rnd.route,
                    "window": f"{local:%Y-%m-%d %H:%M}",
                    "persons": "、".join(rnd.persons) or "无",
                    "missed": "、".join(rnd.missed) or "无",
                },
                channels=("email",),
            )
        )
    return count


def evaluate_since(ctx: Ctx, now: datetime, step: timedelta) -> datetime:
    """Where the evaluation job looks from: the last round recorded (at most two days back), else one step.

    So a daemon that was down catches up on the rounds it missed, and a new
    installation does not alert on the windows before it started.
    """
    last = ctx.db().scalar(select(PatrolRound.ends_at).order_by(PatrolRound.ends_at.desc()).limit(1))
    return max(last, now - timedelta(days=2)) if last is not None else now - step


def rounds(ctx: Ctx, *, unsigned: bool = False) -> list[PatrolRound]:
    """The recorded rounds, oldest first (only the unsigned ones with ``unsigned``)."""
    query = select(PatrolRound).order_by(PatrolRound.starts_at, PatrolRound.route)
    if unsigned:
        query = query.where(PatrolRound.signed_at.is_(None))
    return list(ctx.db().scalars(query))
