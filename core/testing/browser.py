"""Browser tests of the staff console: Debian's Chromium driven by Playwright against a daemon in this process.

* :func:`launch_chromium` starts ``/usr/bin/chromium`` headless through Playwright (never a
  downloaded browser), with the networking features a test needs none of turned off; the
  ``browser`` fixture (module scope) yields it. A missing Chromium or Playwright skips the
  test with the reason (fails it in CI: :func:`kefu.testing.fixtures.skip_or_fail`).
* :func:`console_daemon` writes a config, migrates its database, lets the test seed it
  (imports, passwords) and runs the daemon (its main loop in a thread, the console on
  uvicorn) on the test's :class:`~kefu.clock.FakeClock`, so the test moves time instead of
  waiting for it: :class:`RunningDaemon`.
* :func:`sign_in` signs a person in on a page; :func:`until` waits for what the daemon's
  thread makes true; :func:`shoot` writes a page's screenshots (desktop and phone width) to
  ``$KEFU_CONSOLE_SCREENSHOTS`` when set; :func:`expect` is Playwright's, imported late.

A plugin's browser test::

    from kefu.testing.browser import console_daemon, sign_in

    def test_orders_page(browser, tmp_path, sqlite_url, clock):
        raw = merge(base_config(tmp_path, sqlite_url, ["ecommerce"]), {...})
        with console_daemon(tmp_path, raw, clock, seed=lambda app: ...) as running:
            page = browser.new_page()
            sign_in(page, running.base, "pre", PASSWORD)
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kefu.testing.fixtures import merge, skip_or_fail
from kefu.testing.ports import free_port

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.clock import FakeClock
    from kefu.daemon import Daemon

CHROMIUM = Path("/usr/bin/chromium")
# Networking features a headless test needs none of (and which would try to reach the Internet).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
    "--metrics-recording-only",
    "--no-pings",
)
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = "KEFU_CONSOLE_SCREENSHOTS"


@contextmanager
def launch_chromium(executable: Path = CHROMIUM) -> Iterator[Any]:
    """Headless Chromium from Debian's package (``executable``) through Playwright; closed after.

    Skips (fails in CI) when the browser or the playwright package is missing.
    """
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    if not executable.exists():
        skip_or_fail(f"{executable} is missing (apt-get install chromium; tools/bootstrap --tests installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is missing (pip install -e '.[test]')")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(executable), headless=True, args=list(CHROMIUM_ARGS))
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the test module (see :func:`launch_chromium`)."""
    with launch_chromium() as chromium:
        yield chromium


def expect(target: Any, message: str | None = None) -> Any:
    """Playwright's ``expect`` (waits for a locator's state); imported here, where playwright is there."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target, message)


class RunningDaemon:
    """A daemon in this process: started, its main loop in a thread, stoppable and restartable.

    ``base`` is the console's URL (``http://127.0.0.1:PORT``) when :func:`console_daemon` made it.
    """

    def __init__(self, config: Path, clock: FakeClock, base: str = "") -> None:
        self.config, self.clock, self.base = config, clock, base
        self.daemon: Daemon | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the daemon (scheduler, channels, console) and run its main loop in a thread."""
        from kefu.daemon import Daemon

        self.daemon = Daemon(self.config, clock=self.clock)
        self.daemon.start()
        self.thread = threading.Thread(target=self.daemon.run_forever, name="test-daemon", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Ask the loop to stop and wait for it (the console's requests in hand finish first)."""
        assert self.daemon is not None and self.thread is not None
        self.daemon.request_stop()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the daemon did not stop"

    def wake(self, step: str) -> None:
        """Ask the loop to run ``step`` now (``intake``, ``dispatch``, ``sweep``, ``cron``)."""
        assert self.daemon is not None
        self.daemon.wake(step)

    def app(self) -> App:
        """A second App on the daemon's config and clock, to read the database (dispose it after)."""
        from kefu.app import build_app

        return build_app(self.config, clock=self.clock)


@contextmanager
def console_daemon(
    tmp_path: Path,
    raw: Mapping[str, Any],
    clock: FakeClock,
    seed: Callable[[App], None] | None = None,
) -> Iterator[RunningDaemon]:
    """The daemon of config ``raw`` running with its console on a free loopback port, on ``clock``.

    ``raw`` is a whole config (``kefu.testing.fixtures.base_config`` merged with the test's);
    the console is turned on at a free port. The database is migrated, then ``seed(app)``
    fills it before the daemon starts (imports, ``kefu.console.auth.set_password``), on an
    App of the same config that is disposed after. The daemon is stopped when the block ends.
    """
    from kefu.app import build_app
    from kefu.db.schema import upgrade
    from kefu.staff import sync_staff
    from kefu.testing.daemons import write_config

    port = free_port()
    config = write_config(tmp_path / "kefu.toml", merge(dict(raw), {"console": {"enabled": True, "port": port}}))
    app = build_app(config, clock=clock)
    try:
        upgrade(app.engine, default_country=app.settings.kefu.default_country)
        sync_staff(app)  # as the daemon does at start: a seed's commands may name staff
        if seed is not None:
            seed(app)
    finally:
        app.dispose()
    running = RunningDaemon(config, clock, f"http://127.0.0.1:{port}")
    running.start()
    try:
        yield running
    finally:
        running.stop()


def sign_in(page: Any, base: str, key: str, password: str, landing: str = r".*/queue/mine") -> None:
    """Sign ``key`` in on ``page`` through the sign-in form; wait for the page it lands on.

    A ``self``-role person (no cases) lands where ``/queue/mine`` sends them: pass ``landing``.
    """
    page.goto(f"{base}/login")
    page.fill("input[name=username]", key)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(landing))


def until(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Wait for a condition another thread makes true (the daemon's loop); never a fixed sleep for a deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def shoot(page: Any, name: str) -> list[Path]:
    """Screenshots of ``page`` at desktop and phone width, ``<name>-desktop.png`` and ``<name>-phone.png``,
    into ``$KEFU_CONSOLE_SCREENSHOTS`` when it is set (nothing otherwise); the paths written."""
    folder = os.environ.get(SCREENSHOTS)
    if not folder:
        return []
    Path(folder).mkdir(parents=True, exist_ok=True)
    written = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        path = Path(folder) / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        written.append(path)
    page.set_viewport_size(DESKTOP)
    return written
