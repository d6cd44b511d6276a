"""Working cases in the console: scopes, the queues, every action as a case event, search, bulk, dashboard."""

from __future__ import annotations

import json

from sqlalchemy import select

from kefu.db.models import Case, OutboxMessage
from kefu.testing.mail import build_mail, deliver_to_maildir


def _mail(app, tmp_path, run_pass, account: str, text: str, sender: str = "zhang@example.com") -> str:
    deliver_to_maildir(tmp_path / "maildir", build_mail(sender=sender, subject=f"报修 户号：{account}", text=text))
    run_pass(app)
    with app.sessions() as s:
        return s.scalars(select(Case.number).order_by(Case.id.desc())).first()


def _case(app, number: str) -> Case:
    with app.sessions() as s:
        case = s.scalars(select(Case).where(Case.number == number)).one()
        case.events  # noqa: B018
        s.expunge_all()
        return case


def test_a_station_sees_its_own_cases_and_gets_403_for_another_stations(
    console_app, client, tmp_path, run_pass
) -> None:
    app = console_app()
    s01 = _mail(app, tmp_path, run_pass, "CB-0001", "3号楼暖气片漏水")
    s02 = _mail(app, tmp_path, run_pass, "CN-0001", "5号楼暖气管漏水", sender="wang@example.com")
    assert (_case(app, s01).unit, _case(app, s02).unit) == ("S01", "S02")
    zhang = client(app, "zhang")
    listed = zhang.get("/queue/due_soon").text
    assert s01 in listed and s02 not in listed
    assert zhang.get(f"/case/{s01}").status_code == 200
    refused = zhang.get(f"/case/{s02}")
    assert refused.status_code == 403 and "不在您的负责范围内" in refused.text
    assert zhang.post(f"/case/{s02}/do/note", {"text": "x"}).status_code == 403
    assert s02 not in zhang.get("/search", params={"q": "漏水"}).text
    # Duty staff see the customer's number masked; the head sees both stations, unmasked.
    assert "+8613900000001" not in listed and "+86139****0001" in listed
    head = client(app, "liu").get("/queue/due_soon").text
    assert s01 in head and s02 in head and "+8613900000001" in head


def test_reply_resolve_and_an_unsatisfied_callback_reopen(console_app, client, tmp_path, run_pass) -> None:
    app = console_app()
    number = _mail(app, tmp_path, run_pass, "CB-0001", "3号楼暖气片漏水")
    kf = client(app, "kf")
    sent = kf.post(f"/case/{number}/do/reply", {"template": "core/reply_visit.txt", "channel": "email", "text": ""})
    assert sent.status_code == 303 and "ok=" in sent.headers["location"], sent.headers["location"]
    with app.sessions() as s:
        (row,) = s.scalars(select(OutboxMessage).where(OutboxMessage.idem_key.like(f"{number}/staff_reply/%")))
    assert row.recipient == "zhang@example.com" and f"[{number}]" in row.subject and "上门" in row.body
    run_pass(app)
    spooled = (tmp_path / "spool").rglob("*")
    assert any(number in p.read_text(errors="replace") for p in spooled if p.is_file())
    assert kf.post(f"/case/{number}/do/resolve", {"reason": "已更换阀门"}).status_code == 303
    assert _case(app, number).state in ("resolved", "callback")  # heating asks for the callback at once
    assert kf.post(f"/case/{number}/do/callback", {"answer": "unsatisfied"}).status_code == 303
    case = _case(app, number)
    assert case.state == "assigned" and case.satisfaction == 2
    assert [(e.type, e.actor) for e in case.events if e.actor == "kf"] == [
        ("staff_reply", "kf"),
        ("resolved", "kf"),
        ("callback_answered", "kf"),
        ("reopened", "kf"),
    ]
    page = kf.get(f"/case/{number}").text
    assert "回复客户" in page and "回访结果" in page and "重新打开" in page


def test_a_refused_move_writes_nothing_and_says_why(console_app, client, tmp_path, run_pass) -> None:
    app = console_app()
    number = _mail(app, tmp_path, run_pass, "CB-0001", "3号楼暖气片漏水")
    kf = client(app, "kf")
    before = len(_case(app, number).events)
    response = kf.post(f"/case/{number}/do/callback", {"answer": "satisfied"})
    assert "err=" in response.headers["location"]
    assert len(_case(app, number).events) == before


