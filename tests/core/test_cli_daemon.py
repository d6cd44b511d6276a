"""``kefu db upgrade``, the refusal to run on an old schema, ``status``, ``plugins``, ``--json``."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner

from kefu.cli.main import cli
from kefu.testing.daemons import write_config
from kefu.testing.fixtures import base_config


@pytest.fixture
def config(tmp_path: Path, sqlite_url: str) -> Path:
    return write_config(tmp_path / "kefu.toml", base_config(tmp_path, sqlite_url, ["example"]))


def kefu(clock, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), obj={"clock": clock}, catch_exceptions=False)
    return result.exit_code, result.output


def test_run_refuses_an_empty_schema_and_names_the_command(config, clock):
    code, out = kefu(clock, "--config", str(config), "run", "--once")
    assert code == 1
    assert "the database is empty" in out and "run `kefu db upgrade`" in out


def test_db_upgrade_then_one_pass(config, clock):
    code, out = kefu(clock, "--config", str(config), "db", "current", "--json")
    assert code == 0 and json.loads(out)[0]["database"] == "empty"
    code, out = kefu(clock, "--config", str(config), "db", "upgrade")
    assert code == 0 and out.startswith("database upgraded from empty to ")
    code, out = kefu(clock, "--config", str(config), "db", "current", "--json")
    assert json.loads(out)[0]["current"] is True
    code, out = kefu(clock, "--config", str(config), "run", "--once")
    assert code == 0, out
    assert set(json.loads(out)) == {"intake", "sweep", "cron", "dispatch"}


def test_status_shows_each_loops_last_success_outbox_and_open_work(config, clock):
    kefu(clock, "--config", str(config), "db", "upgrade")
    code, out = kefu(clock, "--config", str(config), "status", "--json")
    assert code == 1
    before = json.loads(out)
    assert before["ok"] is False  # nothing has run yet: a person sees it at once
    kefu(clock, "--config", str(config), "run", "--once")
    code, out = kefu(clock, "--config", str(config), "status", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True, out
    loops = {loop["loop"]: loop for loop in report["loops"]}
    assert set(loops) == {"intake", "sweep", "cron", "dispatch"}
    assert loops["sweep"]["last_success"] == clock.now().isoformat()
    assert any(c["name"] == "outbox" for c in report["checks"])
    assert report["open_cases"] == 0 and report["outbox_waiting"] == 0
    code, out = kefu(clock, "--config", str(config), "status")
    assert "overall: OK" in out and "loop sweep: last success 2026-11-02T09:00:00+08:00" in out


def test_plugins_lists_versions_and_what_is_enabled(config, clock):
    code, out = kefu(clock, "--config", str(config), "plugins", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["example"] == {"name": "example", "version": version("kefu"), "distribution": "kefu", "enabled": True}
    assert all(r["enabled"] is False for name, r in rows.items() if name != "example")
    code, out = kefu(clock, "--config", str(config), "plugins")
    assert out.splitlines()[0].split() == ["name", "version", "distribution", "enabled"]


def test_run_refuses_a_database_at_an_older_revision(config, clock, sqlite_url):
    from sqlalchemy import text

    from kefu.db.engine import make_engine

    kefu(clock, "--config", str(config), "db", "upgrade")
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    code, out = kefu(clock, "--config", str(config), "run", "--once")
    assert code == 1 and "at revision 0000" in out and "kefu db upgrade" in out


def test_run_names_an_unreachable_database_without_a_traceback(tmp_path, clock):
    raw = base_config(tmp_path, "postgresql://nobody@127.0.0.1:1/none", ["example"])
    config = write_config(tmp_path / "pg.toml", raw)
    code, out = kefu(clock, "--config", str(config), "run", "--once")
    assert code == 1
    assert "cannot use the database postgresql+psycopg://nobody@127.0.0.1:1/none" in out
    assert "Traceback" not in out
