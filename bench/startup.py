"""How fast ``kefu run`` becomes READY, and what the idle daemon costs (RSS, CPU).

Starts the installed ``kefu run`` on a fresh SQLite database with the example plugin
and the HTTP listener on, under a notify socket this script creates (as systemd
would), and times spawn → READY=1. Then leaves the daemon idle for 30 s (``--quick``:
10 s) and reads its CPU time and resident memory from /proc. The baseline, measured
in the same run, is the start of a bare ``python -c "import sqlite3"``.

Targets (issue 2): READY under 2 s, RSS under 100 MB, idle CPU under 1 %.
Prints one JSON line at the end:
``{"bench": "startup", "value": <READY s>, "unit": "s", "baseline": <bare start s>, ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kefu.db.engine import make_engine
from kefu.db.schema import upgrade
from kefu.testing.daemons import DaemonProcess, write_config

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of ``pid`` in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def bare_python_start() -> float:
    """Seconds from spawn to exit of ``python -c "import sqlite3"``."""
    began = time.monotonic()
    subprocess.run([sys.executable, "-c", "import sqlite3"], check=True)
    return time.monotonic() - began


def config_for(work: Path) -> dict:
    url = f"sqlite:///{work / 'state' / 'kefu.db'}"
    return {
        "kefu": {"state_dir": str(work / "state"), "node_name": "bench"},
        "database": {"url": url},
        "plugins": {"enabled": ["example"]},
        "http": {"enabled": True, "host": "127.0.0.1", "port": 0},
        "outbound": {"spool": {"path": str(work / "spool")}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 starts and 10 s idle (under a minute)")
    args = parser.parse_args()
    starts, idle = (3, 10.0) if args.quick else (5, 30.0)

    with tempfile.TemporaryDirectory(prefix="kefu-bench-") as tmp:
        work = Path(tmp)
        cfg = config_for(work)
        (work / "state").mkdir()
        engine = make_engine(cfg["database"]["url"])
        upgrade(engine)
        engine.dispose()
        path = write_config(work / "kefu.toml", cfg)

        baselines, readies, stops = [], [], []
        rss = hwm = 0
        cpu_pct = 0.0
        for i in range(starts):
            baselines.append(bare_python_start())
            daemon = DaemonProcess(path, work, name=f"run{i}")
            try:
                readies.append(daemon.wait_ready(timeout=60))
                if i == starts - 1:  # the last start also measures the idle daemon
                    cpu0, t0 = cpu_seconds(daemon.pid), time.monotonic()
                    time.sleep(idle)
                    cpu1, t1 = cpu_seconds(daemon.pid), time.monotonic()
                    cpu_pct = 100 * (cpu1 - cpu0) / (t1 - t0)
                    mem = memory_kb(daemon.pid)
                    rss, hwm = mem["VmRSS"], mem["VmHWM"]
                code, took = daemon.stop()
                if code != 0:
                    raise SystemExit(f"kefu exited {code}; its log:\n{daemon.log()}")
                stops.append(took)
            finally:
                daemon.close()

    ready = statistics.median(readies)
    baseline = statistics.median(baselines)
    print(
        f"READY after        {ready:.3f} s (median of {starts}; all {[round(r, 3) for r in readies]})", file=sys.stderr
    )
    print(f"bare python start  {baseline:.3f} s", file=sys.stderr)
    print(f"idle RSS           {rss / 1024:.1f} MB (peak {hwm / 1024:.1f} MB)", file=sys.stderr)
    print(f"idle CPU           {cpu_pct:.2f} % over {idle:.0f} s", file=sys.stderr)
    print(f"SIGTERM → exit     {statistics.median(stops):.3f} s", file=sys.stderr)
    print(
        json.dumps(
            {
                "bench": "startup",
                "value": round(ready, 4),
                "unit": "s",
                "baseline": round(baseline, 4),
                "ratio": round(ready / baseline, 2),
                "params": {
                    "starts": starts,
                    "idle_seconds": idle,
                    "plugins": ["example"],
                    "database": "sqlite",
                    "http": True,
                    "rss_mb": round(rss / 1024, 1),
                    "peak_rss_mb": round(hwm / 1024, 1),
                    "idle_cpu_percent": round(cpu_pct, 3),
                    "stop_seconds": round(statistics.median(stops), 3),
                    "targets": {"ready_s": 2, "rss_mb": 100, "idle_cpu_percent": 1},
                    "load_average_1m": round(os.getloadavg()[0], 2),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
