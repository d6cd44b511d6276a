"""The 《工程维修通知单》 (engineering repair notice) to a third-party contractor.

Seed 项目客服 k: the project CS drafts it and posts it by EMS, and the sending
record is archived. Two outbox rows carry it: an email to the contractor with the
letter attached as PDF, and a ``letter`` row that the core renders, archives with
the case and lists in ``kefu letters pending`` until its EMS number is recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kefu.api import Case
from kefu.plugins.complaints.config import Ctx


def notice_context(ctx: Ctx, job: Case, due: datetime) -> dict[str, Any]:
    """What the 工程维修通知单 says: contractor, home, fault, due date."""
    cfg = ctx.config
    contractor = cfg.contractors[str(job.data["contractor"])]
    project = cfg.projects.get(job.unit or "")
    return {
        "parent_number": job.data.get("parent", ""),
        "contractor_name": contractor.name,
        "contractor_contact": contractor.contact or "",
        "project": project.name if project else (job.unit or ""),
        "home": job.data.get("home", ""),
        "fault": job.data.get("text", "") or job.title,
        "instructions": job.data.get("instructions", ""),
        "due": due.astimezone(ctx.tz).strftime("%Y年%m月%d日 %H:%M"),
    }


def issue_repair_notice(ctx: Ctx, job: Case, due: datetime) -> None:
    """Queue the 工程维修通知单 of a contractor job: by email (PDF attached) and for EMS posting."""
    cfg = ctx.config
    contractor = cfg.contractors[str(job.data["contractor"])]
    context = notice_context(ctx, job, due)
    letter = f"{cfg.third_party.letter_template}"
    if contractor.email:
        ctx.queue(
            key=f"{job.number}/repair_notice/contractor/email",
            channel="email",
            recipient=contractor.email,
            recipient_name=contractor.name,
            audience="staff",
            template="repair_notice.txt",
            letter=letter,
            address=contractor.address,
            case=job,
            context=context,
        )
    else:
        ctx.log.warning(
            "contractor %s has no email in [complaints.contractors]: %s goes by post only", contractor.name, job.number
        )
    ctx.queue(
        key=f"{job.number}/repair_notice/contractor/letter",
        channel="letter",
        recipient=contractor.name,
        recipient_name=contractor.name,
        audience="staff",
        template=letter,
        address=contractor.address,
        case=job,
        context=context,
    )
