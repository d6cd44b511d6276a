"""How soon a mail dropped into a watched Maildir becomes a case in a running ``kefu run``.

Starts the installed ``kefu run`` on a fresh SQLite database with the example plugin and
one Maildir channel whose polling (and the intake interval) is an hour, so only the
watcher can make the daemon read in time. Delivers mails one at a time (tmp/, then a
rename into new/, as an MDA does) and times each from the rename to its case row. The
baseline, measured in the same run on the same machine, is a bare watchdog observer on
another folder: rename → event, the floor any watcher-driven intake stands on.

Target (issue 16): a dropped mail is a case within 2 s.
Prints one JSON line at the end:
``{"bench": "maildir_drop", "value": <median s>, "unit": "s", "baseline": <bare event s>, ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import func, select
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from kefu.db.engine import make_engine
from kefu.db.models import Case
from kefu.db.schema import upgrade
from kefu.testing.daemons import DaemonProcess, write_config
from kefu.testing.mail import build_mail, deliver_to_maildir

POLL_SECONDS = 0.01


def bare_event_latency(folder: Path, rounds: int) -> list[float]:
    """Seconds from a rename into ``folder/new`` to a bare observer's event, per round."""
    for sub in ("new", "cur", "tmp"):
        (folder / sub).mkdir(parents=True)
    seen = threading.Event()

    class Handler(FileSystemEventHandler):
        def on_moved(self, event: FileSystemEvent) -> None:
            seen.set()

    observer = Observer()
    observer.schedule(Handler(), str(folder), recursive=True)
    observer.start()
    out = []
    try:
        for _ in range(rounds):
            seen.clear()
            began = time.monotonic()
            deliver_to_maildir(folder, build_mail())
            if not seen.wait(10):
                raise SystemExit("the bare observer saw no event within 10 s")
            out.append(time.monotonic() - began)
    finally:
        observer.stop()
        observer.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 mails instead of 10")
    args = parser.parse_args()
    rounds = 3 if args.quick else 10

    with tempfile.TemporaryDirectory(prefix="kefu-bench-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'kefu.db'}"
        maildir = work / "maildir"
        cfg = {
            "kefu": {"state_dir": str(work / "state"), "node_name": "bench"},
            "database": {"url": url},
            "plugins": {"enabled": ["example"]},
            "http": {"enabled": False, "port": 0},
            "scheduler": {"intake_interval": "1h"},
            "channels": {
                "maildir": {
                    "box": {
                        "path": str(maildir),
                        "default_kind": "example.request",
                        "poll_interval": "1h",
                    }
                }
            },
            "outbound": {"spool": {"path": str(work / "spool")}},
        }
        engine = make_engine(url)
        upgrade(engine)
        baseline = bare_event_latency(work / "bare", rounds)
        daemon = DaemonProcess(write_config(work / "kefu.toml", cfg), work)
        latencies = []
        try:
            daemon.wait_ready(timeout=60)
            deadline = time.monotonic() + 30
            while not (maildir / "new").is_dir() and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)
            for n in range(1, rounds + 1):
                began = time.monotonic()
                deliver_to_maildir(maildir, build_mail(subject=f"报修 {n}"))
                count = 0
                while count < n:
                    if time.monotonic() - began > 30:
                        raise SystemExit(f"mail {n} was not a case after 30 s; the log:\n{daemon.log()}")
                    with engine.connect() as conn:
                        count = conn.scalar(select(func.count()).select_from(Case)) or 0
                    if count < n:
                        time.sleep(POLL_SECONDS)
                latencies.append(time.monotonic() - began)
        finally:
            daemon.close()
            engine.dispose()

    value, base = statistics.median(latencies), statistics.median(baseline)
    print(
        f"drop → case        {value:.3f} s (median of {rounds}; all {[round(x, 3) for x in latencies]})",
        file=sys.stderr,
    )
    print(f"bare watch event   {base:.4f} s", file=sys.stderr)
    print(
        json.dumps(
            {
                "bench": "maildir_drop",
                "value": round(value, 4),
                "unit": "s",
                "baseline": round(base, 4),
                "ratio": round(value / base, 1) if base else None,
                "params": {
                    "mails": rounds,
                    "database": "sqlite",
                    "plugins": ["example"],
                    "target_s": 2,
                    "max_s": round(max(latencies), 4),
                    "load_average_1m": round(os.getloadavg()[0], 2),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
