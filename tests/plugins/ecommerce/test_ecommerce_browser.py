"""The desk in a real browser: Debian's Chromium through Playwright against the daemon's console.

Two shops (main: the demo's orders; outlet: one order), the daemon in this process on a
FakeClock (``kefu.testing.browser``). A shop's agent looks an order up on the plugin page
(订单查询, buyer data masked), the packer marks 已打包, a cancellation after payment is
entered (its confirm box must be ticked: the browser will not submit without it, the
console refuses a post without it), 退款 is refused before 原包裹已收到 and done after the
packer signs the parcel in. The other shop's agent gets 403 for the case and does not see
the shop's orders. Screenshots (订单查询, the case page) go to ``$KEFU_CONSOLE_SCREENSHOTS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kefu.api import imports as pipeline
from kefu.app import App
from kefu.clock import FakeClock
from kefu.console.auth import set_password
from kefu.db.engine import transaction
from kefu.db.models import Case
from kefu.plugins.ecommerce import imports
from kefu.plugins.ecommerce.models import Order
from kefu.testing.browser import DESKTOP, PHONE, RunningDaemon, console_daemon, expect, shoot, sign_in
from kefu.testing.files import write_csv
from kefu.testing.fixtures import base_config, merge

from .conftest import STAFF, TAOBAO_HEADER, in_tx, taobao_row
from .test_ecommerce_console import ACCESS, DEMO, OUTLET, PRINTED, SHIPPED

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery"
SHOPS = {"shops": {"main": {"name": "某某旗舰店"}, "outlet": {"name": "某某奥莱店"}}}


@pytest.fixture
def desk(tmp_path: Path, sqlite_url: str, clock: FakeClock) -> Iterator[RunningDaemon]:
    """The daemon running with the console: both shops' orders imported, everyone's password set."""
    clock.set("2026-12-02T10:00:00+08:00")
    raw = merge(
        base_config(tmp_path, sqlite_url, ["ecommerce"]),
        {"staff": merge(STAFF, ACCESS), "ecommerce": SHOPS, "http": {"enabled": False}},
    )
    outlet = write_csv(tmp_path / "outlet.csv", TAOBAO_HEADER, [taobao_row(OUTLET, buyer="tb_outlet", receiver="吴六")])

    def seed(app: App) -> None:
        for name, file in (("taobao", "taobao_orders.csv"), ("edb", "edb_orders.csv")):  # edb: 3452 已打单
            in_tx(app, lambda ctx, n=name, f=file: pipeline.run(ctx, imports.OrderImport(ctx, n, "main"), DEMO / f))
        in_tx(app, lambda ctx: pipeline.run(ctx, imports.OrderImport(ctx, "taobao", "outlet"), outlet))
        with transaction(app.sessions) as session:
            for key in ACCESS["access"]:
                set_password(session, key, PASSWORD, clock.now())

    with console_daemon(tmp_path, raw, clock, seed) as running:
        yield running


def _read(running: RunningDaemon, fn: Any) -> Any:
    """``fn(session)`` on the daemon's database, read from this thread."""
    app = running.app()
    try:
        with app.sessions() as session:
            return fn(session)
    finally:
        app.dispose()


def _section(page: Any, title: str) -> Any:
    """The plugin page's section headed ``title`` (a table or an action's form)."""
    return page.locator("section", has=page.locator("h2", has_text=title))


def _lookup(page: Any, base: str, number: str) -> Any:
    """订单查询 for ``number`` through its form; the table's body."""
    page.goto(f"{base}/plugin/ecommerce")
    lookup = _section(page, "订单查询")
    lookup.locator("input[name=order_no]").fill(number)
    lookup.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/plugin/ecommerce\?order_no="))
    return _section(page, "订单查询").locator("tbody")


