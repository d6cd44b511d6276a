"""A broken plugin is isolated as docs/architecture.md says: logged with its name, the item goes on,
other plugins go on; a failing registration hook refuses the start and the reload."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from kefu.config import ConfigError
from kefu.cron import CronRunner
from kefu.daemon import Daemon
from kefu.db.engine import transaction
from kefu.db.models import Case, CaseEvent, Heartbeat, JobRun
from kefu.plugin_host import PluginInfo, discover
from kefu.sdnotify import Notifier
from kefu.sla.cases import open_case, record_event
from kefu.testing.daemons import write_config
from kefu.testing.fixtures import base_config
from kefu.testing.mail import build_mail, deliver_to_maildir

from .broken_plugin import (
    MisspeltHook,
    RaisesInCaseChanged,
    RaisesInCaseOpened,
    RaisesInClassify,
    RaisesInConfigSection,
    RaisesInCronJob,
    RaisesInDeadlineDue,
    RaisesInRegistration,
    RaisesInSchedule,
)


def events(app, case_id: int) -> list[tuple[str, str | None]]:
    with app.sessions() as s:
        rows = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
        return [(e.type, e.reason) for e in rows]


def open_broken_case(app):
    with transaction(app.sessions) as session:
        case = open_case(app.context("broken", session), kind="broken.thing", title="原标题")
        return case.id


def test_raising_in_classify_is_logged_and_the_next_plugin_claims_the_item(make_app, tmp_path, run_pass, caplog):
    maildir = tmp_path / "maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    app = make_app(
        plugins=["broken", "example"],
        extra_plugins={"broken": RaisesInClassify()},
        config={"channels": {"maildir": {"inbox": {"path": str(maildir)}}}},
    )
    deliver_to_maildir(maildir, build_mail(subject="example 示例请求", text="请处理"))
    with caplog.at_level(logging.ERROR):
        run_pass(app)
    with app.sessions() as s:
        kinds = list(s.scalars(select(Case.kind)))
    assert kinds == ["example.request"]
    assert any("'broken'" in r.getMessage() and "classify" in r.getMessage() for r in caplog.records)


def test_raising_in_case_opened_rolls_back_its_savepoint_and_the_case_stays_open(make_app, caplog):
    app = make_app(plugins=["broken"], extra_plugins={"broken": RaisesInCaseOpened()})
    with caplog.at_level(logging.ERROR):
        case_id = open_broken_case(app)
    with app.sessions() as s:
        case = s.get_one(Case, case_id)
        assert case.state == "new" and case.title == "原标题"  # the plugin's half-write is gone
    assert any(
        t == "plugin_error" and "plugin 'broken' failed in kefu_case_opened: Broken: case_opened" in (r or "")
        for t, r in events(app, case_id)
    )
    assert any("'broken'" in r.getMessage() and "kefu_case_opened" in r.getMessage() for r in caplog.records)


def test_raising_in_case_changed_keeps_the_change_and_records_the_error(make_app):
    app = make_app(plugins=["broken"], extra_plugins={"broken": RaisesInCaseChanged()})
    case_id = open_broken_case(app)
    with transaction(app.sessions) as session:
        case = session.get_one(Case, case_id)
        record_event(app.context("broken", session), case, "note", reason="客服备注")
    kinds = [t for t, _r in events(app, case_id)]
    assert "note" in kinds and "plugin_error" in kinds


def test_raising_in_deadline_due_is_retried_and_the_sweep_goes_on(make_app, clock, run_pass):
    app = make_app(plugins=["broken"], extra_plugins={"broken": RaisesInDeadlineDue()})
    case_id = open_broken_case(app)
    clock.advance(hours=2)
    result = run_pass(app)  # returns normally: the daemon never dies on one bad item
    assert result.sweep >= 1
    assert "deadline_error" in [t for t, _r in events(app, case_id)]


def test_raising_in_a_cron_job_marks_its_firing_failed_and_others_run(make_app, clock):
    app = make_app(plugins=["broken", "example"], extra_plugins={"broken": RaisesInCronJob()})
    runner = CronRunner(app, started_at=clock.now())
    clock.advance(hours=1)
    ran = dict(runner.run_due())
    assert set(ran) == {"broken.explode", "example.heartbeat"}
    with app.sessions() as s:
        states = {r.job_id: (r.state, r.error) for r in s.scalars(select(JobRun))}
        assert s.get(Heartbeat, "broken-job-was-here") is None  # its half-done work rolled back
    assert states["broken.explode"] == ("failed", "Broken: cron job exploded")
    assert states["example.heartbeat"][0] == "done"


@pytest.mark.parametrize(
    ("plugin", "hook"),
    [
        (RaisesInRegistration(), "kefu_case_kinds"),
        (RaisesInSchedule(), "kefu_schedule"),
        (RaisesInConfigSection(), "kefu_config_section"),
    ],
)
def test_raising_in_a_registration_hook_refuses_the_start_naming_the_plugin(make_app, plugin, hook):
    with pytest.raises(ConfigError, match=rf"plugin 'broken' failed in {hook}: Broken: \w+ exploded"):
        make_app(plugins=["example", "broken"], extra_plugins={"broken": plugin})


def test_a_misspelt_hook_refuses_the_start(make_app):
    with pytest.raises(ConfigError, match=r"plugin 'typo' implements kefu_clasify, which is not a kefu hook"):
        make_app(plugins=["typo"], extra_plugins={"typo": MisspeltHook()})


def test_raising_in_a_registration_hook_refuses_the_reload_and_the_old_config_runs(
    make_app, tmp_path: Path, sqlite_url: str, monkeypatch
):
    make_app(url=sqlite_url)  # migrates the database
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    available = dict(discover())
    available["broken"] = PluginInfo("broken", RaisesInRegistration(), "test", "test")
    config = write_config(
        tmp_path / "daemon.toml", {**base_config(tmp_path, sqlite_url, ["example"]), "http": {"enabled": False}}
    )
    daemon = Daemon(config, available=available, notifier=Notifier())
    old = daemon.start()
    try:
        write_config(config, {**base_config(tmp_path, sqlite_url, ["example", "broken"]), "http": {"enabled": False}})
        assert daemon.reload() is False
        assert daemon.app is old and old.host.enabled == ["example"]
        assert daemon.scheduler is not None and daemon.scheduler.running
        daemon.handle("sweep")  # the old config still does its work
    finally:
        daemon.shutdown()
