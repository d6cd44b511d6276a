"""The tables of installed plugins: importing their ``models`` modules, and who owns each table.

A plugin's models live in the ``models`` module beside its hooks module (the module
its ``kefu.plugins`` entry point names), as its ``migrations/`` folder does.
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points

from kefu.db.base import Base
from kefu.db.branches import CORE
from kefu.plugin_host import ENTRY_POINT_GROUP

log = logging.getLogger("kefu.db")


def plugin_packages() -> dict[str, str]:
    """The package holding each installed plugin's hooks module, by plugin name."""
    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        package, dot, _module = ep.module.rpartition(".")
        if dot:
            found[ep.name] = package
    return found


def import_plugin_models() -> list[str]:
    """Import ``<plugin package>.models`` for each installed plugin that has one."""
    imported = []
    for package in plugin_packages().values():
        try:
            importlib.import_module(f"{package}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"{package}.models":
                raise
            continue
        imported.append(package)
    return imported


def table_owners() -> dict[str, str]:
    """Each declared table's branch: the plugin whose package defines its model, else ``kefu``."""
    packages = plugin_packages()

    def owner_of(module: str) -> str:
        for name, package in packages.items():
            if module == package or module.startswith(package + "."):
                return name
        return CORE

    owners: dict[str, str] = {}
    for mapper in Base.registry.mappers:
        for table in mapper.tables:
            owners[table.name] = owner_of(mapper.class_.__module__)
    # A table declared without a class is owned by its name's prefix (heating_…), as tables are named.
    for name in Base.metadata.tables:
        if name not in owners:
            owners[name] = next((p for p in packages if name.startswith(f"{p}_")), CORE)
    return owners
