"""The plugin surface holds: a module under plugins/ imports from the core only ``kefu.api``.

Read with ``ast`` (an import inside a function or under ``TYPE_CHECKING`` counts the
same), so a plugin that reaches into ``kefu.sla.cases`` or ``kefu.db.engine`` fails
here, naming the file, the line and what to import instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def _plugin_modules() -> list[Path]:
    return sorted(p for p in PLUGINS.rglob("*.py") if p.relative_to(PLUGINS).parts[0] != "__init__.py")


def _allowed(module: str, own: str) -> bool:
    return module in ("kefu.api", own) or module.startswith(("kefu.api.", own + "."))


def boundary_violations(source: str, plugin: str) -> list[tuple[int, str]]:
    """(line, import) of every import in ``source`` reaching a ``kefu`` module other than kefu.api and
    the plugin's own package, in line order."""
    own = f"kefu.plugins.{plugin}"
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(
                (node.lineno, f"import {alias.name}")
                for alias in node.names
                if alias.name.split(".")[0] == "kefu" and not _allowed(alias.name, own)
            )
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module.split(".")[0] == "kefu"
            and not _allowed(node.module, own)
        ):
            found.extend(
                (node.lineno, f"from {node.module} import {alias.name}")
                for alias in node.names
                if not (node.module == "kefu" and _allowed(f"kefu.{alias.name}", own))  # from kefu import api
            )
    return sorted(found)


@pytest.mark.parametrize("path", _plugin_modules(), ids=lambda p: str(p.relative_to(PLUGINS)))
def test_every_plugin_module_imports_the_core_only_through_kefu_api(path: Path) -> None:
    plugin = path.relative_to(PLUGINS).parts[0]
    where = path.relative_to(PLUGINS.parent)
    violations = [
        f"{where}:{line}: {text}" for line, text in boundary_violations(path.read_text(encoding="utf-8"), plugin)
    ]
    assert not violations, (
        "a plugin imports from the core only kefu.api (and its submodules) and its own package; "
        "use the names kefu.api exports and the ctx methods instead:\n  " + "\n  ".join(violations)
    )


def test_the_boundary_check_catches_a_reach_into_the_core() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import kefu.sla.cases\n"
        "from kefu.api import hookimpl\n"
        "from kefu.api.imports import something\n"
        "from kefu.plugins.sneaky.rules import x\n"
        "from kefu.plugins.heating import rules\n"
        "from kefu import app, api\n"
        "if TYPE_CHECKING:\n"
        "    from kefu.context import PluginContext\n"
        "def f():\n"
        "    from kefu.outbound.outbox import queue_message\n"
    )
    assert boundary_violations(source, "sneaky") == [
        (2, "import kefu.sla.cases"),
        (6, "from kefu.plugins.heating import rules"),  # another plugin's package is not this one's
        (7, "from kefu import app"),
        (9, "from kefu.context import PluginContext"),
        (11, "from kefu.outbound.outbox import queue_message"),
    ]


def test_every_plugin_is_checked() -> None:
    checked = {p.relative_to(PLUGINS).parts[0] for p in _plugin_modules()}
    assert {"heating", "complaints", "example"} <= checked
