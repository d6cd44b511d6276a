"""Regenerate the initial migration from the models (only while nothing is released).

Until the first release the schema has a single migration; run this after
changing a model: ``python tools/regen_initial_migration.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from kefu.db.engine import make_engine
from kefu.db.schema import alembic_config

VERSIONS = Path(__file__).resolve().parent.parent / "core" / "migrations" / "versions"


def main() -> None:
    for old in VERSIONS.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/empty.db")
        cfg = alembic_config(engine)
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
        engine.dispose()
    for new in VERSIONS.glob("0001_*.py"):
        new.rename(VERSIONS / "0001_initial.py")
    print("wrote", VERSIONS / "0001_initial.py")


if __name__ == "__main__":
    main()
