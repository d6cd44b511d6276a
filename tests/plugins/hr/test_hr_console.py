"""The hr plugin in the staff console: real POSTs with the session's CSRF token from signed-in people.

Employees and managers sign in with the ``self`` role (no case, their own records on the
hr page), HR as an agent, the sheet's approver as a head of hr.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette suggests httpx2 for its TestClient
    from starlette.testclient import TestClient

from kefu.app import App
from kefu.console.auth import set_password
from kefu.console.web import build_console
from kefu.db.engine import transaction
from kefu.db.models import Case
from kefu.plugins.hr.models import Amendment, Leave, Sheet

from .conftest import DEDUCT, DEMO, at, cli
from .test_hr_fixture import load_month

PASSWORD = "correct horse battery"
ORIGIN = "http://testserver"
ACCESS = {
    "E01": {"role": "self", "plugins": ["hr"]},  # the department's manager
    "E02": {"role": "self", "plugins": ["hr"]},
    "E03": {"role": "self", "plugins": ["hr"]},
    "hrx": {"role": "agent", "plugins": ["hr"]},  # HR ([hr] hr_reviewer = "hr" names hrx)
    "boss": {"role": "head", "plugins": ["hr"]},  # the sheet's approver, E01's superior
}
CONSOLE = {"console": {"enabled": True, "port": 0}, "staff": {"access": ACCESS}}


class Client:
    """A TestClient signed in as one person, sending the console's Origin and CSRF token."""

    def __init__(self, app: App, key: str) -> None:
        self.http = TestClient(build_console(app), base_url=ORIGIN, follow_redirects=False)
        self.http.get("/login")
        pre = self.http.cookies.get("kefu_pre")
        signed = self.http.post(
            "/login", data={"username": key, "password": PASSWORD, "csrf": pre}, headers={"origin": ORIGIN}
        )
        assert signed.status_code == 303, signed.text
        found = re.search(r'data-csrf="([^"]+)"', self.http.get("/account").text)
        assert found
        self.csrf = found.group(1)

    def post(self, path: str, data: dict[str, str]) -> Any:
        return self.http.post(path, data={"csrf": self.csrf, **data}, headers={"origin": ORIGIN})

    def act(self, action: str, **data: str) -> tuple[str, str]:
        """POST an hr page action: ("ok"|"err", the line the page shows); 403 fails the test."""
        response = self.post(f"/plugin/hr/{action}", data)
        assert response.status_code == 303, (response.status_code, response.text[:300])
        query = parse_qs(urlsplit(response.headers["location"]).query)
        return ("ok", query["ok"][0]) if "ok" in query else ("err", query.get("err", [""])[0])

    def table(self, title: str) -> str:
        """The HTML of one table of the hr page."""
        page = self.http.get("/plugin/hr")
        assert page.status_code == 200
        return page.text.split(f"<h2>{title}</h2>", 1)[1].split("</table>", 1)[0]


@pytest.fixture
def signed_in() -> Iterator[Callable[[App, str], Client]]:
    made: list[Client] = []

    def sign_in(app: App, key: str) -> Client:
        c = Client(app, key)
        made.append(c)
        return c

    yield sign_in
    for c in made:
        c.http.close()


def _passwords(app: App) -> None:
    with transaction(app.sessions) as session:
        for key in ACCESS:
            set_password(session, key, PASSWORD, app.clock.now())


@pytest.fixture
def register_only(hr_app: Callable[..., App], clock: Any) -> App:
    """The demo register on 2026-09-01, before the month's punches."""
    app = hr_app(config=CONSOLE)
    clock.set(at("2026-09-01 07:00"))
    assert cli(app, "import", "employees", str(DEMO / "employees.csv")).exit_code == 0
    _passwords(app)
    return app


def _leave(app: App, employee: str) -> Leave:
    with app.sessions() as s:
        return s.scalars(select(Leave).where(Leave.employee == employee).order_by(Leave.id.desc())).first()


