"""Names in alarm_staff are checked at start and by check-config, not first when a channel falls silent."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kefu.app import build_app
from kefu.cli.main import cli
from kefu.config import ConfigError

STAFF = """
[staff.people.wang]
name = "王工"
email = "wang@example.com"
[staff.people.li]
name = "李班长"
phone = "+8613900000001"
[staff.roles]
duty = ["wang"]
[staff.rotas.night]
fallback = ["li"]
"""


def write(tmp_path: Path, channels: str) -> Path:
    path = tmp_path / "kefu.toml"
    path.write_text(f'[kefu]\nstate_dir = "{tmp_path}"\n{STAFF}\n{channels}', encoding="utf-8")
    return path


def _maildir(tmp_path: Path, alarm_staff: str = "") -> str:
    return f'[channels.maildir.service]\npath = "{tmp_path}/md"\n{alarm_staff}\n'


def test_an_unknown_name_in_a_channels_alarm_staff_refuses_the_start_with_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEFU_IMAP_PW", "x")
    path = write(
        tmp_path,
        '[channels]\nalarm_staff = ["duty", "rota:night"]\n'
        + _maildir(tmp_path, 'alarm_staff = ["zhangsan"]')
        + '[channels.imap.repairs]\nhost = "imap.example.com"\nuser = "u"\n'
        'password_secret = "imap_pw"\nalarm_staff = ["wnag", "li"]\n' + '[channels.sms]\nalarm_staff = ["boss"]\n',
    )
    with pytest.raises(ConfigError) as err:
        build_app(path)
    text = str(err.value)
    assert (
        "channels.maildir.service.alarm_staff: unknown staff 'zhangsan' (people: li, wang / roles: duty / rotas: night)"
    ) in text
    assert "channels.imap.repairs.alarm_staff: unknown staff 'wnag' (did you mean 'wang'?)" in text
    assert "channels.sms.alarm_staff: unknown staff 'boss'" in text
    assert text.count("unknown staff") == 3  # a known person ('li'), role and rota pass
    assert "channels.alarm_staff" not in text


def test_the_default_alarm_staff_is_checked_too(tmp_path: Path) -> None:
    path = write(tmp_path, '[channels]\nalarm_staff = ["heads"]\n' + _maildir(tmp_path))
    with pytest.raises(ConfigError, match=r"channels\.alarm_staff: unknown staff 'heads'"):
        build_app(path)


def test_check_config_names_the_unknown_staff_and_exits_nonzero(tmp_path: Path) -> None:
    path = write(tmp_path, _maildir(tmp_path, 'alarm_staff = ["zhangsan"]'))
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 1
    assert "channels.maildir.service.alarm_staff: unknown staff 'zhangsan'" in result.output


def test_a_rota_not_configured_is_a_warning_as_in_escalation_chains(tmp_path: Path) -> None:
    # Shifts imported into rota_shifts (the hr plugin) can fill a rota the config does not list.
    path = write(tmp_path, _maildir(tmp_path, 'alarm_staff = ["rota:weekend", "duty"]'))
    app = build_app(path)
    try:
        assert [w for w in app.warnings if "alarm_staff" in w] == [
            "channels.maildir.service.alarm_staff: rota 'weekend' is not in [staff.rotas] (rotas: night); "
            "only imported shifts can fill it"
        ]
    finally:
        app.dispose()
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 0, result.output
    assert "warning: channels.maildir.service.alarm_staff: rota 'weekend'" in result.output


def test_the_daemon_refuses_to_start(tmp_path: Path) -> None:
    path = write(tmp_path, _maildir(tmp_path, 'alarm_staff = ["zhangsan"]'))
    result = CliRunner().invoke(cli, ["--config", str(path), "run", "--once"])
    assert result.exit_code == 1
    assert "unknown staff 'zhangsan'" in result.output


def test_an_unknown_person_in_the_outbox_alarm_refuses_the_start(tmp_path: Path) -> None:
    path = write(tmp_path, '[outbound]\nalarm_staff = ["wang", "zhou"]\n')
    with pytest.raises(ConfigError, match=r"outbound\.alarm_staff: unknown person 'zhou' \(people: li, wang\)"):
        build_app(path)