def test_a_shops_desk_in_a_real_browser(browser: Any, desk: RunningDaemon) -> None:
    base = desk.base
    after_ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = after_ctx.new_page()
    sign_in(page, base, "after", PASSWORD)

    # 订单查询: the order's row, the buyer's name, phone and address masked.
    rows = _lookup(page, base, SHIPPED)
    expect(rows.locator("tr")).to_have_count(1)
    row = rows.locator("tr").first.inner_text()
    assert SHIPPED in row and "赵*" in row and "139****3333" in row
    assert "赵敏" not in row and "13900003333" not in row
    shoot(page, "ecommerce-orders")

    # The packer's 已打包 on the plugin page.
    pack_ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    packer = pack_ctx.new_page()
    sign_in(packer, base, "pack", PASSWORD)
    packer.goto(f"{base}/plugin/ecommerce")
    packed = _section(packer, "已打包")
    packed.locator("input[name=order_no]").fill(PRINTED)
    packed.locator("button[type=submit]").click()
    expect(packer.locator(".flash.ok")).to_contain_text("已打包")
    state = select(Order.print_state).where(Order.order_no == PRINTED)
    assert _read(desk, lambda s: s.scalars(state).one()) == "已打包"

    # 登记付款后取消 of a shipped order: not sent until its confirm box is ticked.
    page.goto(f"{base}/plugin/ecommerce")
    cancel = _section(page, "登记付款后取消")
    cancel.locator("input[name=order_no]").fill(SHIPPED)
    tick = cancel.locator("input[name=confirmed]")
    assert "作废、取回或撤回" in cancel.locator("label.confirm-tick").inner_text()
    cancel.locator("button[type=submit]").click()
    assert tick.evaluate("el => el.validity.valueMissing") is True
    cancels = select(Case.number).where(Case.kind == "ecommerce.cancel")
    assert page.locator(".flash").count() == 0 and _read(desk, lambda s: s.scalars(cancels).all()) == []
    tick.check()
    cancel.locator("button[type=submit]").click()
    flash = page.locator(".flash.ok")
    expect(flash).to_contain_text("撤回")
    number = re.search(r"EX-\d{4}-\d+", flash.inner_text())
    assert number is not None, flash.inner_text()
    number = number.group(0)

    # 退款 on the case page: refused before 原包裹已收到, even ticked, and not sent unticked.
    page.goto(f"{base}/case/{number}")
    refund = page.locator("form.plugin-action[action$='/refund']")
    refund.locator("button[type=submit]").click()
    assert refund.locator("input[name=confirmed]").evaluate("el => el.validity.valueMissing") is True
    refund.locator("input[name=confirmed]").check()
    refund.locator("button[type=submit]").click()
    expect(page.locator(".flash.err")).to_contain_text("原包裹尚未收到")
    # The return slip is listed as a letter; its HTML source is never the timeline's text.
    expect(page.locator("#timeline")).to_contain_text("信件 PDF：生成后列在上方“信件”中")
    expect(page.locator("#timeline")).not_to_contain_text("<!DOCTYPE")
    shoot(page, "ecommerce-case")
    # A post without the tick (no form: a script, an old page) is refused by the console too.
    csrf = page.locator("body").get_attribute("data-csrf")
    bare = page.request.post(
        f"{base}/case/{number}/plugin/ecommerce/refund", form={"csrf": csrf or ""}, headers={"origin": base}
    )
    assert bare.status == 200 and "请先勾选确认" in bare.text()
    assert _read(desk, lambda s: s.scalars(select(Case.state).where(Case.number == number)).one()) != "resolved"

    # The packer signs the parcel in; then the refund goes through.
    packer.goto(f"{base}/case/{number}")
    packer.locator("form.plugin-action[action$='/received'] button[type=submit]").click()
    expect(packer.locator(".flash.ok")).to_contain_text("原包裹已收到")
    page.goto(f"{base}/case/{number}")
    refund.locator("input[name=confirmed]").check()
    refund.locator("button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_contain_text("已退款")
    assert _read(desk, lambda s: s.scalars(select(Case.state).where(Case.number == number)).one()) == "resolved"

    # The outlet's agent: 403 for the main shop's case, and its orders are not found.
    out_ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    out = out_ctx.new_page()
    sign_in(out, base, "out", PASSWORD)
    response = out.goto(f"{base}/case/{number}")
    assert response is not None and response.status == 403
    assert SHIPPED not in _lookup(out, base, SHIPPED).inner_text()
    assert OUTLET in _lookup(out, base, OUTLET).inner_text()
    for ctx in (after_ctx, pack_ctx, out_ctx):
        ctx.close()