def test_employee_files_leave_and_only_the_manager_or_superior_decides(register_only: App, signed_in: Any) -> None:
    app = register_only
    e03, e02, e01, boss = (signed_in(app, k) for k in ("E03", "E02", "E01", "boss"))
    assert "提交请假申请" in e03.http.get("/plugin/hr").text
    assert e03.act("leave_request", kind="sick", start="2026-09-02", phoned_at="2026-09-02T08:40")[0] == "ok"
    row = _leave(app, "E03")
    assert (row.kind, row.via, row.approver, row.state) == ("sick", "console", "E01", "requested")
    assert row.phoned_at is not None and row.certificate_due is not None
    assert str(row.id) in e03.table("我的请假")
    # Neither the employee nor a colleague may decide it, and it is not on their list.
    for person in (e03, e02):
        verdict, line = person.act("leave_approve", leave_id=str(row.id))
        assert verdict == "err" and "E01" in line
        assert "客服03" not in person.table("待我审批的请假")
    assert _leave(app, "E03").state == "requested"
    assert "客服03" in e01.table("待我审批的请假")
    assert e01.act("leave_approve", leave_id=str(row.id))[0] == "ok"
    done = _leave(app, "E03")
    assert (done.state, done.decided_by) == ("approved", "E01")
    with app.sessions() as s:
        case = s.get(Case, done.case_id)
        assert case is not None and "E01" in {e.actor for e in case.events}
    # A refusal needs its reason; it is told to the employee.
    e03.act("leave_request", kind="personal", start="2026-09-07")
    second = _leave(app, "E03")
    assert e01.act("leave_refuse", leave_id=str(second.id))[0] == "err"
    assert e01.act("leave_refuse", leave_id=str(second.id), reason="月底人手不足")[0] == "ok"
    assert _leave(app, "E03").state == "refused"
    # A manager's own leave goes to the superior: the manager cannot approve it.
    e01.act("leave_request", kind="personal", start="2026-09-08")
    own = _leave(app, "E01")
    assert own.approver == "boss"
    assert e01.act("leave_approve", leave_id=str(own.id))[0] == "err"
    assert "客服01" in boss.table("待我审批的请假")
    assert boss.act("leave_approve", leave_id=str(own.id))[0] == "ok"
    assert _leave(app, "E01").state == "approved"


def test_only_hr_records_the_certificate_brought_back(register_only: App, signed_in: Any) -> None:
    app = register_only
    e03, e01, hrx, boss = (signed_in(app, k) for k in ("E03", "E01", "hrx", "boss"))
    e03.act("leave_request", kind="sick", start="2026-09-02", phoned_at="2026-09-02T08:30")
    row = _leave(app, "E03")
    e01.act("leave_approve", leave_id=str(row.id))
    # The form is not on an employee's or manager's page, and posting it anyway is refused.
    assert "登记病假证明" not in e03.http.get("/plugin/hr").text
    for person in (e03, e01):
        assert person.post("/plugin/hr/leave_certificate", {"leave_id": str(row.id)}).status_code == 403
    assert boss.act("leave_certificate", leave_id=str(row.id))[0] == "err"  # a head, not HR
    assert str(row.id) in hrx.table("待交病假证明")
    assert hrx.act("leave_certificate", leave_id=str(row.id))[0] == "ok"
    assert _leave(app, "E03").certificate_at is not None
    assert "客服03" not in hrx.table("待交病假证明")


@pytest.fixture
def month(hr_app: Callable[..., App], clock: Any) -> App:
    """September 2026 loaded and computed (deduct, so E28 is under the minimum wage)."""
    app = hr_app(hr=DEDUCT, config=CONSOLE)
    load_month(app, clock)
    _passwords(app)
    return app


