"""The hr page in a real browser: Debian's Chromium through Playwright against the daemon's console.

September 2026 loaded and computed as HR runs it (``load_month``: deduct, so E28 is under
the minimum wage), the daemon in this process on a FakeClock (``kefu.testing.browser``). An
employee (``self`` role) signs in and sees their own attendance only, no colleague's and
no case; HR rebuilds and sends the sheet, and its approver approves the month: the form is
not sent until its confirm box is ticked. Screenshots of the employee's page go to
``$KEFU_CONSOLE_SCREENSHOTS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kefu.app import App
from kefu.clock import FakeClock
from kefu.console.auth import set_password
from kefu.db.engine import transaction
from kefu.plugins.hr.models import Sheet
from kefu.testing.browser import DESKTOP, RunningDaemon, console_daemon, expect, shoot, sign_in
from kefu.testing.fixtures import base_config, merge

from .conftest import DEDUCT, HR, STAFF
from .test_hr_console import ACCESS, PASSWORD
from .test_hr_fixture import load_month

pytestmark = pytest.mark.slow


@pytest.fixture
def office(tmp_path: Path, sqlite_url: str, clock: FakeClock) -> Iterator[RunningDaemon]:
    """The daemon running with the console on the computed month; everyone's password set."""
    raw = merge(
        base_config(tmp_path, sqlite_url, ["hr"]),
        {"staff": merge(STAFF, {"access": ACCESS}), "hr": merge(HR, DEDUCT), "http": {"enabled": False}},
    )

    def seed(app: App) -> None:
        load_month(app, clock)
        with transaction(app.sessions) as session:
            for key in ACCESS:
                set_password(session, key, PASSWORD, clock.now())

    with console_daemon(tmp_path, raw, clock, seed) as running:
        yield running


def _section(page: Any, title: str) -> Any:
    """The hr page's section headed ``title`` (a table or an action's form)."""
    return page.locator("section", has=page.locator("h2", has_text=title))


def _act(page: Any, base: str, title: str, **fields: str) -> Any:
    """Fill the action ``title``'s form on the hr page and send it; its form."""
    page.goto(f"{base}/plugin/hr")
    form = _section(page, title)
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator("button[type=submit]").click()
    return form


def _sheet_state(running: RunningDaemon) -> str:
    app = running.app()
    try:
        with app.sessions() as session:
            return str(session.scalars(select(Sheet.state)).one())
    finally:
        app.dispose()


def test_own_attendance_and_the_months_approval_in_a_real_browser(browser: Any, office: RunningDaemon) -> None:
    base = office.base
    contexts = [browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai") for _ in range(3)]
    me, hr, boss = (c.new_page() for c in contexts)

    # An employee: their own month, day by day; nobody else's, and no case at all.
    sign_in(me, base, "E03", PASSWORD)
    me.goto(f"{base}/plugin/hr")
    mine = _section(me, "我的本月考勤").locator("tbody tr")
    expect(mine).to_have_count(30)
    assert mine.first.inner_text().startswith("2026-09-01")
    text = me.inner_text("body")
    for colleague in ("客服13", "客服08", "客服28"):
        assert colleague not in text, colleague
    assert "无" in _section(me, "本部门本月考勤异常").inner_text()
    assert _section(me, "批准评分表").count() == 0  # an office action, not drawn for ``self``
    shoot(me, "hr-attendance")
    me.goto(f"{base}/queue/unassigned")
    assert me.locator("tr.row").count() == 0

    # HR rebuilds the month's sheet and sends it to the approver.
    sign_in(hr, base, "hrx", PASSWORD)
    _act(hr, base, "重算评分表", period="2026-09")
    expect(hr.locator(".flash.ok")).to_contain_text("1 人低于最低工资")
    _act(hr, base, "发送评分表审批", period="2026-09")
    expect(hr.locator(".flash.ok")).to_contain_text("已发送审批人")

    # The approver: the form waits for its confirm box; ticked, the month is approved.
    sign_in(boss, base, "boss", PASSWORD)
    form = _act(boss, base, "批准评分表", period="2026-09", accept_breaches="yes")
    tick = form.locator("input[name=confirmed]")
    assert tick.evaluate("el => el.validity.valueMissing") is True
    assert "批准后本月考勤冻结" in form.locator("label.confirm-tick").inner_text()
    assert boss.locator(".flash").count() == 0 and _sheet_state(office) == "sent"
    tick.check()
    form.locator("button[type=submit]").click()
    expect(boss.locator(".flash.ok")).to_contain_text("已批准")
    assert _sheet_state(office) == "approved"
    for c in contexts:
        c.close()
