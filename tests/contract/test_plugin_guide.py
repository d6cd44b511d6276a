"""docs/plugins.md stays true: it names every hook, and what it shows of kefu.api and ctx exists."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import kefu.api
from kefu import hookspecs
from kefu.api import PluginContext

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
HOOKS = sorted(name for name, obj in vars(hookspecs).items() if name.startswith("kefu_") and inspect.isfunction(obj))


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


@pytest.mark.parametrize("hook", HOOKS)
def test_the_guide_explains_every_hook(guide: str, hook: str) -> None:
    assert f"`{hook}(" in guide, f"docs/plugins.md: say when {hook} is called and what it returns"


def test_every_ctx_member_the_guide_names_exists(guide: str) -> None:
    named = set(re.findall(r"\bctx\.([a-z_]+)", guide))
    assert named, "the guide shows how a plugin acts through ctx"
    missing = sorted(n for n in named if not hasattr(PluginContext, n))
    assert missing == [], f"docs/plugins.md names ctx members that do not exist: {missing}"


def test_every_name_the_guide_imports_from_kefu_api_exists(guide: str) -> None:
    imported: set[str] = set()
    for names in re.findall(r"^from kefu\.api import (.+)$", guide, flags=re.M):
        imported |= {n.strip() for n in names.split(",")}
    assert imported, "the guide's examples import from kefu.api"
    assert sorted(imported - set(kefu.api.__all__)) == []
