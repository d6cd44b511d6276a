"""Regenerate the initial revisions from the models (only while nothing is released).

Until the first release each branch has a single initial revision: the core's
(``0001``, branch ``kefu``) and one per in-tree plugin (``<plugin>_0001``, in
``plugins/<plugin>/migrations/``, depending on the core's). Run this after
changing a model: ``python tools/regen_initial_migration.py``. After a release,
append revisions instead: ``kefu db revision <branch> -m "what changed"``.
"""

from __future__ import annotations

from pathlib import Path

from kefu.db.branches import CORE, CORE_VERSIONS, plugin_folders
from kefu.db.new_revision import write_revision

ROOT = Path(__file__).resolve().parent.parent
IN_TREE = ("heating", "complaints")


def main() -> None:
    folders = plugin_folders()
    targets = [(CORE, CORE_VERSIONS, "0001")] + [(name, folders[name], f"{name}_0001") for name in IN_TREE]
    for _name, folder, rev_id in targets:
        for old in folder.glob(f"{rev_id}_*.py"):
            old.unlink()
    for name, folder, rev_id in targets:
        written = write_revision(name, "initial schema" if name == CORE else "initial tables")
        final = folder / f"{rev_id}_initial.py"
        written.rename(final)
        print("wrote", final.relative_to(ROOT))


if __name__ == "__main__":
    main()
