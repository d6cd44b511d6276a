"""``kefu doctor``: every dependency, font, directory and peer with OK / missing / the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kefu.cli.main import cli
from kefu.testing.daemons import write_config
from kefu.testing.fixtures import base_config


@pytest.fixture
def config(tmp_path: Path, sqlite_url: str) -> Path:
    return write_config(tmp_path / "kefu.toml", base_config(tmp_path, sqlite_url, ["example"]))


def doctor(*args: str) -> tuple[int, list[dict[str, str]]]:
    result = CliRunner().invoke(cli, [*args, "doctor", "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


def test_doctor_names_an_empty_database_and_the_command(config: Path) -> None:
    code, rows = doctor("--config", str(config))
    by_name = {r["name"]: r for r in rows}
    assert code == 1
    assert by_name["database"]["status"] == "missing" and by_name["database"]["fix"] == "kefu db upgrade"
    assert by_name["pango"]["status"] == "OK" and by_name["weasyprint"]["status"] == "OK"
    assert {r["area"] for r in rows} >= {
        "system",
        "fonts",
        "config",
        "directories",
        "peers",
        "tests",
    }


def test_doctor_is_clean_after_db_upgrade(config: Path) -> None:
    CliRunner().invoke(cli, ["--config", str(config), "db", "upgrade"], catch_exceptions=False)
    code, rows = doctor("--config", str(config))
    assert code == 0, [r for r in rows if r["status"] == "missing"]
    result = CliRunner().invoke(cli, ["--config", str(config), "doctor"], catch_exceptions=False)
    assert "[OK] Noto Serif CJK SC:" in result.output and result.output.rstrip().endswith("0 problems")


def test_doctor_names_the_missing_font_and_the_fix(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<fontconfig></fontconfig>\n', encoding="utf-8")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    CliRunner().invoke(cli, ["--config", str(config), "db", "upgrade"], catch_exceptions=False)
    code, rows = doctor("--config", str(config))
    (fonts,) = [r for r in rows if r["area"] == "fonts"]
    assert code == 1 and fonts["status"] == "missing"
    assert "Noto Serif CJK SC" in fonts["detail"] and fonts["fix"] == "apt-get install fonts-noto-cjk"


def test_doctor_without_a_config_still_checks_the_system(tmp_path: Path) -> None:
    code, rows = doctor("--config", str(tmp_path / "none.toml"))
    by_name = {r["name"]: r for r in rows}
    assert code == 1 and by_name["config"]["status"] == "missing"
    assert "file not found" in by_name["config"]["detail"] and by_name["fontconfig"]["status"] == "OK"
