"""Meta-tests of the plugin contract (datasette's test_plugin_hooks_have_tests, tox's check_pending):
every hook is documented, implemented and exercised by a test; every installed plugin loads
and its config section forbids unknown keys."""

from __future__ import annotations

import ast
import inspect
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from kefu import hookspecs
from kefu.plugin_calls import PluginCalls
from kefu.plugin_host import ENTRY_POINT_GROUP, PluginHost, discover

from .recorder_plugin import Recorder

TESTS = Path(__file__).resolve().parents[1]
HOOKS = sorted(name for name, obj in vars(hookspecs).items() if name.startswith("kefu_") and inspect.isfunction(obj))
PLUGINS = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def test_the_hook_list_is_what_architecture_md_expects():
    assert set(HOOKS) >= {
        "kefu_config_section",
        "kefu_case_kinds",
        "kefu_schedule",
        "kefu_classify",
        "kefu_case_opened",
        "kefu_case_changed",
        "kefu_deadline_due",
        "kefu_cli",
        "kefu_http",
    }


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hookspec_is_documented_when_and_how(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc) > 150, f"{hook}: the docstring must say when it is called and what to return"
    assert "called" in doc.lower(), f"{hook}: say when it is called"
    spec_opts = getattr(getattr(hookspecs, hook), "kefu_spec", {})
    if spec_opts.get("firstresult"):
        assert "first" in doc, f"{hook} is firstresult: say so in words"


def _test_names() -> set[str]:
    names = set()
    for path in TESTS.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    return names


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test_named_after_it(hook):
    assert any(name.startswith(f"test_hook_{hook}") for name in _test_names()), (
        f"write test_hook_{hook} (tests/contract/test_hooks.py) calling it through the core"
    )


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_implemented_by_the_contract_plugin(hook):
    assert callable(getattr(Recorder, hook, None)), f"tests/contract/recorder_plugin.py lacks {hook}"


@pytest.mark.parametrize("name", PLUGINS)
def test_every_installed_plugin_loads_registers_and_its_section_forbids_unknown_keys(name):
    info = discover()[name]
    host = PluginHost([name], {name: info})  # loads the entry point; check_pending passes
    assert info.version and info.version != "?"
    sections = PluginCalls(host).config_sections()
    for model in sections.values():
        if model is None:
            continue
        assert issubclass(model, BaseModel)
        assert model.model_config.get("extra") == "forbid", f"[{name}] must forbid unknown keys"
        with pytest.raises(ValidationError, match=r"extra_forbidden|Extra inputs"):
            model.model_validate({"definitely_not_a_key": 1})


@pytest.mark.parametrize("name", PLUGINS)
def test_every_installed_plugins_hooks_are_real_hooks(name):
    module = discover()[name].module.load()
    impls = [n for n in dir(module) if n.startswith("kefu_") and callable(getattr(module, n))]
    assert impls, f"plugin {name!r} implements no hook"
    assert set(impls) <= set(HOOKS), f"plugin {name!r}: unknown hooks {set(impls) - set(HOOKS)}"
