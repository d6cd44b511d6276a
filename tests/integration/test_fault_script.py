"""bench/faults.py at a small size: kill -9, peer outages, then nothing lost and nothing sent twice."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from kefu.testing.dovecot import DOVECOT
from kefu.testing.fixtures import skip_or_fail

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "faults.py"


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_fault_script_keeps_every_promise_at_a_small_size() -> None:
    if not Path(DOVECOT).exists():
        skip_or_fail(f"dovecot is not installed ({DOVECOT}); apt-get install dovecot-imapd")
    # The forked intake worker outlives a kill -9 (issue 15 item 3); while it exists the
    # script reports such orphans (and cleans them up) without failing on them.
    tolerate = ["--allow-orphans"] if importlib.util.find_spec("kefu.intake.worker") else []
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--settle", "90", *tolerate],
        capture_output=True,
        text=True,
        timeout=220,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "FAILED" not in done.stdout
    assert '"bench": "faults"' in done.stdout and '"ok": true' in done.stdout
