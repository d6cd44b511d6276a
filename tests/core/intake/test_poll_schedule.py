"""The in-memory poll schedule belongs to one running app and goes with it."""

from __future__ import annotations

import gc
from datetime import timedelta
from pathlib import Path

from kefu.app import build_app
from kefu.channels import polling
from kefu.channels.polling import schedule_for


def test_a_schedule_is_dropped_with_its_app_so_a_later_app_never_inherits_it(tmp_path: Path) -> None:
    path = tmp_path / "kefu.toml"
    path.write_text(f'[kefu]\nstate_dir = "{tmp_path}"\n', encoding="utf-8")
    app = build_app(path)
    schedule = schedule_for(app)
    assert schedule_for(app) is schedule
    # A channel backed off far ahead: a later app that inherited this would never read it.
    schedule.next_at["maildir:service"] = app.clock.now() + timedelta(days=1)
    key = id(app)
    app.dispose()
    del app
    gc.collect()
    assert key not in polling._SCHEDULES
    fresh = build_app(path)
    try:
        assert "maildir:service" not in schedule_for(fresh).next_at
    finally:
        fresh.dispose()
