"""A plugin installed from outside the repository brings its own table through ``kefu db upgrade``.

tests/outside_plugin/kefu_notes is installed as pip would leave it: the package and a
``kefu_notes-0.1.dist-info`` (METADATA, entry_points.txt naming ``notes`` in
``kefu.plugins``) in a folder on the ``PYTHONPATH`` of a real ``kefu`` process. The
test process never imports it, so its model stays out of the metadata other tests
compare with the migrations.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from kefu.db.engine import make_engine
from kefu.db.schema import head_revision
from kefu.testing.daemons import write_config
from kefu.testing.fixtures import base_config

CORE_HEAD = head_revision()  # 0001 today; another core revision must not break these tests
PLUGIN = Path(__file__).resolve().parent.parent / "outside_plugin" / "kefu_notes"


def install(site: Path, *, with_migrations: bool = True) -> Path:
    """Install kefu_notes into ``site`` (a folder for PYTHONPATH) as a distribution."""
    ignore = ["__pycache__"] + ([] if with_migrations else ["migrations"])
    shutil.copytree(PLUGIN, site / "kefu_notes", ignore=shutil.ignore_patterns(*ignore))
    dist = site / "kefu_notes-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kefu-notes\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[kefu.plugins]\nnotes = kefu_notes.hooks\n", encoding="utf-8")
    return site


def kefu(site: Path, *args: str) -> tuple[int, str]:
    """Run the real ``kefu`` command with ``site`` installed; exit code and stdout+stderr."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
    )
    env.pop("KEFU_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", "from kefu.cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def config(tmp_path: Path, url: str, plugins: list[str], name: str = "kefu.toml") -> str:
    return str(write_config(tmp_path / name, base_config(tmp_path, url, plugins)))


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return install(tmp_path / "site")


def test_db_upgrade_creates_the_outside_plugins_table_and_current_lists_it(site, tmp_path, db_url):
    cfg = config(tmp_path, db_url, ["example", "notes"])
    code, out = kefu(site, "--config", cfg, "db", "upgrade")
    assert code == 0, out
    assert f"database upgraded from empty to {CORE_HEAD}" in out
    assert "plugin notes: from empty to notes_0001" in out
    assert "notes_items" in tables(db_url)
    engine = make_engine(db_url)
    with engine.begin() as conn:  # a real table: the core's cases are its foreign key's target
        conn.execute(
            text("INSERT INTO notes_items (author, text, created_at) VALUES ('li', '记录', '2026-11-02 01:00:00')")
        )
    engine.dispose()
    code, out = kefu(site, "--config", cfg, "db", "current", "--json")
    assert code == 0, out
    rows = {row["branch"]: row for row in json.loads(out)}
    assert rows["kefu"] == {
        "branch": "kefu",
        "enabled": True,
        "database": CORE_HEAD,
        "code": CORE_HEAD,
        "current": True,
    }
    assert rows["notes"] == {
        "branch": "notes",
        "enabled": True,
        "database": "notes_0001",
        "code": "notes_0001",
        "current": True,
    }
    code, out = kefu(site, "--config", cfg, "run", "--once")
    assert code == 0, out


def test_a_disabled_plugin_gets_no_table_and_enabling_it_asks_for_an_upgrade(site, tmp_path, sqlite_url):
    without = config(tmp_path, sqlite_url, ["example"])
    code, out = kefu(site, "--config", without, "db", "upgrade")
    assert code == 0, out
    assert "notes" not in out and "notes_items" not in tables(sqlite_url)
    code, out = kefu(site, "--config", without, "db", "current")
    assert code == 0 and "notes" not in out, out

    with_notes = config(tmp_path, sqlite_url, ["example", "notes"], name="notes.toml")
    code, out = kefu(site, "--config", with_notes, "run", "--once")
    assert code == 1
    assert "the code needs revision notes_0001" in out and "run `kefu db upgrade`" in out
    code, out = kefu(site, "--config", with_notes, "db", "current")
    assert code == 0
    notes_line = next(line for line in out.splitlines() if line.startswith("notes"))
    assert notes_line.split() == ["notes", "True", "empty", "notes_0001", "False"]
    code, out = kefu(site, "--config", with_notes, "db", "upgrade")
    assert code == 0 and "plugin notes: from empty to notes_0001" in out, out
    assert "notes_items" in tables(sqlite_url)
    code, out = kefu(site, "--config", with_notes, "run", "--once")
    assert code == 0, out

    # Disabled again, its table stays and `db current` still shows whose it is.
    code, out = kefu(site, "--config", without, "db", "current", "--json")
    rows = {row["branch"]: row for row in json.loads(out)}
    assert rows["notes"]["enabled"] is False and rows["notes"]["database"] == "notes_0001"


def test_db_revision_writes_the_plugins_first_revision_into_its_package(tmp_path):
    site = install(tmp_path / "site", with_migrations=False)
    code, out = kefu(site, "db", "revision", "notes", "-m", "initial tables")
    assert code == 0, out
    written = list((site / "kefu_notes" / "migrations").glob("notes_0001_*.py"))
    assert [p.name for p in written] == ["notes_0001_initial_tables.py"], out
    body = written[0].read_text(encoding="utf-8")
    assert "branch_labels = ('notes',)" in body and f"depends_on = '{CORE_HEAD}'" in body
    assert "import kefu.api.tables" in body and "kefu.db" not in body
    # The committed revision's schema is exactly what the command writes from the model.
    committed = (PLUGIN / "migrations" / "notes_0001_initial.py").read_text(encoding="utf-8")
    assert body[body.index("def upgrade") :] == committed[committed.index("def upgrade") :]

    code, out = kefu(site, "db", "revision", "nobody", "-m", "x")
    assert code == 1 and "no installed plugin is named 'nobody'" in out


def test_a_changed_model_gets_an_appended_revision_of_its_branch_only(tmp_path, sqlite_url):
    site = install(tmp_path / "site")
    models = site / "kefu_notes" / "models.py"
    models.write_text(
        models.read_text(encoding="utf-8") + "    pinned: Mapped[bool] = mapped_column(default=False)\n",
        encoding="utf-8",
    )
    cfg = config(tmp_path, sqlite_url, ["example", "heating", "notes"])
    assert kefu(site, "--config", cfg, "db", "upgrade")[0] == 0

    code, out = kefu(site, "db", "revision", "notes", "-m", "add pinned")
    assert code == 0, out
    written = site / "kefu_notes" / "migrations" / "notes_0002_add_pinned.py"
    body = written.read_text(encoding="utf-8")
    assert "down_revision = 'notes_0001'" in body and "depends_on = None" in body
    upgrade_body = body[body.index("def upgrade") : body.index("def downgrade")]
    assert "add_column(sa.Column('pinned'" in upgrade_body
    assert "heating" not in body and "cases" not in upgrade_body  # nobody else's tables

    code, out = kefu(site, "--config", cfg, "run", "--once")
    assert code == 1 and "the code needs revision notes_0002" in out, out
    code, out = kefu(site, "--config", cfg, "db", "upgrade")
    assert code == 0 and "plugin notes: from notes_0001 to notes_0002" in out, out
    assert "plugin heating: from heating_0001 to heating_0001" in out
    engine = make_engine(sqlite_url)
    columns = {c["name"] for c in inspect(engine).get_columns("notes_items")}
    engine.dispose()
    assert "pinned" in columns
