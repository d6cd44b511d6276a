"""Faults under load: kill -9 the daemon and stop its peers while mail comes in and acks go out.

Real daemons (two by default, under one ``node_name``, as two units on one host)
read a private Dovecot over IMAP, open a case per mail and acknowledge each case
by mail through a local SMTP server (aiosmtpd), on a database of their own: a private PostgreSQL
cluster on a free port when this
machine can run one (``initdb``/``pg_ctl``; the shared server at 5432 is never
touched), else SQLite, with the reason printed. While the mails are APPENDed in
chunks, between chunks one fault is injected at random:

* ``kill``: SIGKILL one daemon at a random moment and start it again (as
  systemd's ``Restart=`` would);
* ``smtp``: stop the SMTP server for a moment, then start it on the same port;
* ``dovecot``: restart Dovecot (UIDs and UIDVALIDITY survive);
* ``postgres``: crash the private PostgreSQL (``pg_ctl stop -m immediate``) and
  start it again (recovery runs).

A daemon that exits on its own is started again too, and counted. When every
mail is in, the daemon is left to catch up, stopped, and the run is checked:

* cases == distinct Message-IDs delivered (nothing lost, nothing opened twice);
* nothing unprocessed: no item pending, none quarantined, no ack left queued;
* each ack sent once, or at most once more per kill or SMTP outage (a message
  on the wire when its sender died, or whose 250 reply was lost);
* no child process outlived a killed daemon (``--allow-orphans`` only reports them).

    python bench/faults.py [--quick] [--messages N] [--faults K] [--daemons D] [--seed S]

Prints the counts, then one JSON line {"bench", "value", "unit", "baseline",
"ratio", "params"}: value is the number of extra sends, baseline the number the
promise allows (kills + SMTP outages); exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from kefu.db.engine import make_engine, session_factory
from kefu.db.models import Case, InboundItem, OutboxMessage
from kefu.db.schema import upgrade
from kefu.testing import pgcluster
from kefu.testing.daemons import DaemonProcess, write_config
from kefu.testing.dovecot import DOVECOT, Dovecot
from kefu.testing.mail import build_mail
from kefu.testing.smtp import SmtpServer

PLUGIN = Path(__file__).with_name("faults_plugin.py")
SMTP_DELAY = 0.005  # a relay's answer takes a moment: the daemons' dispatch runs overlap
sys.path.insert(0, str(PLUGIN.parent))
from faults_plugin import TEMPLATE, TEMPLATE_TEXT  # noqa: E402


def log(text: str) -> None:
    """Progress on stderr (the counts and the JSON line go to stdout)."""
    print(f"[faults {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class Run:
    """The daemon under test and its peers, with what was done to them."""

    def __init__(self, work: Path, stack: ExitStack, rng: random.Random, daemons: int) -> None:
        self.work, self.stack, self.rng = work, stack, rng
        self.faults: Counter[str] = Counter()
        self.pg: pgcluster.PrivatePostgres | None = None
        reason = pgcluster.unavailable()
        if reason is None:
            self.pg = pgcluster.PrivatePostgres().start()
            stack.callback(self.pg.close)
            self.url = self.pg.url
        else:
            self.url = f"sqlite:///{work / 'kefu.db'}"
            print(f"PostgreSQL faults skipped: {reason}; the database is SQLite", flush=True)
        root = Path(tempfile.mkdtemp(prefix="kefu-faults-dovecot-"))
        os.chmod(root, 0o755)
        stack.callback(shutil.rmtree, root, True)
        self.dovecot = Dovecot(root).start()
        stack.callback(self.dovecot.stop)
        self.smtp = SmtpServer().start()
        self.smtp.delay = SMTP_DELAY
        self.stopped_smtp: list[SmtpServer] = []
        stack.callback(self.smtp.stop)
        engine = make_engine(self.url)
        upgrade(engine)
        engine.dispose()
        templates = work / "templates"
        (templates / TEMPLATE).parent.mkdir(parents=True)
        (templates / TEMPLATE).write_text(TEMPLATE_TEXT, encoding="utf-8")
        self.config = write_config(
            work / "kefu.toml",
            {
                "kefu": {"state_dir": str(work / "state"), "node_name": "faults"},
                "database": {"url": self.url},
                "plugins": {"enabled": ["faults"]},
                "http": {"enabled": False, "port": 0},
                "scheduler": {
                    "sweep_interval": "1s",
                    "dispatch_interval": "1s",
                    "intake_interval": "1s",
                },
                "channels": {
                    "imap": {
                        "box": self.dovecot.channel_config(
                            default_kind="faults.mail",
                            idle=False,
                            poll_interval="1s",
                            timeout="5s",
                            reconnect_max="2s",
                            batch_size=50,
                        )
                    }
                },
                "outbound": {
                    **self.smtp.config(),
                    "templates": str(templates),
                    "rate": {"email_per_minute": 600_000},
                    "retry": {"first_delay": "1s", "max_delay": "2s", "max_attempts": 1000},
                },
            },
        )
        self.started = 0
        self.orphans = 0
        self.daemons = [self.start_daemon() for _ in range(daemons)]

    def start_daemon(self) -> DaemonProcess:
        """Start the next daemon process (each with its own log)."""
        self.started += 1
        daemon = DaemonProcess(self.config, self.work, name=f"kefu-{self.started}", plugins={"faults": PLUGIN})
        self.stack.callback(daemon.close)
        return daemon

    def supervise(self) -> None:
        """Start a daemon again if it exited on its own (systemd's Restart=on-failure)."""
        for index, daemon in enumerate(self.daemons):
            if daemon.proc.poll() is not None:
                self.faults["exited"] += 1
                log(f"{daemon.name} exited on its own ({daemon.proc.returncode}); starting it again")
                self.daemons[index] = self.start_daemon()

    def pause(self, low: float, high: float) -> None:
        """Let the daemon work for a random moment, restarting it if it exits meanwhile."""
        until = time.monotonic() + self.rng.uniform(low, high)
        while time.monotonic() < until:
            self.supervise()
            time.sleep(0.05)

    def inject(self, fault: str) -> None:
        """Do one fault to the daemon or a peer, and bring it back."""
        self.faults[fault] += 1
        log(f"fault: {fault}")
        if fault == "kill":
            index = self.rng.randrange(len(self.daemons))
            victim = self.daemons[index]
            victim.kill()
            # A child of the daemon must die with it (it holds IMAP connections and the database).
            gone_by = time.monotonic() + 3
            while victim.survivors() and time.monotonic() < gone_by:
                time.sleep(0.05)
            self.orphans += len(victim.survivors())
            self.daemons[index] = self.start_daemon()
        elif fault == "smtp":
            self.smtp.stop()
            self.pause(0.3, 2.0)
            # aiosmtpd's controller does not start twice: a new server on the same port.
            self.stopped_smtp.append(self.smtp)
            self.smtp = SmtpServer(port=self.smtp.port).start()
            self.smtp.delay = SMTP_DELAY
            self.stack.callback(self.smtp.stop)
        elif fault == "dovecot":
            self.dovecot.stop()
            self.pause(0.3, 2.0)
            self.dovecot.start()
        elif fault == "postgres" and self.pg is not None:
            self.pg.stop("immediate")
            self.pause(0.3, 2.0)
            self.pg.start()

    def deliver(self, mails: list[bytes]) -> None:
        """APPEND ``mails`` to the INBOX."""
        self.dovecot.append(*mails)


def counts(url: str) -> dict[str, Any]:
    """What the database holds after the run."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            scalar = lambda q: int(s.scalar(q) or 0)  # noqa: E731
            items = select(func.count()).select_from(InboundItem)
            return {
                "items": scalar(items),
                "distinct_message_ids": scalar(select(func.count(func.distinct(InboundItem.message_id)))),
                "pending": scalar(items.where(InboundItem.status == "pending")),
                "quarantined": scalar(items.where(InboundItem.status == "quarantined")),
                "cases": scalar(select(func.count()).select_from(Case)),
                "outbox": {
                    state: int(n)
                    for state, n in s.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))
                },
            }
    finally:
        engine.dispose()


def settled(run: Run, expected: int) -> bool:
    """True when every mail became an item, none waits, and every ack went out."""
    try:
        found = counts(run.url)
    except Exception:  # the database may be down for a moment: not settled yet
        return False
    outbox = found["outbox"]
    return (
        found["items"] >= expected
        and found["pending"] == 0
        and not outbox.get("queued")
        and not outbox.get("sending")
        and outbox.get("sent", 0) >= found["cases"] >= expected
    )


def main(argv: list[str] | None = None) -> int:
    """Run the fault script; 0 when every check holds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run (CI): 100 mails, 5 faults")
    parser.add_argument("--messages", type=int, help="mails delivered (default 400)")
    parser.add_argument("--faults", type=int, help="faults injected (default 16)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: printed)")
    parser.add_argument(
        "--daemons",
        type=int,
        default=2,
        help="daemons sharing the database under one node_name (default 2)",
    )
    parser.add_argument(
        "--allow-orphans",
        action="store_true",
        help="report children that outlive a killed daemon without failing the run",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (daemon logs) and print it")
    parser.add_argument("--settle", type=float, default=120.0, help="seconds allowed to catch up at the end")
    args = parser.parse_args(argv)
    messages = args.messages or (100 if args.quick else 400)
    fault_count = args.faults if args.faults is not None else (5 if args.quick else 16)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    if not Path(DOVECOT).exists():
        print(
            f"faults: dovecot is not installed ({DOVECOT}); apt-get install dovecot-imapd",
            file=sys.stderr,
        )
        return 2
    began = time.monotonic()
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="kefu-faults-"))
        if args.keep:
            print(f"work folder (kept): {work}", flush=True)
        else:
            stack.callback(shutil.rmtree, work, True)
        run = Run(work, stack, rng, args.daemons)
        kinds = ["kill", "smtp", "dovecot"] + (["postgres"] if run.pg is not None else [])
        # Every kind once (in random order), then kills twice as often as the others.
        plan = rng.sample(kinds, len(kinds))[:fault_count]
        plan += [rng.choice([*kinds, "kill"]) for _ in range(fault_count - len(plan))]
        mails = [
            build_mail(
                sender=f"c{i:05d}@example.com",
                subject=f"报修 {i}",
                text=f"第{i}号：暖气不热，请尽快处理。",
                message_id=f"<fault-{i}-{seed}@example.com>",
            )
            for i in range(messages)
        ]
        log(
            f"seed {seed}: {args.daemons} daemons, {messages} mails, {fault_count} faults, "
            f"database {run.url.split(':')[0]}"
        )
        for daemon in run.daemons:
            daemon.wait_ready(timeout=60)
        chunk = -(-messages // (fault_count + 1))
        for start in range(0, messages, chunk):
            run.supervise()
            run.deliver(mails[start : start + chunk])
            if start + chunk < messages:
                run.pause(0.1, 1.5)  # a random moment inside intake, processing or dispatch
                run.inject(plan.pop(0) if plan else rng.choice(kinds))
        deadline = time.monotonic() + args.settle
        while not settled(run, messages) and time.monotonic() < deadline:
            run.pause(0.3, 0.3)
        for daemon in run.daemons:
            # A daemon restarted just now may still be importing: SIGTERM before it has its
            # handlers ends it with status -15, which says nothing of kefu's stop.
            daemon.wait_ready(timeout=60)
        code = max(abs(daemon.stop(timeout=30)[0]) for daemon in run.daemons)
        found = counts(run.url)
        sent = Counter(rcpt for server in [*run.stopped_smtp, run.smtp] for m in server.messages for rcpt in m.rcpt_tos)
        logs = "".join(p.read_text(errors="replace") for p in sorted(work.glob("kefu-*.log")))
    delivered = {f"c{i:05d}@example.com" for i in range(messages)}
    extra = sum(n - 1 for n in sent.values() if n > 1)
    allowed = run.faults["kill"] + run.faults["smtp"] + run.faults["exited"]
    problems = []
    if found["cases"] != messages or found["distinct_message_ids"] != messages:
        problems.append(
            f"cases {found['cases']} and distinct Message-IDs {found['distinct_message_ids']} != {messages} delivered"
        )
    if found["pending"] or found["quarantined"]:
        problems.append(f"unprocessed: {found['pending']} pending, {found['quarantined']} quarantined")
    if found["outbox"].get("queued") or found["outbox"].get("sending") or found["outbox"].get("dead"):
        problems.append(f"acks not sent: {found['outbox']}")
    missing = sorted(delivered - set(sent))
    if missing:
        problems.append(f"{len(missing)} customers got no ack, e.g. {missing[:3]}")
    if extra > allowed:
        problems.append(f"{extra} extra sends, more than the {allowed} kills and SMTP outages allow")
    if run.orphans and not args.allow_orphans:
        problems.append(f"{run.orphans} child processes outlived their killed daemon")
    if code != 0:
        problems.append(f"a daemon stopped with status {code}")
    print(f"seed {seed}; database {'private PostgreSQL' if run.pg else 'SQLite'}; {time.monotonic() - began:.0f} s")
    print(
        f"faults: {dict(run.faults)}; daemon processes started: {run.started}; "
        f"children that outlived a kill -9: {run.orphans}"
    )
    print(
        f"mails delivered {messages}; items {found['items']}; distinct Message-IDs "
        f"{found['distinct_message_ids']}; cases {found['cases']}; pending {found['pending']}; "
        f"quarantined {found['quarantined']}"
    )
    print(
        f"outbox {found['outbox']}; acks received {sum(sent.values())} by {len(sent)} customers; "
        f"extra sends {extra} (allowed {allowed})"
    )
    print(f"tracebacks in the daemons' logs: {logs.count('Traceback')}")
    for problem in problems:
        print(f"FAILED: {problem}")
    print(
        json.dumps(
            {
                "bench": "faults",
                "value": extra,
                "unit": "extra sends",
                "baseline": allowed,
                "ratio": round(extra / allowed, 3) if allowed else 0.0,
                "params": {
                    "messages": messages,
                    "faults": dict(run.faults),
                    "seed": seed,
                    "cases": found["cases"],
                    "pending": found["pending"],
                    "quarantined": found["quarantined"],
                    "ok": not problems,
                },
            }
        )
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
