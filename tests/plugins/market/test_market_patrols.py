"""Fire-safety patrols: windows, check-ins by SMS (signed Twilio webhook), the patrol app, patrol-stick
files; a missed point alerts the duty deputy then the security manager; countersigned or reminded."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kefu.api import imports as pipeline
from kefu.app import App
from kefu.db.models import Case
from kefu.http.server import HttpServer
from kefu.plugins.market import imports, patrols, windows
from kefu.plugins.market.cli import market
from kefu.plugins.market.config import PatrolWindowsConfig
from kefu.plugins.market.models import PatrolCheckin, PatrolRound
from kefu.testing.files import write_csv
from kefu.testing.twilio_api import incoming_sms

from .conftest import in_tx, outbox

TZ = ZoneInfo("Asia/Shanghai")
TWILIO = "twilio-auth-token-for-market-tests"
APP_TOKEN = "patrol-app-token-for-market-tests"
PATROLS = {
    "points": {"3F": "三楼消防通道", "3F-B": "三楼配电间", "1F": "一楼大门"},
    "routes": {"三楼": ["3F", "3F-B"]},
}


def _at(hhmm: str, day: str = "2026-11-03") -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}:00+08:00")


@pytest.fixture
def app(market_app):
    return market_app(market={"patrols": PATROLS})


def _rounds(app: App, route: str | None = "三楼") -> list[PatrolRound]:
    with app.sessions() as s:
        query = select(PatrolRound).order_by(PatrolRound.starts_at)
        rows = list(s.scalars(query if route is None else query.where(PatrolRound.route == route)))
        s.expunge_all()
        return rows


def test_windows_every_2h_in_business_hours_plus_opening_noon_closing_and_two_night_rounds() -> None:
    day = windows.windows_of(date(2026, 11, 3), PatrolWindowsConfig(), TZ)
    assert [(w.label, f"{w.starts_at:%H:%M}") for w in day] == [
        ("night", "02:00"),
        ("opening", "08:30"),
        ("regular", "10:30"),
        ("noon", "12:00"),
        ("regular", "12:30"),
        ("regular", "14:30"),
        ("regular", "16:30"),
        ("closing", "17:30"),
        ("night", "22:00"),
    ]
    assert all(w.ends_at - w.starts_at == PatrolWindowsConfig().window for w in day)
    custom = windows.windows_of(
        date(2026, 11, 3), PatrolWindowsConfig(every="1h", night=[time(23), time(1), time(3)]), TZ
    )
    assert sum(w.label == "night" for w in custom) == 3 and sum(w.label == "regular" for w in custom) == 8


def test_sms_reports_parse_into_point_status_and_problem() -> None:
    assert patrols.parse_report("巡查 3F") == patrols.Report("3F", "", "")
    assert patrols.parse_report("巡查 3f 正常") == patrols.Report("3F", "正常", "")
    assert patrols.parse_report("巡查 3F 隐患 消防通道堆货") == patrols.Report("3F", "隐患", "消防通道堆货")
    assert patrols.parse_report("巡查3F，隐患，消防通道堆货") == patrols.Report("3F", "隐患", "消防通道堆货")
    assert patrols.parse_report("3F 一切正常") is None


def test_missed_point_alerts_the_duty_deputy_then_the_security_manager(app, clock, run_pass) -> None:
    clock.set(_at("10:31"))
    run_pass(app)  # the daemon is running before the window closes
    in_tx(app, lambda ctx: patrols.check_in(ctx, "3F", _at("10:40"), "guard"))
    clock.set(_at("11:30:30"))
    run_pass(app)
    rnd = next(r for r in _rounds(app) if r.starts_at == _at("10:30"))
    assert rnd.missed == ["3F-B"] and rnd.persons == ["guard"] and rnd.case_id is not None
    told = [m.recipient for m in outbox(app, audience="staff") if "/deputy/" not in m.idem_key]
    assert "+8613800000113" in told and "dep@market.test" in told and "sec@market.test" not in told
    clock.advance(hours=1, minutes=1)
    run_pass(app)  # nobody took the 漏巡 up within 1 h: the security manager hears of it
    assert "sec@market.test" in [m.recipient for m in outbox(app, audience="staff") if "/deputy/" not in m.idem_key]
    run_pass(app)
    assert len([r for r in _rounds(app) if r.starts_at == _at("10:30")]) == 1


def test_a_round_with_every_point_checked_raises_no_alert(app, clock, run_pass) -> None:
    clock.set(_at("10:31"))
    run_pass(app)
    # the duty deputy manager walks this round himself, so his hours are covered too
    in_tx(app, lambda ctx: [patrols.check_in(ctx, p, _at("10:45"), "dep") for p in ("3F", "3F-B")])
    clock.set(_at("11:30:30"))
    run_pass(app)
    (rnd,) = [r for r in _rounds(app) if r.starts_at == _at("10:30")]
    assert (
        rnd.missed == []
        and rnd.case_id is None
        and not [m for m in outbox(app, audience="staff") if "/log/" not in m.idem_key]
    )


def test_duty_deputy_manager_must_check_in_every_hour_or_security_hears(app, clock, run_pass) -> None:
    clock.set(_at("08:31"))
    run_pass(app)
    in_tx(app, lambda ctx: patrols.check_in(ctx, "1F", _at("08:50"), "dep"))
    in_tx(app, lambda ctx: patrols.check_in(ctx, "1F", _at("09:50"), "guard"))  # not the deputy
    clock.set(_at("10:31"))
    run_pass(app)
    hours = {f"{r.starts_at.astimezone(TZ):%H:%M}": r.missed for r in _rounds(app, "deputy")}
    assert hours == {"08:30": [], "09:30": ["带队副经理巡场"]}
    alerts = [m for m in outbox(app, audience="staff") if "/deputy/" in m.idem_key]
    assert {m.recipient for m in alerts} == {"+8613800000112", "sec@market.test"}
    run_pass(app)
    assert len([m for m in outbox(app, audience="staff") if "/deputy/" in m.idem_key]) == 2


def test_closing_round_must_record_power_off_and_no_fire_source(app, clock) -> None:
    clock.set(_at("17:31"))
    in_tx(
        app,
        lambda ctx: patrols.check_in(ctx, "3F", _at("17:40"), "guard", status="正常", problem="已断电 无火源"),
    )
    in_tx(
        app,
        lambda ctx: patrols.check_in(ctx, "3F-B", _at("17:45"), "guard", status="正常", problem="已断电"),
    )
    clock.set(_at("18:31"))
    (rnd,) = in_tx(
        app,
        lambda ctx: [(r.label, r.missed, r.data) for r in patrols.evaluate(ctx, _at("18:00"), _at("18:31"))],
    )
    assert rnd == ("closing", ["闭店检查未记录无火源"], {"断电": True, "无火源": False})


def test_countersigned_record_is_not_reminded_an_unsigned_one_is(app, clock, run_pass) -> None:
    clock.set(_at("08:31"))
    run_pass(app)
    in_tx(
        app,
        lambda ctx: [
            patrols.check_in(ctx, p, _at(t), "guard")
            for p, t in (("3F", "08:40"), ("3F-B", "08:50"), ("3F", "10:40"), ("3F-B", "10:50"))
        ],
    )
    clock.set(_at("11:30:30"))
    run_pass(app)
    first, second = (r.id for r in _rounds(app) if r.starts_at in (_at("08:30"), _at("10:30")))
    result = CliRunner().invoke(market, ["patrol", "sign", str(first), "--by", "sec"], obj={"app": app})
    assert result.exit_code == 0, result.output
    clock.set(_at("00:05:30", day="2026-11-04"))  # 12 h after the 10:30 window closed
    run_pass(app)
    reminders = [m for m in outbox(app, recipient="sec@market.test") if "/unsigned/" in m.idem_key]
    assert [m.idem_key.split("/")[2] for m in reminders] == [str(second)]
    clock.advance(hours=1)
    run_pass(app)
    again = [m for m in outbox(app, recipient="sec@market.test") if f"/patrol/{second}/unsigned/" in m.idem_key]
    assert len(again) == 1


def test_patrol_stick_export_is_imported_once_with_bad_rows_by_line(app, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "stick.csv",
        ["点位号", "人员卡号", "巡查时间"],
        [
            ["3F", "C001", "2026-11-03 10:40"],
            ["3F-B", "C001", "2026/11/3 10:52:10"],
            ["9F", "C001", "2026-11-03 10:55"],
        ],
        encoding="gb18030",
    )
    report = in_tx(app, lambda ctx: pipeline.run(ctx, imports.PatrolImport(ctx), path))
    assert report.created == 2 and [b.where.row for b in report.bad] == [4]
    assert in_tx(app, lambda ctx: pipeline.run(ctx, imports.PatrolImport(ctx), path)).unchanged == 2
    with app.sessions() as s:
        assert {c.source for c in s.scalars(select(PatrolCheckin))} == {"stick"}


@pytest.fixture
def served(market_app, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], tuple[App, str]]]:
    monkeypatch.setenv("KEFU_TWILIO_TOKEN", TWILIO)
    monkeypatch.setenv("KEFU_PATROL_TOKEN", APP_TOKEN)
    servers: list[HttpServer] = []

    def build() -> tuple[App, str]:
        app = market_app(
            market={"patrols": {**PATROLS, "token_secret": "patrol_token"}},
            config={
                "twilio": {
                    "enabled": True,
                    "account_sid": "AC" + "0" * 32,
                    "auth_token_secret": "twilio_token",
                },
                "channels": {"sms": {"enabled": True}},
            },
        )
        server = HttpServer(app)
        server.start()
        servers.append(server)
        return app, f"http://127.0.0.1:{server.port}"

    yield build
    for server in servers:
        server.stop()


def test_sms_checkin_through_the_twilio_webhook_records_the_point_and_a_hazard_opens_a_case(
    served, clock, run_pass
) -> None:
    app, base = served()
    clock.set(_at("10:35"))
    assert incoming_sms(base, TWILIO, "SM1", "+8613800000120", "巡查 3F 正常") == 200
    assert incoming_sms(base, TWILIO, "SM2", "+8613800000120", "巡查 3F-B 隐患 消防通道堆货") == 200
    run_pass(app)
    with app.sessions() as s:
        rows = [
            (c.point, c.person, c.status, c.problem)
            for c in s.scalars(select(PatrolCheckin).order_by(PatrolCheckin.id))
        ]
        states = sorted(c.state for c in s.scalars(select(Case).where(Case.kind == "market.patrol_report")))
        hazard = s.scalars(select(Case).where(Case.kind == "market.hazard")).one()
    assert rows == [("3F", "guard", "正常", ""), ("3F-B", "guard", "隐患", "消防通道堆货")]
    # both reports are recorded and closed; the hazard goes on as its own rectification case
    assert states == ["closed", "closed"]
    assert hazard.step == "整改" and hazard.data["problem"] == "消防通道堆货" and hazard.state in ("new", "assigned")


def _post(base: str, body: Any, token: str | None) -> tuple[int, Any]:
    req = urllib.request.Request(
        f"{base}/market/patrol/checkins",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_patrol_app_posts_checkins_with_its_bearer_token(served) -> None:
    app, base = served()
    one = {"point": "3F", "person": "C001", "at": "2026-11-03T10:40:00"}
    assert _post(base, one, None)[0] == 401 and _post(base, one, "wrong")[0] == 401
    assert _post(
        base,
        {
            "checkins": [
                one,
                {
                    "point": "3F-B",
                    "person": "C001",
                    "at": "2026-11-03T10:45:00+08:00",
                    "status": "隐患",
                    "problem": "灭火器过期",
                },
            ]
        },
        APP_TOKEN,
    ) == (200, {"recorded": 2, "duplicates": 0})
    assert _post(base, one, APP_TOKEN) == (200, {"recorded": 0, "duplicates": 1})
    assert _post(base, {"point": "9F", "person": "C001", "at": "2026-11-03T10:40:00"}, APP_TOKEN)[0] == 400
    with app.sessions() as s:
        first = s.scalars(select(PatrolCheckin).order_by(PatrolCheckin.id)).first()
        assert first is not None and first.at == _at("10:40")


def test_mail_checkin_from_a_maildir_is_recorded_for_the_staff_member(
    market_app, clock, run_pass, tmp_path: Path
) -> None:
    from kefu.testing.mail import build_mail, deliver_to_maildir

    box = tmp_path / "patrol-mail"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    app = market_app(
        market={"patrols": PATROLS},
        config={"channels": {"maildir": {"patrol": {"path": str(box)}}}},
    )
    clock.set(_at("10:35"))
    deliver_to_maildir(box, build_mail(sender="dep@market.test", subject="巡查 3F-B 正常", text="无异常"))
    run_pass(app)
    with app.sessions() as s:
        rows = [(c.point, c.person, c.status, c.source) for c in s.scalars(select(PatrolCheckin))]
    assert rows == [("3F-B", "dep", "正常", "email")]
