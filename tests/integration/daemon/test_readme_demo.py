"""The README's demo block works pasted as a whole, against the daemon its first command starts.

The block runs with bash in a temporary copy of the demo files (examples/ and the heating
plugin's demo data); only the HTTP and console ports of the copied config are changed, to free ones.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kefu.testing.daemons import DaemonProcess

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]


def readme_block(section: str) -> str:
    """The first ``sh`` block after the heading ``section`` of the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text[text.index(f"\n## {section}\n") :]
    found = re.search(r"```sh\n(.*?)```", after, flags=re.S)
    assert found, f"no sh block under ## {section}"
    return found.group(1)


def test_the_readme_demo_block_shows_a_case_and_its_acknowledgement(tmp_path: Path) -> None:
    checkout = tmp_path / "kefu"
    shutil.copytree(ROOT / "examples", checkout / "examples")
    shutil.copytree(ROOT / "plugins" / "heating" / "demo", checkout / "plugins" / "heating" / "demo")
    config = checkout / "examples" / "demo.toml"
    text = config.read_text(encoding="utf-8").replace("port = 8480", "port = 0").replace("port = 8490", "port = 0")
    config.write_text(text, encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("KEFU_CONFIG", None)
    subprocess.run(
        ["kefu", "--config", "examples/demo.toml", "db", "upgrade"],
        cwd=checkout,
        env=env,
        check=True,
        capture_output=True,
    )
    daemon = DaemonProcess(config, tmp_path)
    try:
        daemon.wait_ready()
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", readme_block("The demo")],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        log = daemon.log()
    finally:
        daemon.close()
    out = result.stdout
    assert result.returncode == 0, f"{out}\n{result.stderr}\n{log}"
    case_line = next(line for line in out.splitlines() if line.startswith("HT-2026-000001"))
    assert "heating.leak" in case_line and "assigned" in case_line
    sms = (checkout / "demo-state" / "spool" / "sms.jsonl").read_text(encoding="utf-8")
    assert "HT-2026-000001" in sms  # the household's acknowledgement carries the case number
    assert "hotline.csv: 3 read" in out and "HT-2026-000001: callback" in out, out
    assert "password of liu set" in out  # the console's first sign-in is ready