def test_attendance_is_shown_to_the_employee_their_manager_and_hr_only(month: App, signed_in: Any) -> None:
    e03, e02, e01, hrx = (signed_in(month, k) for k in ("E03", "E02", "E01", "hrx"))
    mine = e03.table("我的本月考勤")
    assert "2026-09-01" in mine and "2026-09-30" in mine
    # E13's absence and E08's late day are theirs, their manager's and HR's business only.
    for person in (e03, e02):
        text = person.http.get("/plugin/hr").text
        assert "客服13" not in text and "客服08" not in text
        assert "无" in person.table("本部门本月考勤异常") and "无" in person.table("奖罚评分表（最近一月）")
    for person in (e01, hrx):
        department = person.table("本部门本月考勤异常")
        assert "客服13（E13）" in department and "旷工" in department and "客服08（E08）" in department
    # No hr case opens for an employee (a colleague's open leave request), and none is listed.
    with month.sessions() as s:
        other = s.get(Case, s.scalars(select(Leave).where(Leave.employee == "E22")).one().case_id)
        assert other is not None
    assert e03.http.get(f"/case/{other.number}").status_code == 403
    for path in ("/queue/unassigned", "/search?q=客服22"):
        assert other.number not in e03.http.get(path).text, path
        assert other.number in hrx.http.get(path).text, path
    assert hrx.http.get(f"/case/{other.number}").status_code == 200


def test_sheet_with_breaches_needs_confirmation_and_once_approved_is_only_amended(month: App, signed_in: Any) -> None:
    e01, hrx, boss, e03 = (signed_in(month, k) for k in ("E01", "hrx", "boss", "E03"))
    assert hrx.act("sheet_build", period="2026-09") == ("ok", "2026-09 奖罚评分表已重算：40 人，1 人低于最低工资")
    assert hrx.act("sheet_send", period="2026-09")[0] == "ok"
    summary = boss.table("奖罚评分表（最近一月）")
    assert re.search(r"客服28（E28）.*?⚠ 是", summary, re.S)
    # Only the approver, and not while someone is under the minimum wage unless confirmed.
    assert e01.post("/plugin/hr/sheet_approve", {"period": "2026-09"}).status_code == 403
    assert hrx.act("sheet_approve", period="2026-09", accept_breaches="yes", confirmed="1")[0] == "err"
    verdict, line = boss.act("sheet_approve", period="2026-09", confirmed="1")
    assert verdict == "err" and "E28" in line and "minimum wage" in line
    with month.sessions() as s:
        assert s.scalars(select(Sheet)).one().state == "sent"
    verdict, line = boss.act("sheet_approve", period="2026-09", accept_breaches="yes")
    assert verdict == "err" and "请先勾选确认" in line  # the form's confirm box, unticked
    with month.sessions() as s:
        assert s.scalars(select(Sheet)).one().state == "sent"
    assert boss.act("sheet_approve", period="2026-09", accept_breaches="yes", confirmed="1")[0] == "ok"
    # Frozen: a rebuild is refused; an amendment needs its reason and is stored beside the sheet.
    verdict, line = hrx.act("sheet_build", period="2026-09")
    assert verdict == "err" and "approved" in line
    assert hrx.act("sheet_amend", period="2026-09", employee="E13", reason="")[0] == "err"
    assert (
        e03.post("/plugin/hr/sheet_amend", {"period": "2026-09", "employee": "E03", "reason": "x"}).status_code == 403
    )
    assert hrx.act("sheet_amend", period="2026-09", employee="E13", reason="补交了请假单", amount="551.72")[0] == "ok"
    with month.sessions() as s:
        stored = s.scalars(select(Sheet)).one()
        assert stored.state == "approved" and stored.approved_by == "boss"
        assert next(r for r in stored.rows if r["employee"] == "E13")["absent_days"] == "1.0"
        assert [(a.reason, a.by, str(a.amount)) for a in s.scalars(select(Amendment))] == [
            ("补交了请假单", "hrx", "551.72")
        ]
    assert "补交了请假单" in boss.table("评分表更正")
