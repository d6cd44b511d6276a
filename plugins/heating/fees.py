"""采暖费: reminder campaigns before and during the season, the non-payer list, 关栓 spot checks.

A campaign queues one SMS per household that owes for the season, keyed on
(season, campaign day, account): a re-run the same day queues nothing. Before the
season starts each station gets a 关栓抽查 task listing its non-payers; a finding
"unpaid but not shut off" escalates to the branch (seed).
"""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select

from kefu.api import OPEN_STATES, Case, Customer, OutboxItem
from kefu.plugins.heating import kinds, rules
from kefu.plugins.heating.config import Ctx
from kefu.plugins.heating.models import FeeEntry, Household, ShutoffCheck
from kefu.plugins.heating.notify import case_context, customer_sms, people_for, tell_staff


def debtors(ctx: Ctx, season_year: int) -> list[tuple[Household, Customer, FeeEntry]]:
    """Households owing for ``season_year``: the non-payer list, by station then account."""
    rows = (
        ctx.db()
        .execute(
            select(Household, Customer, FeeEntry)
            .join(Customer, Customer.id == Household.customer_id)
            .join(FeeEntry, FeeEntry.account == Household.account)
            .where(FeeEntry.season_year == season_year, FeeEntry.amount_paid < FeeEntry.amount_due - 0.005)
            .order_by(Household.station, Household.account)
        )
        .all()
    )
    return [(h, c, f) for h, c, f in rows]


def run_campaign(ctx: Ctx, day: date, *, force: bool = False) -> tuple[str | None, int]:
    """Queue the fee reminders due on ``day`` (or, with ``force``, a reminder anyway); (campaign, queued)."""
    cfg = ctx.config
    campaign = rules.fee_campaign_on(day, cfg.season)
    if campaign is None and not force:
        return None, 0
    campaign = campaign or ("during" if rules.in_season(day, cfg.season) else "before")
    season_year = rules.season_year_of(day, cfg.season)
    start, end = rules.season_bounds(season_year, cfg.season)
    rows = debtors(ctx, season_year)
    owed = {h.account: (h, c, f) for h, c, f in rows}
    picked = rules.fee_reminder_recipients(
        rules.FeeDebtor(h.account, c.phone, f.amount_due - f.amount_paid, c.sms_opt_out) for h, c, f in rows
    )
    items: list[OutboxItem] = []
    for d in picked:
        hh, cust, _fee = owed[d.account]
        context = {
            "account": hh.account,
            "owed": f"{d.owed:.2f}",
            "season": f"{season_year}-{season_year + 1}",
            "season_start": start.strftime("%m月%d日"),
            "season_end": end.strftime("%m月%d日"),
            "campaign": campaign,
            "site_name": ctx.site_name,
        }
        item = customer_sms(
            None,
            cust,
            "fee",
            f"fee_{campaign}.txt",
            context,
            key=rules.fee_reminder_key(ctx.name, d.account, season_year, day),
        )
        if item is not None:
            items.append(item)
    if cfg.season.letter_without_phone:
        items.extend(
            _letters(rows, rules.fee_campaign_prefix(ctx.name, season_year, day), season_year, campaign, start)
        )
    # One INSERT … ON CONFLICT DO NOTHING per 500 rows; keys already queued (a re-run) are skipped unrendered.
    queued = len(ctx.queue_many(items))
    ctx.log.info("%s: fee campaign %s %s: %d queued of %d owing", ctx.name, campaign, day, queued, len(rows))
    return campaign, queued


def cancel_paid_reminders(ctx: Ctx, accounts: set[str], season_year: int, how: str) -> int:
    """Households that paid need no reminder: cancel their season's reminders still queued (held for
    quiet hours, paced), SMS and letter; ``how`` says where the payment was seen. How many were cancelled."""
    if not accounts:
        return 0
    prefix = rules.fee_season_prefix(ctx.name, season_year)
    return ctx.cancel_queued(  # keys: <prefix><day>/<account>/<channel>
        key_prefix=prefix,
        matches=lambda key: key.rsplit("/", 2)[-2] in accounts,
        reason=f"the household paid its {season_year} heating fee ({how}) before it went",
    )