def test_pause_resume_assign_note_and_evidence(console_app, client, tmp_path, run_pass) -> None:
    app = console_app()
    number = _mail(app, tmp_path, run_pass, "CB-0001", "3号楼暖气片漏水")
    kf = client(app, "kf")
    assert kf.post(f"/case/{number}/do/pause", {"reason": "等待客户在家"}).status_code == 303
    assert _case(app, number).state == "waiting_customer"
    assert number in kf.get("/queue/paused").text
    kf.post(f"/case/{number}/do/resume", {})
    kf.post(f"/case/{number}/do/assign", {"owner": "li"})
    kf.post(f"/case/{number}/do/note", {"text": "客户要求下午上门"})
    photo = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    up = kf.http.post(
        f"/case/{number}/do/evidence",
        data={"csrf": kf.csrf, "text": "现场照片"},
        files={"file": ("现场.png", photo, "image/png")},
        headers={"origin": "http://testserver"},
    )
    assert up.status_code == 303 and "ok=" in up.headers["location"], up.headers["location"]
    case = _case(app, number)
    assert case.owner == "li"
    assert [e.type for e in case.events if e.actor == "kf"] == [
        "paused",
        "resumed",
        "assigned",
        "note",
        "evidence_added",
    ]
    page = kf.get(f"/case/{number}").text
    assert "现场.png" in page and "客户要求下午上门" in page
    image = kf.get(page.split('src="/case/')[1].split('"')[0].join(["/case/", ""]))
    assert image.status_code == 200 and image.content == photo


def test_heatings_outage_actions_come_through_the_hook(console_app, client, tmp_path, run_pass) -> None:
    app = console_app()
    kf = client(app, "kf")
    assert "停缓供开始" in kf.get("/plugin/heating").text
    started = kf.post("/plugin/heating/outage_start", {"stations": "S01", "cause": "设备故障", "note": "换热器故障"})
    assert "ok=" in started.headers["location"], started.headers["location"]
    with app.sessions() as s:
        outage = s.scalars(select(Case).where(Case.kind == "heating.outage")).one()
    page = kf.get(f"/case/{outage.number}").text
    assert "恢复供热" in page
    ended = kf.post(f"/case/{outage.number}/plugin/heating/outage_end", {"note": "已修复"})
    assert "ok=" in ended.headers["location"], ended.headers["location"]
    case = _case(app, outage.number)
    assert case.state == "closed" and {e.actor for e in case.events} >= {"kf"}
    # Duty staff may not start an outage (the action's roles).
    assert client(app, "zhang").post("/plugin/heating/outage_start", {"cause": "停电"}).status_code == 403


def test_search_by_number_phone_in_any_format_name_and_two_characters(console_app, client, tmp_path, run_pass) -> None:
    app = console_app()
    number = _mail(app, tmp_path, run_pass, "CB-0001", "3号楼暖气片漏水")
    other = _mail(app, tmp_path, run_pass, "CB-0002", "暖气不热", sender="li@example.com")
    kf = client(app, "kf")
    for q in (number, "+86 139 0000 0001", "139-0000-0001", "13900000001", "漏水", "张先生"):
        found = kf.get("/search", params={"q": q}).text
        assert number in found, q
        assert other not in found, q
    assert kf.get("/search", params={"q": number, "go": "1"}).headers["location"] == f"/case/{number}"


def test_bulk_reply_says_how_many_messages_before_it_queues_them(console_app, client, tmp_path, run_pass) -> None:
    app = console_app()
    a = _mail(app, tmp_path, run_pass, "CB-0001", "3号楼暖气片漏水")
    b = _mail(app, tmp_path, run_pass, "CB-0002", "暖气漏水了", sender="li@example.com")
    kf = client(app, "kf")
    form = {"numbers": [a, b], "op": "reply", "template": "core/reply_received.txt", "channel": "email"}
    confirm = kf.post("/bulk", form)
    assert confirm.status_code == 200 and "排队 <strong>2</strong> 条消息" in confirm.text
    with app.sessions() as s:
        assert not list(s.scalars(select(OutboxMessage).where(OutboxMessage.idem_key.like("%/staff_reply/%"))))
    done = kf.post("/bulk", {**form, "confirm": "1"})
    assert "已处理 2 件" in done.headers["location"].encode().decode() or "2" in done.headers["location"]
    with app.sessions() as s:
        assert len(list(s.scalars(select(OutboxMessage).where(OutboxMessage.idem_key.like("%/staff_reply/%"))))) == 2
    assert client(app, "zhang").post("/bulk", {**form, "confirm": "1"}).status_code == 303  # refused: duty staff


