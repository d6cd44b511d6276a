"""客户赔付 (seed 项目客服 j): negotiation, the letter to the responsible party, payment, archive.

A compensation case (PF-…) is opened from the case that caused it; the parent's
attachments are listed as its evidence, and more evidence is only ever added
(nothing here deletes a row or an entry). Its steps:

* 协商谈判 — 15 days (``compensation.negotiation_within``) to agree an amount;
* 责任方函件 — the agreed amount goes to the responsible party (责任方) in a letter,
  an HTML template the core renders to PDF, posts (``kefu letters pending``) and
  archives with the case; emailed too when the party has an address;
* 付款申请 — the payment request, to the department head;
* 资料存档 — the dossier (evidence, letters and their EMS numbers, payment) is
  recorded on the case, which then closes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kefu.api import Attachment, Case, Letter
from kefu.plugins.complaints import kinds, notify
from kefu.plugins.complaints.config import Ctx
from kefu.plugins.complaints.repair import RuleRefused, case_text

if TYPE_CHECKING:
    from kefu.plugins.complaints.config import ComplaintsConfig

NEGOTIATION, LETTER, PAYMENT, ARCHIVE = kinds.COMPENSATION_STEPS


def party_of(
    cfg: ComplaintsConfig, party: str, *, address: str | None = None, email: str | None = None
) -> dict[str, Any]:
    """The responsible party: a configured contractor by its key, else a name with the given address."""
    known = cfg.contractors.get(party)
    if known is not None:
        return {
            "key": party,
            "name": known.name,
            "address": address or known.address,
            "email": email or known.email,
            "contact": known.contact,
        }
    return {"key": None, "name": party, "address": address, "email": email, "contact": None}


def open_compensation(
    ctx: Ctx,
    parent: Case,
    *,
    party: str,
    amount: float | None = None,
    address: str | None = None,
    email: str | None = None,
    note: str = "",
    actor: str = "staff",
) -> Case:
    """Open a 客户赔付 case from ``parent``; the parent's attachments become its first evidence."""
    cfg = ctx.config
    evidence = [
        {"attachment_id": att_id, "filename": name, "sha256": digest, "source": parent.number}
        for att_id, name, digest in ctx.db().execute(
            select(Attachment.id, Attachment.filename, Attachment.sha256)
            .where(Attachment.case_id == parent.id)
            .order_by(Attachment.id)
        )
    ]
    comp = ctx.open_case(
        kind=kinds.COMPENSATION,
        title=f"赔付：{parent.title}",
        unit=parent.unit,
        actor=actor,
        reason=note or None,
        data={
            "parent": parent.number,
            "party": party_of(cfg, party, address=address, email=email),
            "amount": amount,
            "evidence": evidence,
            "home": parent.data.get("home", ""),
            "text": case_text(ctx, parent).strip(),
        },
    )
    comp.customer_id = parent.customer_id
    ctx.record_event(parent, "compensation_opened", actor=actor, reason=comp.number, data={"case": comp.number})
    return comp


def add_evidence(
    ctx: Ctx, case: Case, description: str, *, path: str | None = None, actor: str = "staff"
) -> dict[str, Any]:
    """Add one piece of evidence; a file's size and SHA-256 are kept so a later change shows."""
    entry: dict[str, Any] = {"description": description, "path": path, "added_at": ctx.now().isoformat(), "by": actor}
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise RuleRefused(f"evidence file {path!r} does not exist; archive it first and give its path")
        content = file.read_bytes()
        entry.update(size=len(content), sha256=hashlib.sha256(content).hexdigest())
    ctx.record_event(case, "evidence", actor=actor, reason=description, data=entry)
    return entry


def agree(ctx: Ctx, case: Case, *, amount: float, terms: str = "", actor: str = "staff") -> None:
    """The negotiation ended with ``amount``: on to 责任方函件, whose letter is queued now."""
    if case.step != NEGOTIATION:
        raise RuleRefused(f"{case.number} is at {case.step}, not 协商谈判")
    if amount <= 0:
        raise RuleRefused(f"amount {amount} must be more than 0 (yuan)")
    case.data = {**case.data, "amount": amount, "terms": terms}
    _move(ctx, case, LETTER, actor, reason=f"协商一致：赔付 {amount:.2f} 元", extra={"amount": amount, "terms": terms})
    issue_letter(ctx, case)


