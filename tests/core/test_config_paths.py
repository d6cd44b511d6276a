"""Paths in the config are read as seen from the config file, not from the current directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.app import build_app
from kefu.testing.daemons import write_config

ROOT = Path(__file__).resolve().parents[2]


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    config = write_config(
        site / "kefu.toml",
        {
            "kefu": {"state_dir": "state"},
            "channels": {"maildir": {"box": {"path": "state/maildir"}}},
            "outbound": {"spool": {"path": "../spool"}},
        },
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    app = build_app(Path("..") / "site" / "kefu.toml")
    try:
        s = app.settings
        assert s.kefu.state_dir == site / "state"  # absolute, `..` folded
        assert s.kefu.state_dir.resolve() == site / "state"
        assert s.channels.maildir["box"].path.resolve() == site / "state" / "maildir"
        assert s.outbound.spool.path is not None and s.outbound.spool.path.resolve() == tmp_path / "spool"
        assert Path(app.engine.url.database or "").resolve() == site / "state" / "kefu.db"
    finally:
        app.dispose()
    assert config.exists()


def test_the_demo_state_is_the_same_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = build_app(ROOT / "examples" / "demo.toml")
    try:
        assert app.settings.kefu.state_dir.resolve() == ROOT / "demo-state"
        assert app.settings.channels.maildir["heating"].path.resolve() == ROOT / "demo-state" / "maildir"
    finally:
        app.dispose()
