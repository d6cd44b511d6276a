"""Where each migration branch lives: the core's, and one per plugin that ships tables.

A plugin's revisions are found by convention, not by a hook: the ``migrations/``
folder beside the module its ``kefu.plugins`` entry point names (its hooks module).
Nothing is imported to find it but the plugin's package ``__init__``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from kefu.plugin_host import ENTRY_POINT_GROUP

CORE = "kefu"
CORE_VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


@dataclass(frozen=True)
class Branch:
    """One line of revisions: its name (``kefu`` or the plugin's) and its folder."""

    name: str
    folder: Path

    @property
    def is_core(self) -> bool:
        """True for the core's own branch."""
        return self.name == CORE


def plugin_folders() -> dict[str, Path]:
    """The migrations folder of every installed plugin, by plugin name (existing or not)."""
    return dict(_folders())


@cache
def _folders() -> tuple[tuple[str, Path], ...]:
    # Scanning every distribution's entry points is most of the start-up check's time, and
    # what is installed does not change under a running process; whether a folder exists
    # is asked again each time (kefu db revision creates it).
    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        folder = _beside(ep.module)
        if folder is not None:
            found.append((ep.name, folder))
    return tuple(found)


def installed_branches() -> list[Branch]:
    """The core's branch, then every installed plugin's that ships revisions."""
    found = [Branch(CORE, CORE_VERSIONS)]
    for name, folder in sorted(plugin_folders().items()):
        if name == CORE:
            raise ValueError(f"a plugin may not be named {CORE!r}: that is the core's migration branch")
        if folder.is_dir():
            found.append(Branch(name, folder))
    return found


def select(branches: Iterable[Branch], plugins: Iterable[str] | None) -> list[Branch]:
    """The core's branch and those of ``plugins`` (None: all of ``branches``), in that order."""
    listed = list(branches)
    if plugins is None:
        return listed
    wanted = list(plugins)
    by_name = {b.name: b for b in listed}
    return [by_name[CORE], *(by_name[name] for name in wanted if name in by_name and name != CORE)]


def _beside(module: str) -> Path | None:
    # find_spec locates the hooks module without running it (only its parent packages load).
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.has_location:
        return None
    return Path(spec.origin).resolve().parent / "migrations"
