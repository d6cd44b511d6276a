"""The configuration file: one TOML file validated into typed models at start.

The core sections are declared here; each enabled plugin contributes the model of
its own section (``kefu_config_section``), named after the plugin. Every model
forbids unknown keys, so a typo is an error that names the file and the key.
"""

from __future__ import annotations

import os
import socket
import tomllib
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from kefu.calendar_config import CalendarSection
from kefu.channels.config import ChannelsSection
from kefu.console.config import ConsoleSection
from kefu.durations import Duration
from kefu.phones import known_country
from kefu.secrets import find_secret
from kefu.senders.config import OutboundSection
from kefu.sla.config import SlaSection
from kefu.staff_config import StaffSection
from kefu.twilio_config import TwilioSection

DEFAULT_CONFIG_PATH = Path("/etc/kefu/kefu.toml")


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are errors, values are not coerced loosely."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class KefuSection(StrictModel):
    """``[kefu]``: where the daemon keeps its state and which zone people live in."""

    state_dir: Path = Path("/var/lib/kefu")
    timezone: str = "Asia/Shanghai"
    site_name: str = "客服中心"
    node_name: str = Field(
        default_factory=socket.gethostname,
        description="a label for people (logs, outbox listings); claims name the process itself",
    )
    link_secret: str | None = Field(
        default=None,
        description="name of the secret that signs our outbound Message-IDs (threading)",
    )
    default_country: str = Field(
        default="CN",
        description="region assumed for phone numbers written without +country (CN, HK …)",
    )

    @field_validator("default_country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        return known_country(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. 'Asia/Shanghai')") from exc
        return value


class DatabaseSection(StrictModel):
    """``[database]``: SQLite in the state directory by default, or a PostgreSQL URL."""

    url: str | None = None
    password_secret: str | None = None
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _no_inline_password(cls, value: str | None) -> str | None:
        if value and "://" in value:
            netloc = value.split("://", 1)[1].split("/", 1)[0]
            if "@" in netloc and ":" in netloc.split("@", 1)[0]:
                raise ValueError(
                    "the URL holds a password; secrets never go in the TOML: remove it and set password_secret"
                )
        return value


class PluginsSection(StrictModel):
    """``[plugins]``: which installed plugins run, in the order classification asks them."""

    enabled: list[str] = Field(default_factory=list)


class HttpSection(StrictModel):
    """``[http]``: the listener for webhooks, the hotline API, health and metrics."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8480, ge=0, le=65535)
    public_url: str | None = Field(
        default=None,
        description="the URL the outside world (Twilio) calls; webhook signatures bind it",
    )


class SchedulerSection(StrictModel):
    """``[scheduler]``: how often the daemon's own loops run."""

    sweep_interval: Duration = timedelta(seconds=30)
    dispatch_interval: Duration = timedelta(seconds=10)
    intake_interval: Duration = timedelta(seconds=30)
    watchdog_stall: Duration = timedelta(minutes=5)


