"""The config file: typed, strict, and errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kefu.app import build_app
from kefu.cli.main import cli
from kefu.config import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kefu.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_typo_in_a_core_key_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[kefu]\nstate_dri = "/tmp/x"\n')
    with pytest.raises(ConfigError) as err:
        build_app(path)
    assert str(path) in str(err.value)
    assert "kefu.state_dri: unknown key" in str(err.value)


def test_typo_in_a_plugin_section_names_the_key(tmp_path: Path) -> None:
    path = write(
        tmp_path, f'[kefu]\nstate_dir = "{tmp_path}"\n[plugins]\nenabled = ["example"]\n[example]\nkeywrods = ["x"]\n'
    )
    with pytest.raises(ConfigError, match=r"example\.keywrods: unknown key"):
        build_app(path)


def test_wrong_type_says_what_was_expected(tmp_path: Path) -> None:
    path = write(tmp_path, '[http]\nport = "eighty"\n')
    with pytest.raises(ConfigError, match=r"http\.port: .*integer"):
        build_app(path)


def test_bad_duration_says_how_to_write_one(tmp_path: Path) -> None:
    path = write(tmp_path, '[scheduler]\nsweep_interval = "soon"\n')
    with pytest.raises(ConfigError, match=r"scheduler\.sweep_interval: .*'4h'"):
        build_app(path)


def test_unknown_plugin_lists_the_installed_ones(tmp_path: Path) -> None:
    path = write(tmp_path, '[plugins]\nenabled = ["heatign"]\n')
    with pytest.raises(ConfigError, match=r"plugins\.enabled: .*'heatign'.*installed: .*example"):
        build_app(path)


def test_section_of_a_disabled_plugin_is_an_unknown_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[example]\nkeywords = ["x"]\n')
    with pytest.raises(ConfigError, match=r"example: unknown key"):
        build_app(path)


def test_missing_secret_names_the_key_and_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEFU_DB_PASSWORD", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    path = write(tmp_path, '[database]\nurl = "postgresql://kefu@db/kefu"\npassword_secret = "db_password"\n')
    with pytest.raises(ConfigError, match=r"database\.password_secret: secret 'db_password'.*KEFU_DB_PASSWORD"):
        build_app(path)


def test_secret_from_systemd_credentials_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "db_password").write_text("s3cret\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    path = write(
        tmp_path,
        f'[kefu]\nstate_dir = "{tmp_path}"\n[database]\nurl = "sqlite:///{tmp_path}/x.db"\n'
        'password_secret = "db_password"\n',
    )
    app = build_app(path)
    app.dispose()


def test_password_inside_the_database_url_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "postgresql://kefu:hunter2@db/kefu"\n')
    with pytest.raises(ConfigError, match="secrets never go in the TOML"):
        build_app(path)


def test_toml_syntax_error_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[kefu\n")
    with pytest.raises(ConfigError, match="TOML syntax error"):
        build_app(path)


def test_check_config_cli_names_the_typo_and_exits_nonzero(tmp_path: Path) -> None:
    path = write(tmp_path, '[plugins]\nenabled = ["example"]\n[example]\nheartbeat_schedul = "x"\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 1
    assert "example.heartbeat_schedul: unknown key" in result.output


def test_check_config_cli_prints_what_would_run(tmp_path: Path) -> None:
    path = write(tmp_path, f'[kefu]\nstate_dir = "{tmp_path}"\n[plugins]\nenabled = ["example"]\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 0, result.output
    assert "example.request" in result.output
    assert "example.heartbeat" in result.output


def test_env_variable_names_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[kefu]\nstate_dri = "x"\n')
    monkeypatch.setenv("KEFU_CONFIG", str(path))
    with pytest.raises(ConfigError, match="state_dri"):
        build_app()


def test_check_config_summary_names_every_channel_and_hides_passwords(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kefu.config_summary import summarize

    monkeypatch.setenv("KEFU_IMAP_PW", "x")
    monkeypatch.setenv("KEFU_DB_PW", "hunter2")
    monkeypatch.setenv("KEFU_HOTLINE_TOKEN", "t")
    path = write(
        tmp_path,
        f'[kefu]\nstate_dir = "{tmp_path}"\n'
        f'[database]\nurl = "sqlite:///{tmp_path}/k.db"\npassword_secret = "db_pw"\n'
        f'[channels.maildir.demo]\npath = "{tmp_path}/md"\n'
        '[channels.imap.repairs]\nhost = "imap.example.com"\nuser = "u"\npassword_secret = "imap_pw"\n'
        '[channels.sms]\nenabled = true\nmode = "poll"\nnumbers = ["+8610690000"]\n'
        '[channels.hotline]\nenabled = true\ntoken_secret = "hotline_token"\n',
    )
    app = build_app(path)
    try:
        summary = summarize(app)
    finally:
        app.dispose()
    assert summary["channels"] == "maildir:demo, imap:repairs (imap.example.com), sms (poll), hotline"
    assert "hunter2" not in summary["database"]
