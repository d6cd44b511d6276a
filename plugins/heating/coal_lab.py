"""煤质化验: each sample tested twice (seed); within tolerance the mean goes to the fuel department, beyond it a retest."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from kefu.api import OPEN_STATES, Case
from kefu.plugins.heating import csvfiles as cf
from kefu.plugins.heating import kinds, rules
from kefu.plugins.heating.config import Ctx
from kefu.plugins.heating.models import CoalSample
from kefu.plugins.heating.notify import case_context, tell_staff

COAL_COLUMNS = {
    "sample": ("样品编号", "煤样编号", "编号"),
    "material": ("样品类型", "类型"),
    "measure": ("项目", "指标", "化验项目"),
    "first": ("第一次", "一次", "test1"),
    "second": ("第二次", "二次", "test2"),
    "tested_on": ("化验日期", "日期", "date"),
}


def import_coal_lab(ctx: Ctx, path: Path | str) -> cf.ImportReport:
    """Lab results CSV: store each double test, ask for retests, send the report of means."""
    cfg = ctx.config
    session = ctx.db()
    report = cf.ImportReport("coal lab")
    existing = {(s.sample, s.measure): s for s in session.scalars(select(CoalSample))}
    accepted: list[tuple[str, rules.CoalResult]] = []
    retests: list[tuple[str, rules.CoalResult]] = []

    def handle(_line: int, row: dict[str, str]) -> str:
        sample, measure = cf.need(row, "sample"), cf.need(row, "measure")
        result = rules.coal_double_test(measure, cf.number(row, "first"), cf.number(row, "second"),
                                        cfg.coal_lab.tolerance, cfg.coal_lab.default_tolerance)
        values = {"material": row.get("material") or "coal", "first": result.first, "second": result.second,
                  "difference": result.difference, "mean": result.mean,
                  "state": "retest" if result.retest else "ok",
                  "tested_on": cf.day(row, "tested_on") if row.get("tested_on") else None}
        found = existing.get((sample, measure))
        if found is not None and not cf.changed(found, values):
            return "unchanged"
        if found is None:
            found = CoalSample(sample=sample, measure=measure, updated_at=ctx.now(), **values)
            session.add(found)
            existing[(sample, measure)] = found
            outcome = "created"
        else:
            found.tests += 1
            found.updated_at = ctx.now()
            outcome = "updated"
        (retests if result.retest else accepted).append((sample, result))
        if not result.retest and found.case_id is not None:
            case = session.get(Case, found.case_id)
            if case is not None and case.state in OPEN_STATES:
                ctx.record_event(case, "retested", actor="import", to_state="closed",
                             reason=f"复检合格，均值 {result.mean}")
        session.flush()
        return outcome

    cf.each_row(report, cf.read_rows(path, COAL_COLUMNS, ("sample", "measure", "first", "second")), handle)
    for sample, result in retests:
        row = existing[(sample, result.measure)]
        if row.case_id is not None:
            continue
        case = ctx.open_case(
            kind=kinds.COAL_RETEST, title=f"煤质复检：{sample} {result.measure}", unit="coal_lab",
            data={"sample": sample, "measure": result.measure, "first": result.first, "second": result.second,
                  "difference": result.difference, "tolerance": result.tolerance},
            actor="import", reason=f"两次化验相差 {result.difference:g}，超出允许差 {result.tolerance:g}",
        )
        row.case_id = case.id
        if cfg.coal_lab.lab_head:
            tell_staff(ctx, cfg.coal_lab.lab_head, "retest", "coal_retest", case_context(
                ctx, case, sample=sample, measure=result.measure, first=result.first, second=result.second,
                difference=result.difference, tolerance=result.tolerance), case=case, channels=("email",))
        report.notes.append(f"retest requested: {case.number} {sample} {result.measure}")
    if accepted and cfg.fuel_department:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
        tell_staff(ctx, cfg.fuel_department, "coal_report", "coal_report",
                   {"rows": [{"sample": s, "measure": r.measure, "first": r.first, "second": r.second,
                              "mean": r.mean} for s, r in accepted],
                    "site_name": ctx.site_name},
                   scope=f"{ctx.name}/coal/{digest}", channels=("email",))
    session.flush()
    return report

