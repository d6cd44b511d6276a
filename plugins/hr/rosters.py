"""值班表 / 值日表: one source, the core's rotas.

The weekly patterns are ``[staff.rotas]``; the dated shifts hr publishes (a change, a
swap, an imported month) go into the core's ``rota_shifts``, which every plugin's
escalations already read (dated shifts win over the pattern). So there is no second
roster store: hr reminds whoever ``[staff]`` puts on duty tomorrow, and announces a
change to both the person taken off and the person put on.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, select

from kefu.api import RotaShift
from kefu.plugins.hr.config import Ctx


def on_duty(ctx: Ctx, rota: str, day: date) -> list[str]:
    """Everyone the rota puts on duty at some time of ``day`` (sampled each half hour), in order."""
    found: list[str] = []
    start = datetime.combine(day, time(0), ctx.tz)
    for step in range(48):
        for key in ctx.staff_for(f"rota:{rota}", when=start + timedelta(minutes=30 * step)):
            if key not in found:
                found.append(key)
    return found


def _tell(ctx: Ctx, key: str, idem: str, template: str, context: dict[str, object]) -> int:
    person = ctx.person(key)
    if person is None:
        ctx.log.warning("roster: %s is not in [staff.people]; %s not sent", key, template)
        return 0
    queued = 0
    for channel, address in (("sms", person.phone), ("email", person.email)):
        if address:
            queued += (
                ctx.queue(
                    key=f"{idem}/{key}/{channel}",
                    channel=channel,
                    recipient=address,
                    recipient_name=person.name,
                    template=template,
                    context={"name": person.name, **context},
                    audience="staff",
                )
                is not None
            )
    return queued


def remind_tomorrow(ctx: Ctx, today: date) -> int:
    """Remind each person on duty tomorrow in each published rota; how many messages."""
    tomorrow = today + timedelta(days=1)
    sent = 0
    for rota in ctx.config.rosters.rotas:
        for key in on_duty(ctx, rota, tomorrow):
            sent += _tell(
                ctx, key, f"{ctx.name}/roster/{rota}/{tomorrow}", "duty_reminder.txt", {"rota": rota, "day": tomorrow}
            )
    return sent


def assign(ctx: Ctx, rota: str, starts_at: datetime, ends_at: datetime, who: str, *, by: str = "hr") -> list[str]:
    """Put ``who`` on duty for [starts_at, ends_at) as a dated shift; tell whoever it replaces and ``who``.

    Returns the people told.
    """
    if ends_at <= starts_at:
        raise ValueError("the shift ends before it starts")
    if ctx.person(who) is None:
        raise ValueError(f"{who!r} is not in [staff.people]")
    before = ctx.staff_for(f"rota:{rota}", when=starts_at)
    session = ctx.db()
    session.execute(
        delete(RotaShift).where(RotaShift.rota == rota, RotaShift.starts_at == starts_at, RotaShift.ends_at == ends_at)
    )
    session.add(RotaShift(rota=rota, staff_key=who, starts_at=starts_at, ends_at=ends_at))
    session.flush()
    context = {
        "rota": rota,
        "starts_at": starts_at.astimezone(ctx.tz),
        "ends_at": ends_at.astimezone(ctx.tz),
        "who": who,
    }
    told = []
    stamp = f"{ctx.name}/roster-change/{rota}/{starts_at:%Y%m%d%H%M}/{who}"
    for key in before:
        if key != who:
            new = ctx.person(who)
            _tell(ctx, key, stamp, "duty_change_off.txt", {**context, "new_name": new.name if new else who})
            told.append(key)
    _tell(ctx, who, stamp, "duty_change_on.txt", {**context, "old_names": "、".join(before) or "无"})
    told.append(who)
    return told


def dated(ctx: Ctx, rota: str, starts_at: datetime, ends_at: datetime) -> list[str]:
    """Who the dated shifts of exactly [starts_at, ends_at) put on duty (the pattern not counted)."""
    return list(
        ctx.db().scalars(
            select(RotaShift.staff_key)
            .where(RotaShift.rota == rota, RotaShift.starts_at == starts_at, RotaShift.ends_at == ends_at)
            .order_by(RotaShift.id)
        )
    )


def publish(ctx: Ctx, rota: str, starts_at: datetime, ends_at: datetime, people: list[str]) -> list[str]:
    """Make ``people`` the dated shift of [starts_at, ends_at), as ``assign`` does for one person.

    Whoever the rota had on duty then (dated shift or pattern) and is no longer is told
    the change, and so is each person newly put on; nobody is told when nothing changes
    for them. Returns the people told.
    """
    if ends_at <= starts_at:
        raise ValueError("the shift ends before it starts")
    before = ctx.staff_for(f"rota:{rota}", when=starts_at)
    session = ctx.db()
    session.execute(
        delete(RotaShift).where(RotaShift.rota == rota, RotaShift.starts_at == starts_at, RotaShift.ends_at == ends_at)
    )
    for who in people:
        session.add(RotaShift(rota=rota, staff_key=who, starts_at=starts_at, ends_at=ends_at))
    session.flush()
    context = {"rota": rota, "starts_at": starts_at.astimezone(ctx.tz), "ends_at": ends_at.astimezone(ctx.tz)}
    stamp = f"{ctx.name}/roster-change/{rota}/{starts_at:%Y%m%d%H%M}/{'+'.join(people)}"
    names = "、".join((p.name if (p := ctx.person(k)) else k) for k in people)
    told = []
    for key in before:
        if key not in people:
            _tell(ctx, key, stamp, "duty_change_off.txt", {**context, "who": people[0], "new_name": names})
            told.append(key)
    for key in people:
        if key not in before:
            _tell(
                ctx, key, stamp, "duty_change_on.txt", {**context, "who": key, "old_names": "、".join(before) or "无"}
            )
            told.append(key)
    return told
