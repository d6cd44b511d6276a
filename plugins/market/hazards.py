"""隐患: a hazard from a patrol report or a staff entry becomes a rectification case.

Steps 整改 (fix on the spot or within 24 h, default) → 复查 (security re-checks) →
resolved. The step deadlines remind the owner before they fall due and escalate
to the security manager, then the market manager, when they slip. A major hazard
(``[market.hazards] major_words``, or reported as major) goes to the general manager
at once (seed: 发现重大隐患时，应立即采取防范措施，并上报商贸城总经理).
"""

from __future__ import annotations

from kefu.api import Case
from kefu.plugins.market import kinds
from kefu.plugins.market.config import Ctx
from kefu.plugins.market.notify import people_for, tell


def is_major(ctx: Ctx, text: str) -> bool:
    """A hazard described with one of the configured major words."""
    return any(word in text for word in ctx.config.hazards.major_words)


def report(ctx: Ctx, point: str, text: str, *, by: str, major: bool | None = None, source: str = "staff") -> Case:
    """Open the rectification case of a hazard at ``point``; a major one tells the general manager now."""
    cfg = ctx.config
    major = is_major(ctx, text) if major is None else major
    place = cfg.patrols.points.get(point, point)
    owners = people_for(ctx, cfg.security_manager)
    case = ctx.open_case(
        kind=f"{ctx.name}.{kinds.HAZARD}",
        title=f"{'重大' if major else ''}隐患 {place}：{text}"[:200],
        owner=owners[0] if owners else None,
        unit=point,
        urgent=major,
        step=kinds.FIX,
        data={
            "point": point,
            "place": place,
            "problem": text,
            "major": major,
            "reported_by": by,
            "source": source,
        },
        actor=by,
        reason="巡查发现隐患" if source != "staff" else "员工登记隐患",
    )
    context = {
        "case_number": case.number,
        "place": place,
        "problem": text,
        "reported_by": by,
        "fix_within": f"{cfg.hazards.fix_within.total_seconds() / 3600:g} 小时",
    }
    tell(
        ctx,
        cfg.security_manager,
        f"{case.number}/hazard",
        "hazard.txt",
        context,
        case=case,
        urgent=major,
    )
    if major:
        tell(
            ctx,
            cfg.general_manager,
            f"{case.number}/major",
            "hazard_major.txt",
            context,
            case=case,
            urgent=True,
        )
    return case


def fixed(ctx: Ctx, case: Case, *, by: str, note: str = "") -> None:
    """The hazard is reported fixed: on to the security re-check."""
    ctx.set_step(case, kinds.RECHECK, actor=by, reason=note or "已整改，待复查")


def rechecked(ctx: Ctx, case: Case, *, by: str, ok: bool, note: str = "") -> None:
    """The re-check: passed resolves the case; failed sends it back to 整改 with a new deadline."""
    if ok:
        ctx.resolve(case, actor=by, reason=note or "复查合格")
    else:
        ctx.set_step(case, kinds.FIX, actor=by, reason=note or "复查不合格，重新整改")
