"""Importing the ``models`` module of every installed plugin, so migrations see its tables."""

from __future__ import annotations

import importlib
import logging

from kefu.plugin_host import ENTRY_POINT_GROUP

log = logging.getLogger("kefu.db")


def import_plugin_models() -> list[str]:
    """Import ``<plugin package>.models`` for each installed plugin that has one."""
    from importlib.metadata import entry_points

    imported = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        package = ep.module.rsplit(".", 1)[0]
        try:
            importlib.import_module(f"{package}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"{package}.models":
                raise
            continue
        imported.append(package)
    return imported
