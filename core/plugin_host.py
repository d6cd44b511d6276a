"""Finding plugins through entry points and registering the enabled ones with pluggy.

Hooks are called through :class:`kefu.plugin_calls.PluginCalls` only, which holds
the failure rule of each phase; this module gives it its one primitive,
:meth:`PluginHost.call_one`: one plugin's implementation of one hook, through
pluggy's own hook caller (so pluggy matches the arguments an implementation takes),
its exception raised as a :class:`PluginError` naming plugin and hook.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy
from pluggy import HookCaller

from kefu import hookspecs

ENTRY_POINT_GROUP = "kefu.plugins"
log = logging.getLogger("kefu.plugins")


@dataclass(frozen=True)
class PluginInfo:
    """An installed plugin: its one name, its hooks module and where it came from."""

    name: str
    module: ModuleType | object
    version: str
    distribution: str


class PluginError(Exception):
    """A plugin's hook raised; the message names the plugin and the hook."""

    def __init__(self, plugin: str, hook: str, exc: BaseException) -> None:
        self.plugin, self.hook, self.original = plugin, hook, exc
        super().__init__(f"plugin {plugin!r} failed in {hook}: {type(exc).__name__}: {exc}")


class UnknownHook(LookupError):
    """A plugin implements a function named like a hook that no hookspec declares."""


class UnknownPlugin(LookupError):
    """``[plugins] enabled`` names a plugin that is not installed."""


def discover() -> dict[str, PluginInfo]:
    """Every plugin installed in the ``kefu.plugins`` entry point group, by name."""
    found: dict[str, PluginInfo] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        found[ep.name] = PluginInfo(
            name=ep.name,
            module=_LazyEntryPoint(ep),
            version=dist.version if dist else "?",
            distribution=dist.metadata["Name"] if dist else "?",
        )
    return found


class _LazyEntryPoint:
    """Defers importing a plugin until it is enabled (a broken disabled plugin costs nothing)."""

    def __init__(self, ep: Any) -> None:
        self.ep = ep

    def load(self) -> Any:
        return self.ep.load()


def _load(info: PluginInfo) -> object:
    module = info.module
    return module.load() if isinstance(module, _LazyEntryPoint) else module


class PluginHost:
    """The pluggy manager holding the enabled plugins, in ``enabled`` order."""

    def __init__(self, enabled: Iterable[str], available: dict[str, PluginInfo]) -> None:
        self.enabled: list[str] = list(enabled)
        self.available = available
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        # One hook caller per (hook, plugin), built once: pluggy's subset of a single plugin.
        self._callers: dict[tuple[str, str], _OneCall] = {}
        unknown = [name for name in self.enabled if name not in available]
        if unknown:
            raise UnknownPlugin(
                f"[plugins] enabled names {', '.join(map(repr, unknown))}, which "
                f"{'is' if len(unknown) == 1 else 'are'} not installed; installed: "
                f"{', '.join(sorted(available)) or 'none'}"
            )
        for name in self.enabled:
            self.pm.register(_load(available[name]), name=name)
        # A misspelt hook name (kefu_clasify) is an error at start, not a silent no-op.
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self.pm.get_name(exc.plugin) or "?"
            known = sorted(n for n in dir(hookspecs) if n.startswith("kefu_"))
            wrong = sorted(n for n in dir(self.pm.hook) if n.startswith("kefu_") and n not in known)
            raise UnknownHook(
                f"plugin {name!r} implements {', '.join(wrong) or exc}, which is not a kefu hook "
                f"(check the spelling; the hooks are {', '.join(known)})"
            ) from exc

    def _caller(self, hook: str, plugin: str) -> _OneCall:
        found = self._callers.get((hook, plugin))
        if found is None:
            others = [obj for name, obj in self.pm.list_name_plugin() if name != plugin]
            found = self._callers[(hook, plugin)] = _OneCall(self.pm.subset_hook_caller(hook, remove_plugins=others))
        return found

    def implements(self, hook: str, plugin: str) -> bool:
        """Whether the enabled plugin ``plugin`` implements ``hook``."""
        return self._caller(hook, plugin).impl is not None

    def implementers(self, hook: str) -> list[str]:
        """The enabled plugins implementing ``hook``, in ``enabled`` order."""
        return [name for name in self.enabled if self.implements(hook, name)]

    def call_one(self, hook: str, plugin: str, **kwargs: Any) -> Any:
        """``plugin``'s answer to ``hook`` (None if it does not implement it); its error as PluginError.

        Each implementation gets the arguments it names (a subset of the spec's), as
        pluggy matches them for any hook.
        """
        one = self._callers.get((hook, plugin)) or self._caller(hook, plugin)
        if one.impl is None:
            return None
        try:
            if one.function is not None:
                return one.function(*[kwargs[name] for name in one.argnames])
            return one.through_pluggy(kwargs)
        except Exception as exc:
            raise PluginError(plugin, hook, exc) from exc

    def plugin_of_module(self, module: str) -> str | None:
        """The enabled plugin whose package holds module ``module`` (a plugin's ``cli`` finds itself)."""
        for name, obj in self.pm.list_name_plugin():
            own = obj.__name__ if isinstance(obj, ModuleType) else type(obj).__module__
            package = own.rpartition(".")[0]
            if module == own or (package and module.startswith(package + ".")):
                return name
        return None


class _OneCall:
    """One plugin's implementation of one hook, called with the arguments pluggy found it names.

    pluggy's subset hook caller finds the implementation and its argument names
    (``HookImpl.argnames``); a plain implementation is then called with those
    directly, which is what the caller does for a single implementation without
    its per-call bookkeeping (the sweep calls one per due deadline). A wrapper
    implementation goes through the hook caller itself.
    """

    __slots__ = ("argnames", "caller", "first", "function", "impl")

    def __init__(self, caller: HookCaller) -> None:
        impls = caller.get_hookimpls()
        self.caller = caller
        self.impl = impls[0] if impls else None
        self.first = bool(caller.spec is not None and caller.spec.opts.get("firstresult"))
        plain = self.impl is not None and not (self.impl.hookwrapper or self.impl.wrapper)
        self.function = self.impl.function if plain and self.impl is not None else None
        self.argnames = tuple(self.impl.argnames) if self.impl is not None else ()

    def through_pluggy(self, kwargs: dict[str, Any]) -> Any:
        """The answer as pluggy's hook caller gives it (for a wrapper implementation)."""
        result = self.caller(**kwargs)
        return result if self.first else (result[0] if result else None)