def issue_letter(ctx: Ctx, case: Case) -> None:
    """Queue the 责任方函件: a letter to post (PDF archived with the case), and by email if known."""
    cfg = ctx.config
    party = case.data["party"]
    template = f"{cfg.compensation.letter_template}"
    context = letter_context(ctx, case)
    if party.get("email"):
        ctx.queue(
            key=f"{case.number}/party_letter/email",
            channel="email",
            recipient=party["email"],
            recipient_name=party["name"],
            audience="staff",
            template="compensation_letter.txt",
            letter=template,
            address=party.get("address"),
            case=case,
            context=context,
        )
    if not party.get("address"):
        ctx.log.warning(
            "%s: the responsible party %s has no address; the letter is listed to post without one",
            case.number,
            party["name"],
        )
    ctx.queue(
        key=f"{case.number}/party_letter/letter",
        channel="letter",
        recipient=party["name"],
        recipient_name=party["name"],
        audience="staff",
        template=template,
        address=party.get("address"),
        case=case,
        context=context,
    )


def letter_context(ctx: Ctx, case: Case) -> dict[str, Any]:
    """What the 责任方函件 says: the case, the home, what happened, the amount, the evidence."""
    cfg = ctx.config
    project = cfg.projects.get(case.unit or "")
    evidence = [str(e.get("description") or e.get("filename") or "") for e in case.data.get("evidence", [])]
    return {
        "parent_number": case.data.get("parent", ""),
        "project": project.name if project else (case.unit or ""),
        "home": case.data.get("home", ""),
        "fault": case.data.get("text", "") or case.title,
        "amount": f"{float(case.data['amount']):,.2f}",
        "terms": case.data.get("terms", ""),
        "party_contact": case.data["party"].get("contact") or "",
        "evidence": evidence,
        "pay_within_days": cfg.compensation.pay_within_days,
    }


def request_payment(ctx: Ctx, case: Case, *, payee: str, note: str = "", actor: str = "staff") -> None:
    """付款申请 to the head, once the letter has gone out (it is archived with the case)."""
    if case.step != LETTER:
        raise RuleRefused(f"{case.number} is at {case.step}; the payment request follows 责任方函件")
    if not case_letters(ctx, case):
        raise RuleRefused(
            f"{case.number}: the 责任方函件 has not been sent yet (see `kefu outbox list`); "
            f"request the payment after it went out"
        )
    case.data = {
        **case.data,
        "payment": {
            "payee": payee,
            "amount": case.data["amount"],
            "note": note,
            "requested_at": ctx.now().isoformat(),
            "by": actor,
        },
    }
    _move(
        ctx,
        case,
        PAYMENT,
        actor,
        reason=f"付款申请：{payee} {float(case.data['amount']):.2f} 元",
        extra={"payee": payee},
    )
    notify.tell_role(
        ctx,
        case.unit,
        "head",
        "compensation_payment",
        {
            **notify.case_context(case),
            "payee": payee,
            "amount": f"{float(case.data['amount']):,.2f}",
            "party": case.data["party"]["name"],
            "note": note,
        },
        key=f"{case.number}/payment",
        case=case,
    )


def archive(ctx: Ctx, case: Case, *, note: str = "", actor: str = "staff") -> dict[str, Any]:
    """资料存档: record the dossier on the case (evidence, letters, payment) and close it."""
    if case.step != PAYMENT:
        raise RuleRefused(f"{case.number} is at {case.step}; 资料存档 follows 付款申请")
    letters = [
        {
            "letter_id": lt.id,
            "title": lt.title,
            "to": lt.recipient_name,
            "ems": lt.ems_number,
            "posted_at": lt.posted_at.isoformat() if lt.posted_at else None,
        }
        for lt in case_letters(ctx, case)
    ]
    evidence = list(case.data.get("evidence", []))
    dossier = {
        "evidence": evidence,
        "letters": letters,
        "payment": case.data.get("payment"),
        "archived_at": ctx.now().isoformat(),
        "note": note,
    }
    case.data = {**case.data, "dossier": dossier}
    _move(ctx, case, ARCHIVE, actor, reason="资料存档", extra={"letters": len(letters), "evidence": len(evidence)})
    ctx.close(case, actor=actor, reason=note or "资料存档")
    return dossier


def case_letters(ctx: Ctx, case: Case) -> list[Letter]:
    """The letters the core archived with ``case`` (rendered PDFs), oldest first."""
    return list(ctx.db().scalars(select(Letter).where(Letter.case_id == case.id).order_by(Letter.id)))


def get(ctx: Ctx, number: str) -> Case:
    """The compensation case ``number``."""
    case = ctx.find_case(number)
    if case is None or ctx.kind_of(case) != kinds.COMPENSATION:
        raise RuleRefused(
            f"no compensation case {number!r} (see `kefu cases list --kind {ctx.kind(kinds.COMPENSATION)}`)"
        )
    return case


def _move(ctx: Ctx, case: Case, step: str, actor: str, *, reason: str, extra: dict[str, Any]) -> None:
    previous, case.step = case.step, step
    ctx.record_event(
        case,
        "step",
        actor=actor,
        reason=reason,
        to_state="in_progress" if case.state != "in_progress" else None,
        data={"step": step, "previous": previous, **extra},
    )
