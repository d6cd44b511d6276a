"""客户赔付: evidence kept from the owner's mail, 15 d negotiation, the 责任方函件 rendered to PDF and
archived with the case, the payment request, the archive; and every template renders its sample."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kefu.app import App
from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.models import Attachment, Case, CaseEvent, Deadline, Letter, OutboxMessage
from kefu.passes import PassResult
from kefu.plugins.complaints import actions
from kefu.sla.cases import find_case
from kefu.templating import check_templates, template_samples
from kefu.testing.mail import build_mail, deliver_to_maildir
from kefu.testing.pdf import assert_cjk_drawn, pdf_text

from .conftest import COMPLAINTS, STAFF

PHOTO = b"\xff\xd8\xff\xe0fake-jpeg-of-the-ceiling"


def _act(app: App, fn: Callable[..., object], *args: object, **kwargs: object) -> object:
    with transaction(app.sessions) as s:
        return fn(app.context("complaints", s), *args, **kwargs)


def test_compensation_evidence_letter_pdf_payment_and_archive(
    mail_app: tuple[App, Path],
    clock: FakeClock,
    run_pass: Callable[[App], PassResult],
    tmp_path: Path,
) -> None:
    app, maildir = mail_app
    deliver_to_maildir(
        maildir,
        build_mail(
            sender="zhang@example.com",
            subject="卫生间漏水",
            charset="gb2312",
            text="卫生间漏水，把楼下吊顶泡坏了，要求赔偿",
            attachments=[("吊顶照片.jpg", "image/jpeg", PHOTO)],
        ),
    )
    run_pass(app)
    with app.sessions() as s:
        parent = s.scalars(select(Case).where(Case.kind.like("complaints.repair%"))).one().number
    comp = _act(app, actions.open_compensation, parent, party="hengan", note="防水层施工缺陷")
    number = comp.number
    with app.sessions() as s:
        case = find_case(s, number)
        assert case is not None and number.startswith("PF-") and case.step == "协商谈判" and case.owner == "cs"
        (evidence,) = case.data["evidence"]
        assert evidence["filename"] == "吊顶照片.jpg" and evidence["sha256"] == hashlib.sha256(PHOTO).hexdigest()
        (negotiation,) = s.scalars(select(Deadline).where(Deadline.case_id == case.id, Deadline.state == "open"))
        assert negotiation.name == "step:协商谈判" and negotiation.due_at - negotiation.started_at == timedelta(days=15)
    quote = tmp_path / "报价单.pdf"
    quote.write_bytes(b"%PDF-1.4 quote")
    _act(app, actions.add_evidence, number, "吊顶维修报价单", path=str(quote))
    with pytest.raises(actions.RuleRefused, match="does not exist"):
        _act(app, actions.add_evidence, number, "丢失的文件", path=str(tmp_path / "missing.pdf"))
    with pytest.raises(actions.RuleRefused, match="agree"):
        _act(app, actions.advance_step, number)  # no skipping the letter
    with pytest.raises(actions.RuleRefused, match="责任方函件"):
        _act(app, actions.request_payment, number, "张三")

    _act(app, actions.agree_compensation, number, 3000, terms="含楼下吊顶修复")
    with pytest.raises(actions.RuleRefused, match="not been sent"):
        _act(app, actions.request_payment, number, "张三")  # the letter has not gone out yet
    run_pass(app)  # the core renders the letter to PDF, emails it and archives it with the case
    with app.sessions() as s:
        case = find_case(s, number)
        assert case is not None
        letters = list(s.scalars(select(Letter).where(Letter.case_id == case.id).order_by(Letter.id)))
        rows = {
            r.channel: r
            for r in s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.case_id == case.id, OutboxMessage.idem_key.like("%/party_letter/%")
                )
            )
        }
        met = s.scalars(select(Deadline).where(Deadline.case_id == case.id, Deadline.name == "step:协商谈判")).one()
        assert met.state == "met"
    assert set(rows) == {"email", "letter"} and all(r.state == "sent" for r in rows.values())
    assert rows["email"].recipient == "jobs@hengan.example"
    posted = [lt for lt in letters if lt.to_post]
    assert len(posted) == 1 and posted[0].title == "关于客户赔付事宜的函"
    assert posted[0].address == "北京市朝阳区某路1号"
    text = pdf_text(posted[0].pdf)
    assert_cjk_drawn(posted[0].pdf)
    for expected in ("恒安防水工程有限公司", number, parent, "3,000.00", "吊顶照片.jpg", "吊顶维修报价单"):
        assert expected in text, expected

    _act(app, actions.request_payment, number, "张三")
    with app.sessions() as s:
        pay = s.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "complaints/compensation_payment.txt")
        ).one()
    assert pay.recipient == "head@example.com" and "3,000.00" in pay.body
    dossier = _act(app, actions.archive_compensation, number, note="已付款")
    assert [e.get("filename") or e.get("description") for e in dossier["evidence"]] == [
        "吊顶照片.jpg",
        "吊顶维修报价单",
    ]
    assert len(dossier["letters"]) == len(letters)
    with app.sessions() as s:
        case = find_case(s, number)
        assert case is not None and case.state == "closed" and case.step == "资料存档"
        # The evidence is still there: the owner's photo and the file record.
        assert s.scalar(select(func.count()).select_from(Attachment)) == 1
        steps = [
            e.data.get("step")
            for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.type == "step"))
        ]
    assert steps[-3:] == ["责任方函件", "付款申请", "资料存档"]


def test_compensation_negotiation_breach_escalates_after_15_days(
    mail_app: tuple[App, Path],
    clock: FakeClock,
    run_pass: Callable[[App], PassResult],
) -> None:
    app, maildir = mail_app
    deliver_to_maildir(maildir, build_mail(sender="zhang@example.com", subject="投诉", text="我要投诉，要求赔偿损失"))
    run_pass(app)
    with app.sessions() as s:
        parent = s.scalars(select(Case).where(Case.kind == "complaints.complaint")).one().number
    number = _act(app, actions.open_compensation, parent, party="某装饰公司", address="北京市某区某路2号").number
    clock.advance(days=14)
    run_pass(app)
    clock.advance(days=1, minutes=1)
    run_pass(app)
    with app.sessions() as s:
        case = find_case(s, number)
        assert case is not None and case.data["party"] == {
            "key": None,
            "name": "某装饰公司",
            "address": "北京市某区某路2号",
            "email": None,
            "contact": None,
        }
        events = list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)))
    escalated = [e for e in events if e.type == "escalated"]
    assert escalated and all(e.at >= case.opened_at + timedelta(days=15) for e in escalated)


def test_every_complaints_template_renders_its_sample(make_app: Callable[..., App]) -> None:
    app = make_app(plugins=["complaints"], config={"staff": STAFF, "complaints": COMPLAINTS})
    samples = template_samples(app)
    ours = {k for k in samples if k.startswith("complaints/")}
    assert {
        "complaints/compensation_letter.html",
        "complaints/compensation_payment.txt",
        "complaints/repair_ack.txt",
        "complaints/warranty_notice.sms.txt",
    } <= ours
    problems = [p for p in check_templates(app, samples) if "complaints/" in p]
    assert problems == []
