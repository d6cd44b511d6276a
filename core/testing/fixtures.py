"""Fixtures for kefu and its plugins' tests.

* ``clock`` — a :class:`~kefu.clock.FakeClock` at Monday 2026-11-02 09:00 Asia/Shanghai.
* ``db_url`` — a fresh database, once on SQLite and once on PostgreSQL (skipped with the
  reason where PostgreSQL is unreachable, an error when ``KEFU_REQUIRE_ALL_PEERS=1``).
* ``make_app(plugins=[...], config={...}, extra_plugins={...})`` — a migrated application.
* ``run_pass(app)`` — one full pass of the daemon (intake, sweep, due jobs, dispatch).
* ``browser`` — headless Chromium for the console's browser tests (:mod:`kefu.testing.browser`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kefu.app import App, build_app
from kefu.clock import FakeClock
from kefu.cron import CronRunner
from kefu.db.schema import upgrade
from kefu.passes import PassResult
from kefu.passes import run_pass as _run_pass
from kefu.plugin_host import PluginInfo, discover
from kefu.staff import sync_staff
from kefu.testing.databases import postgres_available, postgres_schema

START = "2026-11-02T09:00:00+08:00"


def require_all_peers() -> bool:
    """In CI every peer must be there: a missing one fails instead of skipping."""
    return os.environ.get("KEFU_REQUIRE_ALL_PEERS") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason`` locally; fail in CI, where .ci/run installs every peer."""
    if require_all_peers():
        pytest.fail(f"{reason} (KEFU_REQUIRE_ALL_PEERS=1: .ci/run must provide it)")
    pytest.skip(reason)


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the test says so."""
    return FakeClock(START)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each engine kefu supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kefu.db'}"
        return
    reason = postgres_available()
    if reason:
        skip_or_fail(reason)
    with postgres_schema() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database, for tests whose subject is not storage."""
    return f"sqlite:///{tmp_path / 'kefu.db'}"


def base_config(tmp_path: Path, url: str, plugins: list[str]) -> dict[str, Any]:
    """A minimal valid config: state in ``tmp_path``, the database at ``url``, HTTP on a free port."""
    return {
        "kefu": {"state_dir": str(tmp_path / "state"), "node_name": "test"},
        "database": {"url": url},
        "plugins": {"enabled": plugins},
        "http": {"port": 0},
        "outbound": {"spool": {"path": str(tmp_path / "spool")}},
    }


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``extra`` into a copy of ``base`` (tables merge, other values replace)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


MakeApp = Callable[..., App]


@pytest.fixture
def make_app(db_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[MakeApp]:
    """Build migrated apps on ``db_url``: ``make_app(plugins=["example"], config={...})``.

    ``extra_plugins`` maps names to hook modules or objects that are not installed
    (a deliberately broken plugin, a test double); they register like installed ones.
    """
    apps: list[App] = []
    migrated = False

    def factory(
        plugins: list[str] | None = None,
        config: dict[str, Any] | None = None,
        extra_plugins: dict[str, object] | None = None,
        url: str | None = None,
    ) -> App:
        nonlocal migrated
        available = dict(discover())
        for name, module in (extra_plugins or {}).items():
            available[name] = PluginInfo(name=name, module=module, version="test", distribution="test")
        names = plugins if plugins is not None else ["example"]
        raw = merge(base_config(tmp_path, url or db_url, names), config or {})
        app = build_app(tmp_path / "kefu.toml", raw=raw, clock=clock, available=available)
        if not migrated or url:
            upgrade(app.engine, default_country=app.settings.kefu.default_country)
            migrated = True
        sync_staff(app)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.dispose()


@pytest.fixture
def run_pass() -> Callable[[App], PassResult]:
    """One full pass, as ``kefu run --once`` does it, with the app's clock."""
    runners: dict[int, CronRunner] = {}

    def do(app: App) -> PassResult:
        runner = runners.setdefault(id(app), CronRunner(app, started_at=app.clock.now()))
        return _run_pass(app, runner)

    return do


from kefu.testing.browser import browser  # noqa: E402,F401  (Debian's Chromium through Playwright)
from kefu.testing.dovecot import dovecot  # noqa: E402,F401  (the private Dovecot fixture)
from kefu.testing.smtp import smtp_server  # noqa: E402,F401  (aiosmtpd on a free port)
from kefu.testing.twilio_api import twilio_api  # noqa: E402,F401  (a local Twilio Messages API)
