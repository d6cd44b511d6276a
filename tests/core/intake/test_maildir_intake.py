"""Issue 4 through the embedded Maildir channel: store once, thread, classify, protect from loops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from kefu.app import App
from kefu.channels.threading_ids import make_message_id
from kefu.db.engine import transaction
from kefu.db.models import (
    Attachment,
    Case,
    CaseEvent,
    Customer,
    InboundItem,
    InboundRaw,
    OutboxMessage,
)
from kefu.intake.runner import run_intake
from kefu.testing.mail import build_bounce, build_mail
from kefu.testing.mail import deliver_to_maildir as deliver


def _all(app: App, model: type) -> list:
    with transaction(app.sessions) as session:
        return list(session.scalars(select(model).order_by(model.id)))


def test_new_mail_opens_a_classified_case_and_is_flagged_seen(heat_app: Callable[..., App], maildir: Path) -> None:
    app = heat_app()
    path = deliver(maildir, build_mail(subject="3号楼暖气漏水", text="楼上跑水了"))
    assert run_intake(app) == 1
    [case] = _all(app, Case)
    assert (case.kind, case.urgent, case.number) == ("heat.leak", True, "HT-2026-000001")
    assert case.data["reply_to"] == "zhang@example.com"
    [item] = _all(app, InboundItem)
    assert (item.status, item.case_id, item.subject) == ("processed", case.id, "3号楼暖气漏水")
    assert not path.exists()
    assert [p.name for p in (maildir / "cur").iterdir()] == [f"{path.name}:2,S"]
    assert [o.recipient for o in _all(app, OutboxMessage)] == ["zhang@example.com"]
    assert run_intake(app) == 0  # nothing is read twice


def test_crash_between_store_and_mark_stores_once(
    heat_app: Callable[..., App], maildir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = heat_app()
    deliver(maildir, build_mail(text="暖气不热"))
    import kefu.channels.maildir as md

    def crash(*_a: object) -> None:
        raise SystemExit("killed between store and mark")

    monkeypatch.setattr(md, "_mark_seen", crash)
    with pytest.raises(SystemExit):
        run_intake(app)
    monkeypatch.undo()
    run_intake(app)
    assert len(_all(app, InboundItem)) == 1
    assert len(_all(app, Case)) == 1
    assert not list((maildir / "new").iterdir())


def test_same_message_id_delivered_twice_makes_one_case(heat_app: Callable[..., App], maildir: Path) -> None:
    app = heat_app()
    raw = build_mail(text="暖气不热", message_id="<same@client>")
    deliver(maildir, raw)
    run_intake(app)
    deliver(maildir, raw)
    run_intake(app)
    items = _all(app, InboundItem)
    assert [i.status for i in items] == ["processed", "duplicate"]
    assert len(_all(app, Case)) == 1


def test_reply_threaded_by_references_adds_to_the_case(heat_app: Callable[..., App], maildir: Path) -> None:
    app = heat_app()
    deliver(maildir, build_mail(text="暖气漏水", message_id="<first@client>"))
    run_intake(app)
    # The reply's subject is edited and would classify differently; References wins.
    deliver(maildir, build_mail(subject="再问一下", text="暖气不热了吗", references=["<first@client>"]))
    run_intake(app)
    [case] = _all(app, Case)
    replies = [e for e in _all(app, CaseEvent) if e.type == "customer_reply"]
    assert [(e.case_id, e.actor) for e in replies] == [(case.id, "customer")]
    assert replies[0].data["item_id"] == _all(app, InboundItem)[1].id


def test_reply_to_our_signed_message_id_threads(
    heat_app: Callable[..., App], maildir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEFU_LINK", "site-secret")
    app = heat_app(config={"kefu": {"link_secret": "link"}})
    deliver(maildir, build_mail(text="暖气漏水"))
    run_intake(app)
    [case] = _all(app, Case)
    ours = make_message_id(case.number, "site-secret", "kefu.example.com")
    forged = make_message_id(case.number, "wrong-secret", "kefu.example.com")
    deliver(maildir, build_mail(sender="other@example.com", subject="Re", text="暖气不热", in_reply_to=forged))
    deliver(maildir, build_mail(subject="改了标题", text="还是漏", in_reply_to=ours))
    run_intake(app)
    cases = _all(app, Case)
    assert len(cases) == 2  # the forged reference opened its own case
    items = _all(app, InboundItem)
    assert items[2].case_id == case.id and "reference" in (items[2].reason or "")


def test_case_number_in_subject_threads_only_for_the_customer(heat_app: Callable[..., App], maildir: Path) -> None:
    app = heat_app()
    deliver(maildir, build_mail(text="暖气漏水"))
    run_intake(app)
    [case] = _all(app, Case)
    deliver(maildir, build_mail(sender="stranger@example.com", subject=f"[{case.number}] 不热", text="injected"))
    deliver(maildir, build_mail(subject=f"关于 [{case.number}]", text="师傅什么时候来"))
    run_intake(app)
    cases = _all(app, Case)
    assert len(cases) == 2
    items = _all(app, InboundItem)
    assert items[1].case_id != case.id
    assert items[2].case_id == case.id


def test_auto_reply_gets_no_acknowledgement(heat_app: Callable[..., App], maildir: Path) -> None:
    # Issue 14 item 2: noise that threads onto no case opens none (it used to open one, unacknowledged).
    app = heat_app()
    deliver(
        maildir, build_mail(subject="自动回复：暖气漏水", text="我正在休假", headers={"Auto-Submitted": "auto-replied"})
    )
    deliver(
        maildir,
        build_mail(
            sender="list@example.com",
            subject="暖气漏水周报",
            headers={"Precedence": "bulk", "List-Id": "<news.example.com>"},
        ),
    )
    run_intake(app)
    assert _all(app, Case) == []
    items = _all(app, InboundItem)
    assert [i.status for i in items] == ["noise", "noise"]
    assert items[0].data["noise_reason"] == "Auto-Submitted: auto-replied"
    assert items[1].data["noise_reason"].startswith("Precedence: bulk")
    assert _all(app, OutboxMessage) == []


def test_bounce_marks_the_address_and_tells_the_case_owner(
    heat_app: Callable[..., App], maildir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEFU_LINK", "site-secret")
    app = heat_app(config={"kefu": {"link_secret": "link"}})
    deliver(maildir, build_mail(text="暖气漏水"))
    run_intake(app)
    [case] = _all(app, Case)
    ours = make_message_id(case.number, "site-secret", "kefu.example.com")
    deliver(maildir, build_bounce(recipient="zhang@example.com", original_message_id=ours))
    run_intake(app)
    assert len(_all(app, Case)) == 1
    [customer] = _all(app, Customer)
    assert customer.email_undeliverable
    [bounced] = [e for e in _all(app, CaseEvent) if e.type == "email_bounced"]
    assert bounced.case_id == case.id and "550 5.1.1" in (bounced.reason or "")
    assert "zhang@" not in (bounced.reason or "")  # masked
    # Only the first acknowledgement went to the customer; the case owner (if any) is told.
    assert [o.recipient for o in _all(app, OutboxMessage) if o.audience == "customer"] == ["zhang@example.com"]


def test_unparseable_mail_is_quarantined_and_the_channel_goes_on(heat_app: Callable[..., App], maildir: Path) -> None:
    app = heat_app()
    deliver(maildir, b"\x00\x01 not a mail \xff")
    deliver(maildir, build_mail(text="暖气不热"))
    run_intake(app)
    items = _all(app, InboundItem)
    assert [i.status for i in items] == ["quarantined", "processed"]
    assert "no mail headers" in (items[0].reason or "")
    with transaction(app.sessions) as session:
        assert session.get(InboundRaw, items[0].id).raw == b"\x00\x01 not a mail \xff"


def test_unclaimed_mail_takes_the_inbox_default_kind_or_waits_for_staff(
    heat_app: Callable[..., App], maildir: Path
) -> None:
    app = heat_app()
    deliver(maildir, build_mail(text="请问收费标准"))
    run_intake(app)
    [item] = _all(app, InboundItem)
    assert (item.status, item.case_id) == ("unclaimed", None)
    app2 = heat_app(default_kind="heat.general")
    deliver(maildir, build_mail(text="请问收费标准是多少"))
    run_intake(app2)
    [case] = _all(app2, Case)
    assert case.kind == "heat.general"


def test_a_raising_classifier_is_skipped(heat_app: Callable[..., App], maildir: Path) -> None:
    app = heat_app(broken_first=True)
    deliver(maildir, build_mail(text="暖气漏水"))
    run_intake(app)
    [case] = _all(app, Case)
    assert case.kind == "heat.leak"


def test_five_megabyte_attachment_is_kept_as_evidence(heat_app: Callable[..., App], maildir: Path) -> None:
    app = heat_app()
    photo = bytes(range(256)) * (5 * 1024 * 4)  # 5 MiB
    deliver(maildir, build_mail(text="漏水照片见附件", attachments=[("漏水.jpg", "image/jpeg", photo)]))
    run_intake(app)
    [case] = _all(app, Case)
    [att] = _all(app, Attachment)
    assert (att.filename, att.size, att.case_id) == ("漏水.jpg", len(photo), case.id)
    assert att.content == photo
    # hooks run before the rows are written: the case's data names the files for them
    assert case.data["attachments"] == ["漏水.jpg"]


def test_a_reply_event_names_its_attachments(heat_app: Callable[..., App], maildir: Path) -> None:
    app = heat_app()
    deliver(maildir, build_mail(subject="3号楼暖气漏水", text="楼上跑水了", message_id="<first@example.com>"))
    run_intake(app)
    photo = ("照片.png", "image/png", b"\x89PNG" + b"\x00" * 32)
    deliver(maildir, build_mail(text="补充照片", references=["<first@example.com>"], attachments=[photo]))
    run_intake(app)
    reply = [e for e in _all(app, CaseEvent) if e.type == "customer_reply"]
    assert [e.data["attachments"] for e in reply] == [["照片.png"]]


def test_an_item_that_fails_is_quarantined_and_the_batch_goes_on(
    heat_app: Callable[..., App], maildir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kefu.intake.process as process

    real_open_cases = process.open_cases

    def flaky_open_cases(ctx, new):
        cases = real_open_cases(ctx, new)
        texts = [ctx.db().get(InboundItem, spec.data["item_id"]).text for spec in new]
        if any("boom" in text for text in texts):  # after the cases and customers were written
            raise RuntimeError("database said no")
        return cases

    monkeypatch.setattr(process, "open_cases", flaky_open_cases)
    app = heat_app()
    deliver(maildir, build_mail(text="暖气漏水 1"))
    deliver(maildir, build_mail(text="暖气漏水 boom"))
    deliver(maildir, build_mail(text="暖气漏水 3"))
    assert run_intake(app) == 3
    items = _all(app, InboundItem)
    assert [i.status for i in items] == ["processed", "quarantined", "processed"]
    assert "RuntimeError: database said no" in (items[1].reason or "")
    assert len(_all(app, Case)) == 2


def test_a_missing_maildir_is_created_so_the_embedded_default_needs_no_setup(
    heat_app: Callable[..., App], tmp_path: Path
) -> None:
    fresh = tmp_path / "state" / "Maildir"
    app = heat_app(path=str(fresh))
    assert run_intake(app) == 0
    assert sorted(p.name for p in fresh.iterdir()) == ["cur", "new", "tmp"]
    deliver(fresh, build_mail(subject="暖气不热", text="温度低"))
    assert run_intake(app) == 1


def test_a_missing_maildir_is_an_error_when_creation_is_off(heat_app: Callable[..., App], tmp_path: Path) -> None:
    app = heat_app(path=str(tmp_path / "nowhere"), create=False)
    with pytest.raises(FileNotFoundError, match=r"channels\.maildir\.service.*not a Maildir"):
        from kefu.channels.maildir import poll_maildir

        poll_maildir(app, "service", app.settings.channels.maildir["service"])
