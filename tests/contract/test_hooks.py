"""One test per hook, each through the core's own call site (named ``test_hook_<hook>``)."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kefu.config import ConfigError
from kefu.cron import CronRunner
from kefu.db.engine import transaction
from kefu.db.models import Case, CaseEvent
from kefu.http.server import HttpServer
from kefu.plugin_host import PluginInfo, discover
from kefu.sla.cases import open_case, record_event
from kefu.testing.daemons import write_config
from kefu.testing.fixtures import base_config, merge
from kefu.testing.mail import build_mail, deliver_to_maildir

from .recorder_plugin import Recorder


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def rec_app(make_app, recorder):
    def build(**config):
        return make_app(plugins=["example", "recorder"], extra_plugins={"recorder": recorder}, config=config)

    return build


def open_recorded(app) -> int:
    with transaction(app.sessions) as session:
        return open_case(app.context("recorder", session), kind="recorder.thing").id


def test_hook_kefu_config_section(rec_app, recorder):
    app = rec_app(recorder={"keyword": "登记"})
    assert app.context("recorder").config.keyword == "登记"
    with pytest.raises(ConfigError, match=r"recorder\.keywrd: unknown key"):
        rec_app(recorder={"keywrd": "x"})


def test_hook_kefu_case_kinds(rec_app, recorder):
    app = rec_app(recorder={"keyword": "登记"})
    assert app.kinds["recorder.thing"].prefix == "RC"
    assert recorder.seen("kefu_case_kinds") == ["登记"]  # called after the config validated


def test_hook_kefu_schedule(rec_app, recorder, clock):
    app = rec_app()
    assert "recorder.tick" in app.jobs
    runner = CronRunner(app, started_at=clock.now())
    clock.advance(hours=1)
    runner.run_due()
    assert [(name, in_tx) for name, _d, in_tx in recorder.calls if name == "job"] == [("job", True)]


def test_hook_kefu_classify(rec_app, recorder, tmp_path, run_pass):
    maildir = tmp_path / "maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    app = rec_app(channels={"maildir": {"inbox": {"path": str(maildir)}}})
    deliver_to_maildir(maildir, build_mail(subject="请记录一下", text="内容"))
    deliver_to_maildir(maildir, build_mail(subject="example 示例", text="内容"))
    run_pass(app)
    with app.sessions() as s:
        assert sorted(s.scalars(select(Case.kind))) == ["example.request", "recorder.thing"]
    # Every enabled plugin is asked about every item (the best score wins, see test_plugin_calls.py).
    assert sorted(recorder.seen("kefu_classify")) == sorted(["请记录一下", "example 示例"])
    assert all(not in_tx for name, _d, in_tx in recorder.calls if name == "kefu_classify")


def test_hook_kefu_case_opened(rec_app, recorder):
    app = rec_app()
    case_id = open_recorded(app)
    assert [(n, in_tx) for n, _d, in_tx in recorder.calls if n == "kefu_case_opened"] == [("kefu_case_opened", True)]
    with app.sessions() as s:  # what the hook added committed with the case
        assert (
            s.scalar(select(CaseEvent.type).where(CaseEvent.case_id == case_id, CaseEvent.actor == "recorder"))
            == "recorder_ack"
        )


def test_hook_kefu_case_changed(rec_app, recorder):
    app = rec_app()
    case_id = open_recorded(app)
    with transaction(app.sessions) as session:
        record_event(app.context("recorder", session), session.get_one(Case, case_id), "note", reason="备注")
    assert "note" in recorder.seen("kefu_case_changed")


def test_hook_kefu_deadline_due(rec_app, recorder, clock, run_pass):
    app = rec_app()
    open_recorded(app)
    clock.advance(hours=2)
    run_pass(app)
    assert [(d, in_tx) for n, d, in_tx in recorder.calls if n == "kefu_deadline_due"] == [("resolution", True)]


def test_hook_kefu_cli(recorder, tmp_path, sqlite_url, monkeypatch):
    from kefu.cli.main import KefuGroup, cli

    available = dict(discover())
    available["recorder"] = PluginInfo("recorder", recorder, "test", "test")
    monkeypatch.setattr("kefu.plugin_host.discover", lambda: available)
    config = write_config(tmp_path / "kefu.toml", base_config(tmp_path, sqlite_url, ["recorder"]))
    monkeypatch.setenv("KEFU_CONFIG", str(config))
    fresh = KefuGroup(name="kefu", callback=cli.callback, params=cli.params, commands=dict(cli.commands))
    result = CliRunner().invoke(fresh, ["recorder", "hello"])
    assert result.exit_code == 0, result.output
    assert result.output == "你好 from recorder\n"


def test_hook_kefu_http(rec_app, recorder):
    server = HttpServer(rec_app())
    server.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/recorder/hello", timeout=5) as resp:
            assert resp.read().decode() == "你好 recorder"
    finally:
        server.stop()
    assert recorder.seen("kefu_http") == ["/recorder/hello"]


def test_hook_kefu_console_actions(rec_app, recorder):
    import warnings

    from kefu.console.auth import set_password
    from kefu.console.web import build_console

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    app = rec_app(staff={"people": {"he": {"name": "何"}}, "access": {"he": {"role": "admin"}}})
    with transaction(app.sessions) as session:
        set_password(session, "he", "a long password", app.clock.now())
    origin = "http://testserver"
    with TestClient(build_console(app), base_url=origin, follow_redirects=False) as http:
        pre = http.get("/login").cookies["kefu_pre"]
        http.post(
            "/login", data={"username": "he", "password": "a long password", "csrf": pre}, headers={"origin": origin}
        )
        page = http.get("/plugin/recorder")
        assert "你好" in page.text
        csrf = page.text.split('data-csrf="')[1].split('"')[0]
        done = http.post("/plugin/recorder/hello", data={"csrf": csrf, "who": "世界"}, headers={"origin": origin})
    assert "ok=" in done.headers["location"]
    # Run in a transaction (a session bound), with the signed-in person as the actor.
    assert recorder.seen("kefu_console_actions") == [("世界", "he")]
    assert [s for name, _d, s in recorder.calls if name == "kefu_console_actions"] == [True]


@pytest.mark.parametrize(("sample", "ok"), [({"customer_name": "张三"}, True), ({}, False)])
def test_hook_kefu_template_samples(recorder, tmp_path: Path, sqlite_url, monkeypatch, sample, ok):
    from kefu.cli.main import KefuGroup, cli

    site = tmp_path / "site-templates"
    (site / "recorder").mkdir(parents=True)
    (site / "recorder" / "hello.txt").write_text("{{ customer_name }}，您好。\n", encoding="utf-8")
    available = dict(discover())
    available["recorder"] = PluginInfo("recorder", recorder, "test", "test")
    monkeypatch.setattr("kefu.plugin_host.discover", lambda: available)
    monkeypatch.setattr("kefu.app.discover", lambda: available)
    raw = merge(
        base_config(tmp_path, sqlite_url, ["recorder"]),
        {"outbound": {"templates": str(site)}, "recorder": {"sample": sample}},
    )
    config = write_config(tmp_path / "kefu.toml", raw)
    fresh = KefuGroup(name="kefu", callback=cli.callback, params=cli.params, commands=dict(cli.commands))
    result = CliRunner().invoke(fresh, ["--config", str(config), "check-config"])
    assert recorder.seen("kefu_template_samples") == [None], result.output
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1 and "recorder/hello.txt" in result.output and "customer_name" in result.output