def _letters(
    rows: list[tuple[Household, Customer, FeeEntry]], prefix: str, season_year: int, campaign: str, start: date
) -> list[OutboxItem]:
    """催缴通知书 letters to owing households that cannot be texted (no or invalid number)."""
    return [
        OutboxItem(
            key=f"{prefix}{hh.account}/letter",
            channel="letter",
            recipient=cust.name or hh.account,
            recipient_name=cust.name or None,
            address=hh.address,
            template="fee_letter.html",
            customer=cust,
            context={
                "account": hh.account,
                "owed": f"{fee.amount_due - fee.amount_paid:.2f}",
                "season": f"{season_year}-{season_year + 1}",
                "campaign": campaign,
                "season_start": start.strftime("%m月%d日"),
                "heated_area": hh.heated_area,
            },
        )
        for hh, cust, fee in rows
        if not cust.phone or cust.phone_invalid
    ]


def create_shutoff_checks(ctx: Ctx, day: date, *, seed: int | None = None) -> list[Case]:
    """Before the season: one 关栓抽查 task per station listing (a sample of) its non-payers."""
    cfg = ctx.config
    season_year = rules.season_year_of(day, cfg.season)
    session = ctx.db()
    existing = set(session.scalars(select(ShutoffCheck.account).where(ShutoffCheck.season_year == season_year)))
    by_station: dict[str, list[Household]] = {}
    for hh, _c, _f in debtors(ctx, season_year):
        if hh.account not in existing:
            by_station.setdefault(hh.station, []).append(hh)
    rng = random.Random(seed if seed is not None else season_year)
    cases = []
    for station, hhs in sorted(by_station.items()):
        take = max(1, round(len(hhs) * cfg.season.shutoff_sample_share))
        sample = sorted(rng.sample(hhs, take), key=lambda h: h.account)
        duty = people_for(ctx, cfg.duty_of(station), station)
        case = ctx.open_case(
            kind=kinds.SHUTOFF_CHECK,
            title=f"关栓抽查 {season_year}-{season_year + 1}：{station} {len(sample)} 户",
            unit=station,
            owner=duty[0] if duty else None,
            data={"station": station, "season_year": season_year, "accounts": [h.account for h in sample]},
        )
        for hh in sample:
            session.add(ShutoffCheck(season_year=season_year, station=station, account=hh.account, case_id=case.id))
        for person in duty:
            tell_staff(
                ctx,
                person,
                "shutoff_task",
                "shutoff_task",
                case_context(ctx, case, households=len(sample)),
                case=case,
                channels=("email", "sms"),
            )
        cases.append(case)
    session.flush()
    return cases


def record_shutoff_finding(
    ctx: Ctx, account: str, finding: str, *, season_year: int, actor: str = "staff"
) -> Case | None:
    """Record what the station found; unpaid but not shut off escalates to the branch head (a case)."""
    if finding not in ("shut", "not_shut", "paid"):
        raise ValueError(f"finding {finding!r}: write shut, not_shut or paid")
    cfg = ctx.config
    session = ctx.db()
    check = session.scalars(
        select(ShutoffCheck).where(ShutoffCheck.account == account, ShutoffCheck.season_year == season_year)
    ).one_or_none()
    if check is None:
        raise ValueError(f"account {account!r} has no 关栓 spot check for season {season_year}")
    check.finding, check.recorded_at = finding, ctx.now()
    if finding == "paid":
        cancel_paid_reminders(ctx, {account}, season_year, "found paid at the 关栓 spot check")
    escalated = None
    fee = session.scalars(
        select(FeeEntry).where(FeeEntry.account == account, FeeEntry.season_year == season_year)
    ).first()
    unpaid = fee is not None and fee.amount_paid < fee.amount_due - 0.005
    if finding == "not_shut" and unpaid and check.escalated_case_id is None:
        station = cfg.stations.get(check.station)
        branch = cfg.branches.get(station.branch) if station else None
        escalated = ctx.open_case(
            kind=kinds.SHUTOFF_ESCALATION,
            title=f"欠费未关栓：{check.station} {account}",
            unit=check.station,
            owner=branch.head if branch else cfg.cs_centre_head,
            data={"station": check.station, "account": account, "season_year": season_year},
            actor=actor,
            reason="关栓抽查发现欠费户未关栓",
        )
        check.escalated_case_id = escalated.id
        if escalated.owner:
            tell_staff(
                ctx,
                escalated.owner,
                "shutoff_escalation",
                "shutoff_escalation",
                case_context(ctx, escalated, account=account),
                case=escalated,
                channels=("email", "sms"),
            )
    if check.case_id is not None:
        task = session.get(Case, check.case_id)
        if task is not None:
            pending = session.scalar(
                select(ShutoffCheck.id).where(ShutoffCheck.case_id == task.id, ShutoffCheck.finding.is_(None))
            )
            if pending is None and task.state in OPEN_STATES:
                ctx.record_event(task, "checks_done", actor=actor, to_state="resolved", reason="抽查结果已全部录入")
    session.flush()
    return escalated
