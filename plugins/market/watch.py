"""Watch-list tenants: a shop closed N days in a row, and transfer/sublet/refit requests.

Seed (片区主管职责 八、十一): 密切关注经营户的经营动态 … 发现异常动态及时向上级领导报告;
把好转、退商铺初审, 非正常转让要及时发现. A shop whose last ``closed_days`` opening
checks (3, default) all found it closed alerts the market manager once per streak. A
request (门市转让、出租、装修) alerts the market manager at once and is a case whose
floor manager reviews it first; the manager's decision is refused until then.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from kefu.api import Case
from kefu.plugins.market import kinds
from kefu.plugins.market.config import Ctx
from kefu.plugins.market.models import OpeningCheck, Shop
from kefu.plugins.market.notify import people_for, tell

REQUESTS = {"transfer": "转让", "sublet": "出租", "refit": "装修"}


def closed_streaks(ctx: Ctx, today: date) -> int:
    """Alert the manager about each shop whose last N checks up to ``today`` found it closed; how many."""
    n = ctx.config.watch.closed_days
    by_shop: dict[str, list[OpeningCheck]] = {}
    for check in ctx.db().scalars(
        select(OpeningCheck).where(OpeningCheck.day <= today).order_by(OpeningCheck.shop_no, OpeningCheck.day.desc())
    ):
        by_shop.setdefault(check.shop_no, []).append(check)
    alerted = 0
    for shop_no, checks in sorted(by_shop.items()):
        recent = checks[:n]
        if len(recent) < n or any(c.opened for c in recent):
            continue
        streak_start = recent[-1].day
        for older in checks[n:]:
            if older.opened:
                break
            streak_start = older.day
        shop = ctx.db().scalars(select(Shop).where(Shop.shop_no == shop_no)).one_or_none()
        alerted += bool(
            tell(
                ctx,
                ctx.config.market_manager,
                f"closed/{shop_no}/{streak_start}",
                "shop_closed.txt",
                {
                    "shop_no": shop_no,
                    "floor": shop.floor if shop else "",
                    "tenant": shop.tenant if shop else "",
                    "since": streak_start.isoformat(),
                    "days": (recent[0].day - streak_start).days + 1,
                    "watch": shop.watch if shop else "",
                },
                urgent=True,
            )
        )
    return alerted


def request(ctx: Ctx, shop_no: str, what: str, note: str, *, by: str) -> Case:
    """A tenant's transfer/sublet/refit request: a case for the floor manager's first review; the manager is told."""
    if what not in REQUESTS:
        raise ValueError(f"{what!r}: write transfer, sublet or refit")
    cfg = ctx.config
    shop = ctx.db().scalars(select(Shop).where(Shop.shop_no == shop_no)).one_or_none()
    if shop is None:
        raise ValueError(f"shop {shop_no!r} is not in the register")
    reviewers = people_for(ctx, cfg.floor_manager(shop.floor), shop.floor)
    label = REQUESTS[what]
    case = ctx.open_case(
        kind=f"{ctx.name}.{kinds.REQUEST}",
        title=f"门市{label}申请：{shop_no}（{shop.tenant}）",
        owner=reviewers[0] if reviewers else None,
        unit=shop.floor,
        step=kinds.FIRST_REVIEW,
        data={"shop_no": shop_no, "request": what, "note": note, "watch": shop.watch},
        actor=by,
        reason=note or f"门市{label}申请",
    )
    context = {
        "case_number": case.number,
        "shop_no": shop_no,
        "tenant": shop.tenant,
        "floor": shop.floor,
        "request": label,
        "note": note,
        "watch": shop.watch,
    }
    tell(
        ctx,
        cfg.market_manager,
        f"{case.number}/request",
        "request_alert.txt",
        context,
        case=case,
        urgent=True,
    )
    tell(
        ctx,
        cfg.floor_manager(shop.floor),
        f"{case.number}/review",
        "request_review.txt",
        context,
        case=case,
        unit=shop.floor,
    )
    return case


def first_review(ctx: Ctx, case: Case, *, by: str, ok: bool, note: str = "") -> None:
    """The floor manager's first review: passed goes to the manager's decision, refused ends it there."""
    if case.step != kinds.FIRST_REVIEW:
        raise ValueError(f"{case.number} is not waiting for its first review (step {case.step})")
    if ok:
        managers = people_for(ctx, ctx.config.market_manager)
        ctx.set_step(case, kinds.DECISION, actor=by, reason=note or "楼层经理初审通过")
        if managers:
            ctx.assign(case, managers[0], actor=by, reason="初审通过，报管理部经理审批")
    else:
        ctx.set_step(case, kinds.REJECTED_FIRST, actor=by, reason=note or "楼层经理初审未通过")
        ctx.resolve(case, actor=by, reason=note or "初审未通过")


def decide(ctx: Ctx, case: Case, *, by: str, approve: bool, note: str = "") -> None:
    """The market manager's decision (refused by the kind's guard before the first review)."""
    ctx.record_event(
        case,
        "decision",
        actor=by,
        reason=note or ("批准" if approve else "不批准"),
        data={"approved": approve},
    )
    ctx.resolve(case, actor=by, reason=("批准" if approve else "不批准") + (f"：{note}" if note else ""))
