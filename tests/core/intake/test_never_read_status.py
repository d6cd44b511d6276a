"""``kefu status`` says what the staff alarm says of a channel never read: the first try, the limit, who was told."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kefu.cli.main import cli
from kefu.clock import FakeClock
from kefu.testing.daemons import write_config
from kefu.testing.fixtures import base_config, merge


def kefu(clock: FakeClock, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), obj={"clock": clock}, catch_exceptions=False)
    return result.exit_code, result.output


def _channel(out: str) -> dict:
    [check] = [c for c in json.loads(out)["checks"] if c["name"] == "channel:maildir:service"]
    return check


def test_status_shows_a_never_read_channel_silent_past_its_limit_and_who_was_told(
    tmp_path: Path, sqlite_url: str, clock: FakeClock
) -> None:
    config = write_config(
        tmp_path / "kefu.toml",
        merge(
            base_config(tmp_path, sqlite_url, ["example"]),
            {
                "staff": {"people": {"wang": {"name": "王工", "email": "wang@example.com"}}},
                "channels": {
                    "alarm_staff": ["wang"],
                    "maildir": {
                        "service": {
                            "path": str(tmp_path / "typo"),
                            "create": False,
                            "silence_alarm": "10m",
                            "poll_interval": "0s",
                        }
                    },
                },
            },
        ),
    )
    kefu(clock, "--config", str(config), "db", "upgrade")
    kefu(clock, "--config", str(config), "run", "--once")
    code, out = kefu(clock, "--config", str(config), "status", "--json")
    check = _channel(out)
    assert code == 1 and not check["ok"]
    assert check["detail"].startswith(
        "never read successfully, first tried 0s ago (limit 600s); last error: FileNotFoundError"
    )

    clock.advance(minutes=11)
    kefu(clock, "--config", str(config), "run", "--once")
    code, out = kefu(clock, "--config", str(config), "status", "--json")
    check = _channel(out)
    assert check["detail"].startswith("SILENT: never read successfully, first tried 660s ago (limit 600s)")
    assert check["detail"].endswith("; staff told: wang")
    code, out = kefu(clock, "--config", str(config), "status")
    assert code == 1 and "[!!] channel:maildir:service: SILENT: never read successfully" in out
