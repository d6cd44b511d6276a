"""Finding plugins through entry points, registering the enabled ones, calling them safely.

pluggy stops a hook call at the first exception, so the core never calls a whole
hook: it calls each enabled plugin's implementation itself, names the plugin and
the hook in the log when one raises, and goes on with the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

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
        # Plugins are registered here only, so each hook's implementations are found once.
        self._implementations: dict[str, list[tuple[str, Callable[..., Any]]]] = {}
        self.available = available
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
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

    def implementations(self, hook: str) -> list[tuple[str, Callable[..., Any]]]:
        """(plugin name, function) of every enabled plugin implementing ``hook``, in enabled order."""
        found = self._implementations.get(hook)
        if found is None:
            caller = getattr(self.pm.hook, hook)
            by_name = {impl.plugin_name: impl.function for impl in caller.get_hookimpls()}
            found = self._implementations[hook] = [(name, by_name[name]) for name in self.enabled if name in by_name]
        return list(found)

    def call_one(self, hook: str, plugin: str, **kwargs: Any) -> Any:
        """Call ``plugin``'s implementation of ``hook`` (None if it has none); errors as PluginError."""
        for name, func in self.implementations(hook):
            if name == plugin:
                try:
                    return func(**_accepted(func, kwargs))
                except Exception as exc:
                    raise PluginError(plugin, hook, exc) from exc
        return None

    def call_each(
        self,
        hook: str,
        kwargs_for: Callable[[str], dict[str, Any]],
        *,
        isolate: bool = True,
    ) -> list[tuple[str, Any]]:
        """Call every implementation with the kwargs built for its plugin.

        With ``isolate`` a failing plugin is logged (plugin, hook, traceback) and
        skipped; without it the first failure is raised as :class:`PluginError`
        (registration hooks, which must refuse the start).
        """
        results: list[tuple[str, Any]] = []
        for name, func in self.implementations(hook):
            try:
                results.append((name, func(**_accepted(func, kwargs_for(name)))))
            except Exception as exc:
                if not isolate:
                    raise PluginError(name, hook, exc) from exc
                log.exception("plugin %r failed in %s; going on without it", name, hook)
        return results


def _accepted(func: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    # pluggy lets an implementation take a subset of the spec's arguments; so do we.
    names = func.__code__.co_varnames[: func.__code__.co_argcount]
    return {k: v for k, v in kwargs.items() if k in names}
