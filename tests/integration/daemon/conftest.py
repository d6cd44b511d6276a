"""Fixtures that run real ``kefu run`` processes against a config written to ``tmp_path``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kefu.testing.daemons import DaemonProcess, write_config

from .support import PROBE


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    """``start_daemon(config_dict, name=..., probe=True, env={...})`` → a running DaemonProcess."""
    started: list[DaemonProcess] = []

    def start(
        config: dict[str, Any], *, name: str = "kefu", probe: bool = False, env: dict[str, str] | None = None
    ) -> DaemonProcess:
        path = write_config(tmp_path / f"{name}.toml", config)
        proc = DaemonProcess(path, tmp_path, name=name, plugins={"probe": PROBE} if probe else None, env=env)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.close()
