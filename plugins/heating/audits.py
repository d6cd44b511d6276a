"""稽查: auditors' records become rectification cases with a 整改通知书 letter due in 15 days."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from kefu.api import Customer
from kefu.plugins.heating import csvfiles as cf
from kefu.plugins.heating import kinds, rules
from kefu.plugins.heating.config import Ctx
from kefu.plugins.heating.imports import HOUSEHOLD_COLUMNS
from kefu.plugins.heating.models import AuditFinding, Household

AUDIT_COLUMNS = {
    "ref": ("稽查编号", "编号", "记录号"),
    "account": HOUSEHOLD_COLUMNS["account"],
    "kind": ("类型", "稽查类型", "问题类型"),
    "area_m2": ("面积", "涉及面积", "area"),
    "height_m": ("层高", "高度", "height"),
    "found_on": ("稽查日期", "日期", "date"),
    "note": ("情况", "备注", "说明"),
}
_KIND_ALIASES = {title: key for key, title in rules.AUDIT_KINDS.items()} | {
    "私增面积": "private_area_increase", "地下室": "basement_extension", "地下室外扩": "basement_extension",
    "赠送面积": "gifted_area", "拆改": "layout_change",
}


def import_audit(ctx: Ctx, path: Path | str) -> cf.ImportReport:
    """Auditor records CSV: each finding opens an audit case and queues its 整改通知书 letter."""
    cfg = ctx.config
    session = ctx.db()
    report = cf.ImportReport("audit")
    known = set(session.scalars(select(AuditFinding.ref)))

    def handle(_line: int, row: dict[str, str]) -> str:
        ref = cf.need(row, "ref")
        if ref in known:
            return "unchanged"
        raw_kind = cf.need(row, "kind")
        kind = raw_kind if raw_kind in rules.AUDIT_KINDS else _KIND_ALIASES.get(raw_kind)
        if kind is None:
            raise ValueError(f"column 'kind': {raw_kind!r} is not one of {', '.join(rules.AUDIT_KINDS.values())}")
        account = cf.need(row, "account")
        found = session.execute(select(Household, Customer).join(Customer, Customer.id == Household.customer_id)
                                .where(Household.account == account)).first()
        if found is None:
            raise ValueError(f"account {account!r} is not a known household; import households first")
        hh, cust = found
        height = cf.number(row, "height_m") if row.get("height_m") else None
        finding = AuditFinding(ref=ref, account=account, kind=kind, area_m2=cf.number(row, "area_m2", 0.0),
                               height_m=height, found_on=cf.day(row, "found_on", ctx.local_now().date()),
                               data={"note": row.get("note", "")})
        session.add(finding)
        known.add(ref)
        if rules.audit_finding_counts(kind, height, cfg.audit.basement_height_m):
            finding.case_id = open_audit_case(ctx, finding, hh, cust)
        else:
            report.notes.append(f"{ref}: recorded, not a finding (层高 {height} m ≤ {cfg.audit.basement_height_m} m)")
        session.flush()
        return "created"

    cf.each_row(report, cf.read_rows(path, AUDIT_COLUMNS, ("ref", "account", "kind")), handle)
    return report


def open_audit_case(ctx: Ctx, finding: AuditFinding, hh: Household, cust: Customer) -> int:
    """The rectification case, its 整改通知书 letter to the household, and the agreement task step."""
    cfg = ctx.config
    due = ctx.now() + cfg.deadlines.audit_rectification
    title = rules.AUDIT_KINDS[finding.kind]
    case = ctx.open_case(
        kind=kinds.AUDIT, title=f"稽查整改：{title} {hh.account}", customer=cust, unit=hh.station,
        data={"finding": finding.ref, "finding_kind": finding.kind, "area_m2": finding.area_m2,
              "height_m": finding.height_m, "due_at": due.isoformat(), "station": hh.station,
              "address": hh.address, "next_step": "签署供暖补充协议"},
        actor="import", reason=f"稽查记录 {finding.ref}",
    )
    case.step = "rectification"
    ctx.queue(
        key=f"{case.number}/rectification_notice/{hh.account}/{cfg.audit.letter_channel}",
        channel=cfg.audit.letter_channel, recipient=(hh.address if cfg.audit.letter_channel == "letter"
                                                     else (cust.email or "")),
        recipient_name=cust.name or hh.account, template="rectification_notice.html",
        context={"case_number": case.number, "recipient_name": cust.name or "住户",
                 "today": ctx.local_now().date().isoformat(), "address": hh.address,
                 "account": hh.account, "finding": title, "area_m2": finding.area_m2,
                 "height_m": finding.height_m, "found_on": finding.found_on.isoformat(),
                 "due_date": due.astimezone(ctx.tz).strftime("%Y年%m月%d日"),
                 "site_name": ctx.site_name},
        case=case, customer=cust,
    )
    return case.id