class CoreSettings(StrictModel):
    """Every core section; plugin sections are added by :func:`settings_model`."""

    kefu: KefuSection = Field(default_factory=KefuSection)
    database: DatabaseSection = Field(default_factory=DatabaseSection)
    plugins: PluginsSection = Field(default_factory=PluginsSection)
    http: HttpSection = Field(default_factory=HttpSection)
    console: ConsoleSection = Field(default_factory=ConsoleSection)
    scheduler: SchedulerSection = Field(default_factory=SchedulerSection)
    calendar: CalendarSection = Field(default_factory=CalendarSection)
    staff: StaffSection = Field(default_factory=StaffSection)
    sla: SlaSection = Field(default_factory=SlaSection)
    channels: ChannelsSection = Field(default_factory=ChannelsSection)
    outbound: OutboundSection = Field(default_factory=OutboundSection)
    twilio: TwilioSection = Field(default_factory=TwilioSection)

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.kefu.timezone)

    def database_url(self) -> str:
        """The SQLAlchemy URL, with the password from its secret where one is named."""
        url = self.database.url or f"sqlite:///{self.kefu.state_dir / 'kefu.db'}"
        if self.database.password_secret:
            from sqlalchemy.engine import make_url

            password = find_secret(self.database.password_secret) or ""
            return make_url(url).set(password=password).render_as_string(hide_password=False)
        return url

    @model_validator(mode="after")
    def _channel_plugins_enabled(self) -> CoreSettings:
        problems = []
        for name, cfg in self.channels.named():
            unknown = [p for p in cfg.plugins or () if p not in self.plugins.enabled]
            if unknown:
                key = name.replace(":", ".")
                problems.append(
                    f"channels.{key}.plugins: {', '.join(map(repr, unknown))} not in [plugins] "
                    f"enabled ({', '.join(self.plugins.enabled) or 'none enabled'})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def plugin_section(self, name: str) -> BaseModel | None:
        """The validated section of plugin ``name`` (None if the plugin declares none)."""
        return getattr(self, name, None)


class ConfigError(Exception):
    """The config file is unreadable or invalid; the message names file, key and expectation."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = Path(path)
        self.problems = problems
        super().__init__(f"{path}: invalid configuration\n" + "\n".join(f"  - {p}" for p in problems))


def config_path(explicit: str | Path | None = None) -> Path:
    """The config file to read: ``--config``, else ``$KEFU_CONFIG``, else /etc/kefu/kefu.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("KEFU_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_PATH


def read_toml(path: Path) -> dict[str, Any]:
    """Read the TOML file, turning I/O and syntax errors into :class:`ConfigError`."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(path, ["file not found (set --config or KEFU_CONFIG)"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"TOML syntax error: {exc}"]) from exc
    except OSError as exc:
        raise ConfigError(path, [f"cannot read: {exc}"]) from exc


def settings_model(sections: Mapping[str, type[BaseModel] | None]) -> type[CoreSettings]:
    """Build the settings model: the core sections plus one optional section per plugin."""
    fields: dict[str, Any] = {}
    for name, model in sections.items():
        if model is None:
            continue
        if name in CoreSettings.model_fields:
            raise ValueError(f"plugin {name!r} clashes with the core section [{name}]")
        fields[name] = (model, Field(default_factory=model))
    return create_model("Settings", __base__=CoreSettings, **fields)


def format_validation_error(exc: ValidationError) -> list[str]:
    """Turn pydantic's errors into 'key.path: what was wrong (what was expected)' lines."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key (check the spelling; see examples/)")
        elif err["type"] == "missing":
            lines.append(f"{key}: required key is missing")
        else:
            got = err.get("input")
            shown = f" (got {got!r})" if not isinstance(got, dict | list) else ""
            lines.append(f"{key}: {err['msg']}{shown}")
    return lines


def iter_secret_refs(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Yield (key path, secret name) for every ``*_secret`` field set in the config."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if name.endswith("_secret") and isinstance(value, str):
            yield key, value
        elif isinstance(value, BaseModel):
            yield from iter_secret_refs(value, key + ".")
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, BaseModel):
                    yield from iter_secret_refs(v, f"{key}.{k}.")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, BaseModel):
                    yield from iter_secret_refs(v, f"{key}.{i}.")


def anchor_paths(model: BaseModel, base: Path) -> BaseModel:
    """``model`` with every relative path in it (any section, plugins' too) made relative to ``base``.

    A config names paths as seen from the config file, so ``kefu --config examples/demo.toml``
    finds the same state directory from whatever directory it is run.
    """
    updates = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        anchored = _anchored(value, base)
        if anchored is not value:
            updates[name] = anchored
    return model.model_copy(update=updates) if updates else model


def _anchored(value: Any, base: Path) -> Any:
    if isinstance(value, Path):
        # normpath, not resolve(): `..` is folded for people to read, symbolic links are kept.
        return value if value.is_absolute() else Path(os.path.normpath(base / value))
    if isinstance(value, BaseModel):
        return anchor_paths(value, base)
    if isinstance(value, dict):
        items = {k: _anchored(v, base) for k, v in value.items()}
        return items if any(items[k] is not value[k] for k in value) else value
    if isinstance(value, list | tuple):
        seq = [_anchored(v, base) for v in value]
        return type(value)(seq) if any(a is not b for a, b in zip(seq, value, strict=True)) else value
    return value


def validate_settings(path: Path, raw: dict[str, Any], sections: Mapping[str, type[BaseModel] | None]) -> CoreSettings:
    """Validate ``raw`` against the core and plugin section models; check every secret exists."""
    model = settings_model(sections)
    try:
        # Staff phones are normalised with the site's country, read before the rest.
        country = (raw.get("kefu") or {}).get("default_country", "CN")
        settings = model.model_validate(raw, context={"country": country})
    except ValidationError as exc:
        raise ConfigError(path, format_validation_error(exc)) from exc
    settings = cast(CoreSettings, anchor_paths(settings, Path(path).absolute().parent))
    missing = [
        f"{key}: secret {name!r} is not provided (set KEFU_{name.upper().replace('-', '_').replace('.', '_')} "
        f"or the systemd credential {name!r})"
        for key, name in iter_secret_refs(settings)
        if find_secret(name) is None
    ]
    if missing:
        raise ConfigError(path, missing)
    return settings