def test_dashboard_shows_the_kpis_kefu_report_prints(console_app, client, tmp_path, run_pass, clock) -> None:
    from click.testing import CliRunner

    from kefu.cli.main import cli
    from kefu.testing.daemons import write_config

    from .test_console_auth import app_raw

    app = console_app()
    number = _mail(app, tmp_path, run_pass, "CB-0001", "3号楼暖气片漏水")
    kf = client(app, "kf")
    kf.post(f"/case/{number}/do/resolve", {})
    kf.post(f"/case/{number}/do/callback", {"answer": "satisfied"})
    head = client(app, "liu")
    page = head.get("/dashboard").text
    assert "报事关闭率" in page and "维修满意度" in page and 'id="health"' in page
    config = write_config(tmp_path / "kefu.toml", app_raw(app, tmp_path))
    report = CliRunner().invoke(cli, ["--config", str(config), "report", "--json"], obj={"clock": clock})
    rows = json.loads(report.output)["rows"]
    heating = next(r for r in rows if r["by"] == "plugin")
    assert f"<td>{heating['closure_rate'] * 100:.1f}%</td>" in page
    svg = head.get("/dashboard/chart/closure_rate.svg", params={"by": "plugin"})
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<rect" in svg.text
    assert 'id="health"' not in client(app, "zhang").get("/dashboard").text  # heads and admins only


def test_heatings_phone_callback_list_is_a_console_page_in_scope(
    console_app, client, tmp_path, run_pass, clock
) -> None:
    app = console_app()
    s01 = _mail(app, tmp_path, run_pass, "CB-0001", "3号楼暖气片漏水")
    s02 = _mail(app, tmp_path, run_pass, "CN-0001", "5号楼暖气管漏水", sender="wang@example.com")
    kf = client(app, "kf")
    for number in (s01, s02):
        kf.post(f"/case/{number}/do/resolve", {"reason": "已修复"})
    clock.advance(hours=49)  # no answer to the callback SMS: both go on the phone list
    run_pass(app)
    kf = client(app, "kf")
    listed = kf.get("/plugin/heating").text
    assert "回访电话表" in listed and s01 in listed and s02 in listed
    assert s02 not in client(app, "zhang").get("/plugin/heating").text  # another station's row is left out
    # Answered on the phone and recorded on the case page: off the list, and the case closes.
    kf.post(f"/case/{s01}/do/callback", {"answer": "satisfied"})
    assert s01 not in kf.get("/plugin/heating").text.split("回访电话表")[1].split("</table>")[0]
    assert _case(app, s01).state == "closed"


def test_a_reply_or_letter_form_posted_twice_queues_once(console_app, client, tmp_path, run_pass) -> None:
    import re

    app = console_app()
    number = _mail(app, tmp_path, run_pass, "CB-0001", "3号楼暖气片漏水")
    kf = client(app, "kf")
    page = kf.get(f"/case/{number}").text
    (once,) = set(re.findall(r'name="once" value="([^"]+)"', page))
    form = {"template": "core/reply_visit.txt", "channel": "email", "text": "", "once": once}
    first, again = kf.post(f"/case/{number}/do/reply", form), kf.post(f"/case/{number}/do/reply", form)
    assert first.status_code == again.status_code == 303
    assert "%E6%9C%AA%E9%87%8D%E5%A4%8D" in again.headers["location"]  # 未重复发送
    with app.sessions() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.idem_key.like(f"{number}/staff_reply/%"))))
    assert len(rows) == 1
    assert [e.type for e in _case(app, number).events].count("staff_reply") == 1
    # A new page is a new form: the person meant to reply again.
    fresh = re.findall(r'name="once" value="([^"]+)"', kf.get(f"/case/{number}").text)[0]
    assert kf.post(f"/case/{number}/do/reply", {**form, "once": fresh}).status_code == 303
    with app.sessions() as s:
        assert (
            len(list(s.scalars(select(OutboxMessage).where(OutboxMessage.idem_key.like(f"{number}/staff_reply/%")))))
            == 2
        )


def test_a_confirmed_bulk_reply_posted_twice_queues_once(console_app, client, tmp_path, run_pass) -> None:
    import re

    app = console_app()
    a = _mail(app, tmp_path, run_pass, "CB-0001", "3号楼暖气片漏水")
    b = _mail(app, tmp_path, run_pass, "CB-0002", "暖气漏水了", sender="li@example.com")
    kf = client(app, "kf")
    form = {"numbers": [a, b], "op": "reply", "template": "core/reply_received.txt", "channel": "email"}
    confirm = kf.post("/bulk", form).text
    (once,) = re.findall(r'name="once" value="([^"]+)"', confirm)
    for _ in range(2):
        assert kf.post("/bulk", {**form, "confirm": "1", "once": once}).status_code == 303
    with app.sessions() as s:
        assert len(list(s.scalars(select(OutboxMessage).where(OutboxMessage.idem_key.like("%/staff_reply/%"))))) == 2
