"""Writing a new revision of one branch (``kefu db revision``, tools/regen_initial_migration.py).

Autogenerate compares the models with a throw-away SQLite database brought to every
installed branch's head, never with a configured one: a revision is code, written
the same on every machine, and nobody's data is touched to write it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from kefu.db.branches import CORE, Branch, installed_branches, plugin_folders
from kefu.db.engine import make_engine
from kefu.db.revisions import MigrationError, read_graph
from kefu.db.schema import alembic_config, upgrade


def branch_of(name: str) -> Branch:
    """The branch ``name`` (``kefu`` or an installed plugin), its folder created if missing."""
    if name == CORE:
        return installed_branches()[0]
    folders = plugin_folders()
    if name not in folders:
        raise MigrationError(
            f"no installed plugin is named {name!r}; installed: {', '.join(sorted(folders)) or 'none'}"
        )
    folder = folders[name]
    if not folder.is_dir():
        folder.mkdir()
        # A package, so that building a wheel ships the revision files with the plugin.
        (folder / "__init__.py").write_text(
            f'"""The {name} plugin\'s schema revisions (Alembic)."""\n', encoding="utf-8"
        )
    return Branch(name, folder)


def write_revision(name: str, message: str, *, autogenerate: bool = True, depends_on: str | None = None) -> Path:
    """Write the next revision of branch ``name`` and return its file.

    A plugin's first revision starts a new base labelled with the plugin's name and
    depends on the core's head (or ``depends_on``); later ones follow the branch's head.
    """
    from alembic.util import CommandError

    try:
        return _write(name, message, autogenerate, depends_on)
    except CommandError as exc:
        raise MigrationError(f"cannot write a revision of {name!r}: {exc}") from exc


def _write(name: str, message: str, autogenerate: bool, depends_on: str | None) -> Path:
    from alembic import command

    target = branch_of(name)
    branches = [b for b in installed_branches() if b.name != name]
    branches.insert(0 if target.is_core else len(branches), target)
    graph = read_graph(branches)
    heads = graph.heads(name)
    if len(heads) > 1:
        raise MigrationError(f"branch {name!r} has several heads ({', '.join(heads)}): merge them first")
    number = sum(1 for rev in graph.revisions.values() if rev.branch == name) + 1
    rev_id = f"{number:04d}" if target.is_core else f"{name}_{number:04d}"
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/autogenerate.db")
        try:
            if autogenerate:
                upgrade(engine)
            cfg = alembic_config(engine, branches)
            cfg.attributes["owner"] = name
            if heads:
                scripts = command.revision(
                    cfg,
                    message=message,
                    autogenerate=autogenerate,
                    head=heads[0],
                    rev_id=rev_id,
                    depends_on=depends_on,
                )
            else:
                core = depends_on or (None if target.is_core else read_graph(branches[:1]).heads(CORE)[0])
                scripts = command.revision(
                    cfg,
                    message=message,
                    autogenerate=autogenerate,
                    head="base",
                    branch_label=name,
                    version_path=str(target.folder),
                    rev_id=rev_id,
                    depends_on=core,
                )
        finally:
            engine.dispose()
    script = scripts[0] if isinstance(scripts, list) else scripts
    if script is None:
        raise MigrationError("alembic wrote no revision")
    return Path(script.path)
