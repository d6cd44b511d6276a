"""煤质化验: each sample tested twice (seed).

Within tolerance the mean goes to the fuel department, beyond it a retest.
"""

from __future__ import annotations

from kefu.plugins.heating import kinds, rules
from kefu.plugins.heating.config import Ctx
from kefu.plugins.heating.models import CoalSample
from kefu.plugins.heating.notify import case_context, tell_staff


def ask_for_retests(ctx: Ctx, samples: list[CoalSample]) -> list[str]:
    """A retest case (and the lab head told) for each sample out of tolerance that has none yet."""
    cfg = ctx.config
    notes: list[str] = []
    for row in samples:
        if row.case_id is not None:
            continue
        result = rules.coal_double_test(
            row.measure, row.first, row.second, cfg.coal_lab.tolerance, cfg.coal_lab.default_tolerance
        )
        case = ctx.open_case(
            kind=kinds.COAL_RETEST,
            title=f"煤质复检：{row.sample} {result.measure}",
            unit="coal_lab",
            data={
                "sample": row.sample,
                "measure": result.measure,
                "first": result.first,
                "second": result.second,
                "difference": result.difference,
                "tolerance": result.tolerance,
            },
            actor="import",
            reason=f"两次化验相差 {result.difference:g}，超出允许差 {result.tolerance:g}",
        )
        row.case_id = case.id
        if cfg.coal_lab.lab_head:
            tell_staff(
                ctx,
                cfg.coal_lab.lab_head,
                "retest",
                "coal_retest",
                case_context(
                    ctx,
                    case,
                    sample=row.sample,
                    measure=result.measure,
                    first=result.first,
                    second=result.second,
                    difference=result.difference,
                    tolerance=result.tolerance,
                ),
                case=case,
                channels=("email",),
            )
        notes.append(f"retest requested: {case.number} {row.sample} {result.measure}")
    return notes


def report_means(ctx: Ctx, samples: list[CoalSample], digest: str) -> None:
    """The means of the samples within tolerance, to the fuel department, once per file."""
    cfg = ctx.config
    if not samples or not cfg.fuel_department:
        return
    tell_staff(
        ctx,
        cfg.fuel_department,
        "coal_report",
        "coal_report",
        {
            "rows": [
                {"sample": s.sample, "measure": s.measure, "first": s.first, "second": s.second, "mean": s.mean}
                for s in samples
            ],
            "site_name": ctx.site_name,
        },
        scope=f"{ctx.name}/coal/{digest}",
        channels=("email",),
    )
