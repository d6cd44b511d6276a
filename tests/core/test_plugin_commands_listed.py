"""Every installed plugin shows in ``kefu --help``; a disabled one says how to enable it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kefu.cli.main import KefuGroup, cli
from kefu.testing.daemons import write_config
from kefu.testing.fixtures import base_config


def fresh() -> KefuGroup:
    # The module's group keeps the commands it added; each test starts from the core ones.
    return KefuGroup(name="kefu", callback=cli.callback, params=cli.params, commands=dict(cli.commands))


@pytest.fixture
def example_only(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = write_config(tmp_path / "kefu.toml", base_config(tmp_path, sqlite_url, ["example"]))
    monkeypatch.setenv("KEFU_CONFIG", str(config))
    return config


def test_help_lists_the_installed_plugins_that_are_not_enabled(example_only: Path) -> None:
    result = CliRunner().invoke(fresh(), ["--help"])
    assert result.exit_code == 0
    assert "heating       plugin heating, not enabled in this config" in result.output
    assert "complaints    plugin complaints, not enabled" in result.output


@pytest.mark.parametrize("args", [["heating", "--help"], ["heating", "import", "households", "x.csv"]])
def test_a_disabled_plugins_command_says_how_to_enable_it(example_only: Path, args: list[str]) -> None:
    result = CliRunner().invoke(fresh(), args)
    assert result.exit_code == 1
    assert 'add "heating" to [plugins] enabled' in result.output
    assert "No such command" not in result.output


def test_an_enabled_plugins_commands_are_its_own(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "kefu.toml", base_config(tmp_path, sqlite_url, ["heating"]))
    monkeypatch.setenv("KEFU_CONFIG", str(config))
    result = CliRunner().invoke(fresh(), ["heating", "--help"])
    assert result.exit_code == 0 and "Usage: kefu heating" in result.output


def test_without_a_config_the_plugins_name_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_CONFIG", str(tmp_path / "missing.toml"))
    result = CliRunner().invoke(fresh(), ["heating"])
    assert result.exit_code == 1 and "missing.toml: file not found" in result.output
