"""The rest of the console: complaints' action, saved views, paging in due order, zh-CN times."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kefu.console.auth import set_password
from kefu.console.render import badge, local_time, skipped_days
from kefu.db.engine import transaction
from kefu.db.models import Case, InboundItem, OutboxMessage, SavedView
from kefu.plugins.complaints import actions
from kefu.sla.cases import open_case
from kefu.sla.deadlines import calendar_of
from kefu.testing.fixtures import merge
from kefu.testing.mail import build_mail, deliver_to_maildir

from .conftest import PASSWORD, Client

TZ = ZoneInfo("Asia/Shanghai")


def test_complaints_contractor_notice_comes_through_the_hook(make_app) -> None:
    from tests.plugins.complaints.conftest import COMPLAINTS, STAFF

    staff = merge(STAFF, {"access": {"eng": {"role": "agent", "plugins": ["complaints"]}}})
    app = make_app(plugins=["complaints"], config={"staff": staff, "complaints": COMPLAINTS})
    with transaction(app.sessions) as s:
        set_password(s, "eng", PASSWORD, app.clock.now())
        ctx = app.context("complaints", s)
        number = open_case(ctx, kind="complaints.repair.plumbing_leak", title="卫生间漏水", actor="customer").number
    for _ in range(4):
        with transaction(app.sessions) as s:
            actions.advance_step(app.context("complaints", s), number)
    c = Client(app)
    c.sign_in("eng")
    page = c.get(f"/case/{number}").text
    assert "发第三方维修通知单" in page and "恒安防水工程有限公司" in page
    done = c.post(f"/case/{number}/plugin/complaints/contractor_notice", {"contractor": "hengan", "due": "5d"})
    assert "ok=" in done.headers["location"], done.headers["location"]
    with app.sessions() as s:
        jobs = list(s.scalars(select(Case).where(Case.kind == "complaints.third_party")))
        events = [e for e in s.scalars(select(Case).where(Case.number == number)).one().events]
    assert len(jobs) == 1
    assert any(e.type == "contractor_assigned" and e.actor == "eng" for e in events)
    bad = c.post(f"/case/{number}/plugin/complaints/contractor_notice", {"contractor": "nobody"})
    assert "err=" in bad.headers["location"]


def test_saved_views_are_per_person(console_app, client) -> None:
    app = console_app()
    kf = client(app, "kf")
    kf.post("/views", {"queue": "due_soon", "name": "一号站", "unit": "S01"})
    with app.sessions() as s:
        (view,) = s.scalars(select(SavedView))
    assert (view.staff_key, view.queue, view.filters) == ("kf", "due_soon", {"unit": "S01"})
    assert "一号站" in kf.get("/queue/mine").text
    assert "一号站" not in client(app, "liu").get("/queue/mine").text
    kf.post(f"/views/{view.id}/delete")
    with app.sessions() as s:
        assert list(s.scalars(select(SavedView))) == []


def test_queues_page_in_due_order(console_app, client, tmp_path, run_pass, clock) -> None:
    app = console_app(config={"console": {"page_size": 5}})
    numbers = []
    for i in range(7):
        deliver_to_maildir(
            tmp_path / "maildir",
            build_mail(
                sender=f"p{i}@example.com", subject="报修 户号：CB-0001", text="暖气漏水", message_id=f"<m{i}@x>"
            ),
        )
        run_pass(app)
        clock.advance(minutes=5)
    with app.sessions() as s:
        numbers = list(s.scalars(select(Case.number).order_by(Case.id)))
    head = client(app, "liu")
    first = head.get("/queue/due_soon").text
    second = head.get("/queue/due_soon?page=2").text
    assert [n for n in numbers if n in first] == numbers[:5]  # the earliest due first
    assert [n for n in numbers if n in second] == numbers[5:]
    assert 'rel="next"' in first and 'rel="next"' not in second
    filtered = head.get("/queue/due_soon", params={"unit": "S02"}).text
    assert not [n for n in numbers if n in filtered]
    clock.advance(hours=5)
    head = client(app, "liu")  # signed in again: five idle hours ended the session
    assert all(n in head.get("/queue/breached?page=1").text + head.get("/queue/breached?page=2").text for n in numbers)


def test_quarantined_items_and_dead_messages_have_their_queues(console_app, client, tmp_path, run_pass) -> None:
    app = console_app()
    deliver_to_maildir(tmp_path / "maildir", build_mail(subject="报修 户号：CB-0001", text="漏水"))
    run_pass(app)
    with transaction(app.sessions) as s:
        case = s.scalars(select(Case)).one()
        s.add(
            InboundItem(
                channel="maildir:repairs",
                source_key="bad-1",
                kind="email",
                received_at=app.clock.now(),
                status="quarantined",
                reason="undecodable: 乱码",
                data={},
            )
        )
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)).first()
        row.state, row.last_error = "dead", "550 mailbox unavailable"
        number = case.number
    head = client(app, "liu")
    assert "undecodable: 乱码" in head.get("/queue/quarantine").text
    failed = head.get("/queue/failed").text
    assert number in failed and "550 mailbox unavailable" in failed
    assert "undecodable" not in client(app, "zhang").get("/queue/quarantine").text  # a station's duty: no triage


def test_the_quarantine_queue_retries_and_sets_items_aside(console_app, client, tmp_path, run_pass) -> None:
    app = console_app()
    deliver_to_maildir(tmp_path / "maildir", b"garbage without headers")
    deliver_to_maildir(tmp_path / "maildir", b"more garbage")
    run_pass(app)
    with app.sessions() as s:
        first, second = s.scalars(select(InboundItem.id).order_by(InboundItem.id)).all()
    head = client(app, "liu")
    page = head.get("/queue/quarantine").text
    assert "重新处理" in page and "no mail headers" in page
    refused = client(app, "zhang").post("/inbound/triage", {"ids": [first], "op": "retry"})
    assert refused.status_code == 403  # a station's duty person does not triage
    no_reason = head.post("/inbound/triage", {"ids": [second], "op": "dismiss", "reason": ""})
    assert "err=" in no_reason.headers["location"]
    assert head.post("/inbound/triage", {"ids": [second], "op": "dismiss", "reason": "垃圾"}).status_code == 303
    assert head.post("/inbound/triage", {"ids": [first], "op": "retry"}).status_code == 303
    with app.sessions() as s:
        assert s.get(InboundItem, first).status == "pending"
        ignored = s.get(InboundItem, second)
        assert ignored.status == "ignored" and ignored.data["triage"][0]["actor"] == "liu"
    run_pass(app)  # processed again: still no mail, so quarantined again with its reason
    with app.sessions() as s:
        assert s.get(InboundItem, first).status == "quarantined"
    listed = head.get("/queue/quarantine").text
    assert f'name="ids" value="{first}"' in listed and f'name="ids" value="{second}"' not in listed


def test_times_in_chinese_with_the_weekday_and_the_holiday_name(console_app) -> None:
    app = console_app()
    cal = calendar_of(app)
    assert local_time(datetime(2026, 11, 2, 1, 0, tzinfo=ZoneInfo("UTC")), TZ, cal) == "11月2日 周一 09:00"
    assert local_time(datetime(2026, 10, 1, 9, 0, tzinfo=TZ), TZ, cal) == "10月1日 周四 09:00（国庆节）"
    skipped = skipped_days(cal, datetime(2026, 9, 30, 9, 0, tzinfo=TZ), datetime(2026, 10, 9, 9, 0, tzinfo=TZ), TZ)
    assert skipped[0] == "10月1日国庆节" and len(skipped) >= 7
    now = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)
    assert badge(now + timedelta(hours=3, minutes=5), now) == ("剩 3小时5分0秒", "ok")
    assert badge(now + timedelta(minutes=30), now) == ("剩 30分0秒", "soon")
    assert badge(now - timedelta(minutes=20), now) == ("超时 20分0秒", "late")


def test_a_letter_is_printed_previewed_and_its_ems_number_recorded(console_app, client, tmp_path, run_pass) -> None:
    from kefu.db.models import Letter

    app = console_app()
    deliver_to_maildir(tmp_path / "maildir", build_mail(subject="报修 户号：CB-0001", text="暖气漏水"))
    run_pass(app)
    with app.sessions() as s:
        number = s.scalars(select(Case.number)).one()
    kf = client(app, "kf")
    queued = kf.post(f"/case/{number}/do/letter", {"text": "经查，漏水系阀门老化所致。\n已于今日更换。"})
    assert "ok=" in queued.headers["location"], queued.headers["location"]
    run_pass(app)  # the dispatcher renders the PDF and archives it with the case
    with app.sessions() as s:
        letter = s.scalars(select(Letter)).one()
    page = kf.get(f"/case/{number}").text
    assert "书面答复" in page and f"/letter/{letter.id}.pdf" in page
    pdf = kf.get(f"/case/{number}/letter/{letter.id}.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    kf.post(f"/case/{number}/do/ems", {"letter": str(letter.id), "ems": "EA123456789CN"})
    with app.sessions() as s:
        assert s.get(Letter, letter.id).ems_number == "EA123456789CN"
    assert "EA123456789CN" in kf.get(f"/case/{number}").text
