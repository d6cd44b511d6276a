"""Building the running application: config, plugins, registrations, database."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from kefu.clock import Clock, SystemClock
from kefu.config import ConfigError, CoreSettings, config_path, read_toml, validate_settings
from kefu.context import PluginContext
from kefu.db.engine import make_engine, session_factory
from kefu.jobs import CronJob
from kefu.kinds import CaseKind
from kefu.plugin_calls import PluginCalls
from kefu.plugin_host import PluginError, PluginHost, PluginInfo, UnknownPlugin, discover
from kefu.registrations import Registrations, collect_registrations

log = logging.getLogger("kefu")


@dataclass
class App:
    """The parts of a running kefu, built from one config file; rebuilt whole on reload."""

    settings: CoreSettings
    config_path: Path
    clock: Clock
    host: PluginHost
    registrations: Registrations
    engine: Engine
    sessions: sessionmaker[Session]
    warnings: list[str] = field(default_factory=list)
    calls: PluginCalls = field(init=False)

    def __post_init__(self) -> None:
        self.calls = PluginCalls(self.host)

    def context(self, plugin: str, session: Session | None = None) -> PluginContext[Any]:
        """The context handed to ``plugin``'s hooks."""
        return PluginContext(plugin, self, session)

    @property
    def kinds(self) -> dict[str, CaseKind]:
        """Every registered case kind by name."""
        return self.registrations.kinds

    @property
    def jobs(self) -> dict[str, tuple[str, CronJob]]:
        """Every registered cron job by full id, with its plugin."""
        return self.registrations.jobs

    def dispose(self) -> None:
        """Close the database connections."""
        self.engine.dispose()


def load_settings(path: Path, raw: dict[str, Any], available: dict[str, PluginInfo]) -> tuple[CoreSettings, PluginHost]:
    """Validate ``raw`` with the section models of the plugins it enables."""
    enabled = raw.get("plugins", {}).get("enabled", []) if isinstance(raw.get("plugins"), dict) else []
    if not isinstance(enabled, list) or not all(isinstance(n, str) for n in enabled):
        raise ConfigError(path, ["plugins.enabled: expected a list of plugin names"])
    try:
        host = PluginHost(enabled, available)
    except UnknownPlugin as exc:
        raise ConfigError(path, [f"plugins.enabled: {exc}"]) from exc
    except Exception as exc:  # an import error or a misspelt hook in a plugin
        raise ConfigError(path, [f"plugins.enabled: a plugin failed to load: {exc}"]) from exc
    try:
        sections: dict[str, type[BaseModel] | None] = PluginCalls(host).config_sections()
    except PluginError as exc:
        raise ConfigError(path, [str(exc)]) from exc
    return validate_settings(path, raw, sections), host


def build_app(
    path: str | Path | None = None,
    *,
    raw: dict[str, Any] | None = None,
    clock: Clock | None = None,
    available: dict[str, PluginInfo] | None = None,
    engine: Engine | None = None,
) -> App:
    """Read and validate the config, register the plugins, connect the database.

    Raises :class:`ConfigError` for anything a person must fix in the config or a
    plugin: nothing has run yet when it does.
    """
    cfg_path = config_path(path)
    data = raw if raw is not None else read_toml(cfg_path)
    plugins = available if available is not None else discover()
    settings, host = load_settings(cfg_path, data, plugins)
    eng = engine or make_engine(settings.database_url(), echo=settings.database.echo)
    app = App(
        settings=settings,
        config_path=cfg_path,
        clock=clock or SystemClock(),
        host=host,
        registrations=Registrations(),
        engine=eng,
        sessions=session_factory(eng),
    )
    try:
        app.registrations, app.warnings = collect_registrations(app)
    except (PluginError, ValueError) as exc:
        if engine is None:
            eng.dispose()
        raise ConfigError(cfg_path, [str(exc)]) from exc
    # Set up the ORM's mappings of every model (the plugins' too, imported by now) at start,
    # not inside whatever transaction first touches the database: the first mail of the day.
    configure_mappers()
    return app
