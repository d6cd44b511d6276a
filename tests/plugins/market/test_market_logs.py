"""值班记录 and 工作日志: a shift that ends without its log is reminded to whoever was on duty, once."""

from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner

from kefu.plugins.market.cli import market

from .conftest import outbox


def _at(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00")


def _reminders(app, log: str, day: str) -> list[str]:
    return [m.recipient for m in outbox(app, audience="staff") if f"/log/{log}/{day}/" in m.idem_key]


@pytest.fixture
def app(market_app):
    return market_app()


def test_floor_work_log_missing_at_the_end_of_the_day_is_reminded_once(app, clock, run_pass) -> None:
    clock.set(_at("2026-11-03T17:00:00"))
    run_pass(app)
    result = CliRunner().invoke(
        market, ["log", "floor:1F", "一楼巡查正常，A区2户未开门", "--by", "f1"], obj={"app": app}
    )
    assert result.exit_code == 0, result.output
    clock.set(_at("2026-11-03T18:00:30"))
    run_pass(app)
    assert _reminders(app, "floor:1F", "2026-11-03") == []  # written
    assert set(_reminders(app, "floor:3F", "2026-11-03")) == {"+8613800000103", "f3@market.test"}
    clock.advance(hours=2)
    run_pass(app)
    assert len(_reminders(app, "floor:3F", "2026-11-03")) == 2  # once


def test_duty_log_of_the_night_shift_is_due_at_8_and_written_before_it_counts(app, clock, run_pass) -> None:
    clock.set(_at("2026-11-04T07:40:00"))
    run_pass(app)
    CliRunner().invoke(market, ["log", "duty", "夜间两次巡查，无异常", "--by", "dep"], obj={"app": app})
    clock.set(_at("2026-11-04T08:45:30"))
    run_pass(app)
    assert [k for k in (m.idem_key for m in outbox(app)) if "/log/duty/2026-11-03" in k] == []
    clock.set(_at("2026-11-05T08:45:30"))
    run_pass(app)  # nobody wrote the 4 Nov night's log
    assert set(_reminders(app, "duty", "2026-11-04")) == {"+8613800000113", "dep@market.test"}
