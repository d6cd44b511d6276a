"""稽查: auditors' records become rectification cases with a 整改通知书 letter due in 15 days."""

from __future__ import annotations

from kefu.api import Customer
from kefu.plugins.heating import kinds, rules
from kefu.plugins.heating.config import Ctx
from kefu.plugins.heating.models import AuditFinding, Household


def open_audit_case(ctx: Ctx, finding: AuditFinding, hh: Household, cust: Customer) -> int:
    """The rectification case, its 整改通知书 letter to the household, and the agreement task step."""
    cfg = ctx.config
    due = ctx.now() + cfg.deadlines.audit_rectification
    title = rules.AUDIT_KINDS[finding.kind]
    case = ctx.open_case(
        kind=kinds.AUDIT,
        title=f"稽查整改：{title} {hh.account}",
        customer=cust,
        unit=hh.station,
        data={
            "finding": finding.ref,
            "finding_kind": finding.kind,
            "area_m2": finding.area_m2,
            "height_m": finding.height_m,
            "due_at": due.isoformat(),
            "station": hh.station,
            "address": hh.address,
            "next_step": "签署供暖补充协议",
        },
        actor="import",
        reason=f"稽查记录 {finding.ref}",
    )
    case.step = "rectification"
    ctx.queue(
        key=f"{case.number}/rectification_notice/{hh.account}/{cfg.audit.letter_channel}",
        channel=cfg.audit.letter_channel,
        recipient=(hh.address if cfg.audit.letter_channel == "letter" else (cust.email or "")),
        recipient_name=cust.name or hh.account,
        template="rectification_notice.html",
        context={
            "case_number": case.number,
            "recipient_name": cust.name or "住户",
            "today": ctx.local_now().date().isoformat(),
            "address": hh.address,
            "account": hh.account,
            "finding": title,
            "area_m2": finding.area_m2,
            "height_m": finding.height_m,
            "found_on": finding.found_on.isoformat(),
            "due_date": due.astimezone(ctx.tz).strftime("%Y年%m月%d日"),
            "site_name": ctx.site_name,
        },
        case=case,
        customer=cust,
    )
    return case.id
