"""One Alembic branch per plugin: upgraded and checked only when enabled, read without Alembic."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from kefu.db.branches import CORE, Branch
from kefu.db.engine import make_engine
from kefu.db.revisions import MigrationError, UnreadableRevision, read_graph
from kefu.db.schema import (
    SchemaOutdated,
    branch_states,
    check_schema,
    database_revisions,
    head_revision,
    upgrade,
)

HEATING = {"heating_households", "heating_fees", "heating_callbacks"}
HEAD = head_revision()  # the core's head: 0001 today
COMPLAINTS = {"complaints_homes", "complaints_projects"}


def revision(
    folder: Path,
    rid: str,
    down: str | None = None,
    depends: str | tuple[str, ...] | None = None,
    typed: bool = False,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ann = ": str" if typed else ""
    (folder / f"{rid}_x.py").write_text(
        f"revision{ann} = {rid!r}\ndown_revision = {down!r}\ndepends_on = {depends!r}\n\n"
        "def upgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )


def test_a_plugin_row_stands_for_the_core_revision_it_depends_on(tmp_path):
    core, plugin = tmp_path / "core", tmp_path / "p"
    revision(core, "0001")
    revision(core, "0002", down="0001", typed=True)
    revision(plugin, "p_0001", depends="0001")
    revision(plugin, "p_0002", down="p_0001", depends=("0002",))
    graph = read_graph([Branch(CORE, core), Branch("p", plugin)])
    assert graph.heads(CORE) == ["0002"] and graph.heads("p") == ["p_0002"]
    # What Alembic leaves in alembic_version after `upgrade p_0001`: the dependent only.
    assert graph.current(CORE, ["p_0001"]) == ["0001"]
    assert graph.current("p", ["p_0001"]) == ["p_0001"]
    assert graph.current(CORE, ["p_0001", "0002"]) == ["0002"]
    assert graph.current(CORE, ["p_0002"]) == ["0002"]
    assert graph.current("p", []) == [] and graph.unknown(["p_0001", "zz"]) == ["zz"]


def test_a_revision_standing_on_an_unknown_one_is_named(tmp_path):
    revision(tmp_path / "p", "p_0001", depends="kefu@head")
    with pytest.raises(UnreadableRevision, match=r"p_0001.*kefu@head.*depends_on must name a revision id"):
        read_graph([Branch("p", tmp_path / "p")])


def test_only_the_enabled_plugins_are_upgraded_and_checked(db_url):
    engine = make_engine(db_url)
    done = upgrade(engine, ["example"])
    assert [(d.branch, d.before, d.after) for d in done] == [(CORE, (), (HEAD,))]
    names = set(inspect(engine).get_table_names())
    assert "cases" in names and not names & (HEATING | COMPLAINTS)
    check_schema(engine, ["example"])
    with pytest.raises(SchemaOutdated, match="the code needs revision heating_0001: run `kefu db upgrade`"):
        check_schema(engine, ["example", "heating"])

    done = upgrade(engine, ["heating"])
    assert [(d.branch, d.after) for d in done] == [
        (CORE, (HEAD,)),
        ("heating", ("heating_0001",)),
    ]
    names = set(inspect(engine).get_table_names())
    assert names >= HEATING and not names & COMPLAINTS
    check_schema(engine, ["heating"])
    if HEAD == "0001":  # heating_0001 depends on 0001: its row stands for the core's too
        assert database_revisions(engine) == ["heating_0001"]
    states = [s.as_row() for s in branch_states(engine, ["complaints"])]
    assert states == [
        {"branch": CORE, "enabled": True, "database": HEAD, "code": HEAD, "current": True},
        {
            "branch": "complaints",
            "enabled": True,
            "database": "empty",
            "code": "complaints_0001",
            "current": False,
        },
        {
            "branch": "heating",
            "enabled": False,
            "database": "heating_0001",
            "code": "heating_0001",
            "current": True,
        },
    ]
    upgrade(engine, ["complaints"])
    check_schema(engine, ["heating", "complaints"])
    assert set(inspect(engine).get_table_names()) >= COMPLAINTS
    engine.dispose()


def test_upgrade_refuses_a_revision_no_installed_code_ships(sqlite_url):
    from sqlalchemy import text

    engine = make_engine(sqlite_url)
    upgrade(engine, [])
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'gone_0003'"))
    with pytest.raises(MigrationError, match="at revision gone_0003, which this code does not ship"):
        upgrade(engine, [])
    with pytest.raises(SchemaOutdated, match=f"at revision gone_0003, the code needs revision {HEAD}"):
        check_schema(engine)
    engine.dispose()
