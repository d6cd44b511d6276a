"""Done means, in a real browser: Debian's Chromium driven by Playwright against the daemon's console.

The daemon runs in this process (its main loop in a thread, the console on uvicorn,
a FakeClock) so the test moves time instead of waiting for it. A real mail delivered
into the Maildir becomes a leak case in 即将超时; its badge counts down (the page's
script, and the moved clock); a reply from a template reaches the spool with the case
number; it is resolved, the callback is unsatisfied and it reopens. A station's duty
person gets 403 for another station's case; a post without the CSRF token or from
another Origin is refused; the session survives a daemon restart and is gone after
"sign out everywhere". Screenshots (desktop and phone width) are written to
``$KEFU_CONSOLE_SCREENSHOTS`` when set (docs/console/ holds the committed ones).
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kefu.clock import FakeClock
from kefu.console.auth import set_password
from kefu.db.engine import transaction
from kefu.db.models import Case
from kefu.plugins.heating import imports
from kefu.testing.browser import DESKTOP, PHONE, RunningDaemon, console_daemon, expect, shoot, sign_in, until
from kefu.testing.fixtures import base_config, merge
from kefu.testing.mail import build_mail, deliver_to_maildir

from .conftest import PASSWORD, console_config, write_households

pytestmark = pytest.mark.slow


@pytest.fixture
def daemon(tmp_path: Path, sqlite_url: str, clock: FakeClock) -> Iterator[tuple[RunningDaemon, str]]:
    """A migrated database with households and passwords, a config file, the daemon running."""
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "maildir" / sub).mkdir(parents=True, exist_ok=True)
    raw = merge(
        base_config(tmp_path, sqlite_url, ["heating"]),
        # The test moves the clock by hours: an idle timeout longer than that keeps the session.
        console_config(tmp_path, {"console": {"idle_timeout": "8h"}, "http": {"enabled": False}}),
    )
    raw["scheduler"] = {"intake_interval": "1s", "dispatch_interval": "1s", "sweep_interval": "1s"}

    def seed(app: Any) -> None:
        with transaction(app.sessions) as session:
            imports.import_households(app.context("heating", session), write_households(tmp_path / "hh.csv"))
            for key in ("kf", "wang", "liu"):
                set_password(session, key, PASSWORD, clock.now())

    with console_daemon(tmp_path, raw, clock, seed) as running:
        yield running, running.base


def _sign_in(page: Any, base: str, key: str) -> None:
    sign_in(page, base, key, PASSWORD)


def _photo(width: int = 160, height: int = 100) -> bytes:
    """A real PNG (a blue gradient): the leak's photo the customer attached."""
    import struct
    import zlib

    raw = b"".join(
        b"\x00" + b"".join(bytes((40, (90 + y) % 256, (200 - x // 2) % 256)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _spooled_subjects(spool: Path) -> list[str]:
    out = []
    for path in sorted((spool / "mail").glob("*.eml")) if (spool / "mail").is_dir() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        out.append(str(message["Subject"]) + "\n" + message.get_body(preferencelist=("plain",)).get_content())
    return out


def test_done_means_in_a_real_browser(browser: Any, daemon: tuple[RunningDaemon, str], tmp_path: Path, clock) -> None:
    running, base = daemon
    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = desk.new_page()
    _sign_in(page, base, "kf")

    # A real mail, delivered as an MDA does, becomes a leak case in 即将超时.
    deliver_to_maildir(
        tmp_path / "maildir",
        build_mail(
            sender="zhang@example.com",
            subject="报修 户号：CB-0001",
            text="3号楼暖气片漏水，地上全是水！",
            attachments=[("漏水照片.png", "image/png", _photo())],
        ),
    )
    running.wake("intake")
    app_db = running.app()
    try:

        def opened() -> str | None:
            with app_db.sessions() as s:
                return s.scalars(select(Case.number).where(Case.kind == "heating.leak")).first()

        number = until(opened, "the leak case opening")
    finally:
        app_db.dispose()
    page.goto(f"{base}/queue/due_soon")
    row = page.locator("tr.row", has_text=number)
    assert row.count() == 1
    # The tabs' numbers arrive after the page (htmx, out-of-band swaps).
    expect(page.locator("#count-due_soon")).to_have_text("1", timeout=10000)
    badge = row.locator(".badge")
    first = badge.inner_text()
    assert first.startswith("剩 3小时") or first.startswith("剩 4小时"), first
    # The page's script counts down (from the server's clock), second by second …
    page.wait_for_function(
        "([el, before]) => el.textContent !== before", arg=[badge.element_handle(), first], timeout=5000
    )
    shoot(page, "queue")
    # … and the daemon's clock moved three hours on shows less than an hour left.
    clock.advance(hours=3, minutes=10)
    page.reload()
    later = page.locator("tr.row", has_text=number).locator(".badge").inner_text()
    assert re.fullmatch(r"剩 (4[0-9]|50)分\d{1,2}秒", later), later  # 4 h less 3 h 10 min, and counting

    # Reply from a template: the spool receives it with the case number.
    page.click(f"a.num:has-text('{number}')")
    page.wait_for_url(re.compile(f".*/case/{number}"))
    # The customer's photo is shown in the timeline (served from the case, in scope).
    photo = page.locator("img.photo")
    expect(photo).to_have_count(1)
    assert page.evaluate("document.querySelector('img.photo').naturalWidth") == 160
    page.select_option("#reply-template", "core/reply_visit.txt")
    page.click("#reply-form button[type=submit]")
    assert "回复已排队" in page.locator(".flash.ok").inner_text()
    running.wake("dispatch")
    sent = until(
        lambda: [m for m in _spooled_subjects(tmp_path / "spool") if "上门" in m], "the reply reaching the spool"
    )
    assert f"[{number}]" in sent[0]
    shoot(page, "case")

    # Resolve, then an unsatisfied callback reopens it.
    page.fill("form[action$='/do/resolve'] input[name=reason]", "已更换暖气片阀门")
    page.click("#resolve")
    assert page.locator("#case-state").inner_text() in ("已解决", "回访中")
    page.click("#callback-unsatisfied")
    assert "不满意，已重新打开" in page.locator(".flash.ok").inner_text()
    assert page.locator("#case-state").inner_text() == "已派单"
    assert page.locator("#timeline", has_text="重新打开").count() == 1

    # A station's duty person: another station's case is 403 and not in their lists.
    other = browser.new_context(viewport=PHONE, locale="zh-CN")
    duty = other.new_page()
    _sign_in(duty, base, "wang")
    response = duty.goto(f"{base}/case/{number}")
    assert response is not None and response.status == 403
    duty.goto(f"{base}/queue/due_soon")
    assert duty.locator("tr.row", has_text=number).count() == 0
    assert duty.goto(f"{base}/search?q=漏水").status == 200 and number not in duty.content()

    # A form without the CSRF token, or from another Origin, is refused.
    no_token = page.request.post(f"{base}/case/{number}/do/note", form={"text": "x"}, headers={"origin": base})
    assert no_token.status == 403
    csrf = page.locator("body").get_attribute("data-csrf")
    foreign = page.request.post(
        f"{base}/case/{number}/do/note", form={"text": "x", "csrf": csrf}, headers={"origin": "https://evil.example"}
    )
    assert foreign.status == 403
    ok = page.request.post(
        f"{base}/case/{number}/do/note", form={"text": "备注", "csrf": csrf}, headers={"origin": base}
    )
    assert ok.status == 200  # followed the redirect back to the case

    # The dashboard (the head sees /healthz at the top).
    head = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    _sign_in(head, base, "liu")
    head.goto(f"{base}/dashboard")
    assert head.locator("#health").count() == 1 and head.locator("#kpis").count() == 1
    shoot(head, "dashboard")

    # The session survives a daemon restart …
    second = browser.new_context(viewport=DESKTOP).new_page()
    _sign_in(second, base, "kf")
    running.stop()
    running.start()
    page.goto(f"{base}/queue/mine")
    assert page.url.endswith("/queue/mine")
    # … and "sign out everywhere" ends it in every browser.
    page.goto(f"{base}/account")
    page.click("#logout-all")
    page.wait_for_url(re.compile(r".*/login"))
    second.goto(f"{base}/queue/mine")
    assert "/login" in second.url
    page.goto(f"{base}/queue/mine")
    assert "/login" in page.url
    for ctx in (desk, other, head.context, second.context):
        ctx.close()


def test_keyboard_keys_move_open_and_search(browser: Any, daemon: tuple[RunningDaemon, str], tmp_path: Path) -> None:
    running, base = daemon
    page = browser.new_page(viewport=DESKTOP)
    _sign_in(page, base, "kf")
    for account in ("CB-0001", "CB-0002"):
        deliver_to_maildir(
            tmp_path / "maildir",
            build_mail(sender=f"{account}@example.com", subject=f"报修 户号：{account}", text="漏水"),
        )
    running.wake("intake")
    page.goto(f"{base}/queue/due_soon")
    until(lambda: page.reload() or page.locator("tr.row").count() == 2, "two cases listed")
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("?")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.locator("tr.row.current").count() == 1
    number = page.locator("tr.row.current a.num").inner_text()
    page.keyboard.press("o")
    page.wait_for_url(re.compile(f".*/case/{number}"))
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reply-text"
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.context.close()
