"""Benchmark intake end to end against a real Dovecot, next to a hand-written pipeline.

N messages in mixed encodings (UTF-8/base64, GB2312 label on GBK bytes/QP,
GB18030, Big5, HTML-only, auto-replies, small attachments) are APPENDed to a
private Dovecot once. Then, in the same run:

* baseline: a hand-written pipeline doing the work intake cannot skip, three
  times (the median counts): IMAPClient fetches every message by UID in batches
  of 200 (``BODY.PEEK[]``), the stdlib parses each (compat32, ``decode_header``
  for sender and subject, the first text part decoded), and each batch is one
  transaction of batched INSERTs into SQLite (WAL, as kefu's): the raw mail and
  one row per message. No classification, no cases, no marking;
* raw fetch (for reference): IMAPClient alone fetching the same messages;
* kefu: one intake pass on SQLite — fetch, store raw, mark \\Seen + keyword,
  parse, classify through a plugin, open a case per message — timed on a daemon
  that has run a first pass over 50 other mails (its code paths loaded and SQL
  compiled, which a daemon does once in its life).

    python bench/intake.py [--quick] [--messages N] [--postgres-url URL]

It also prints the time per message of the pass's two stages (reading the mailbox:
fetch, store, mark; processing: parse, thread, classify, open cases). Ends with one
JSON line: {"bench", "value", "unit", "baseline", "ratio", "params"}; ``params``
holds the raw-fetch rate and ratio.
"""

from __future__ import annotations

import argparse
import email
import email.utils
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from contextlib import ExitStack
from email.header import decode_header
from email.policy import compat32
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from sqlalchemy import func, select

from kefu.app import App, build_app
from kefu.clock import FakeClock
from kefu.context import PluginContext
from kefu.db.engine import transaction
from kefu.db.models import Case, InboundItem
from kefu.db.schema import upgrade
from kefu.hookspecs import hookimpl
from kefu.intake import runner as intake_runner
from kefu.intake.message import Classification, InboundMessage
from kefu.intake.runner import run_intake
from kefu.kinds import CaseKind
from kefu.plugin_host import PluginInfo
from kefu.testing.databases import postgres_schema
from kefu.testing.dovecot import Dovecot
from kefu.testing.mail import build_mail

FETCH_BATCH = 200
RAW_READS = 3
WARM_UP = 50  # mails of the untimed first pass: every shape of the corpus, in one batch


class BenchPlugin:
    """Keyword classification as a real plugin does it."""

    @hookimpl
    def kefu_case_kinds(self, ctx: PluginContext) -> list[CaseKind]:
        return [
            CaseKind(name="bench.leak", title="漏水", prefix="BL", urgent=True),
            CaseKind(name="bench.general", title="一般", prefix="BG"),
        ]

    @hookimpl
    def kefu_classify(self, item: InboundMessage, ctx: PluginContext) -> Classification | None:
        if any(w in item.body for w in ("漏水", "跑水", "冒汽", "滴漏")):
            return Classification(kind="bench.leak", urgent=True)
        return None


def corpus(n: int, senders: str = "user") -> list[bytes]:
    """``n`` messages cycling through the encodings and shapes real clients send, from 500
    addresses named ``senders``."""
    shapes = [
        dict(subject="暖气漏水", charset="utf-8", encoding="base64", text="3号楼2单元暖气漏水，请尽快来人。"),
        dict(
            subject="暖气不热",
            subject_charset="gb2312",
            charset="gbk",
            encoding="quoted-printable",
            text="家里暖气不热，朱镕基路12号。",
        ),
        dict(subject="咨询收费", charset="gb18030", encoding="8bit", text="请问今年采暖费多少钱？"),
        dict(subject="暖氣滴漏", sender_name="陳先生", charset="big5", encoding="base64", text="暖氣管滴漏"),
        dict(subject="投诉", text=None, html="<p>楼道<b>跑水</b>了</p><p>谢谢</p>"),
        dict(subject="自动回复", text="我在休假", headers={"Auto-Submitted": "auto-replied"}),
        dict(subject="照片", text="漏水照片见附件", attachments=[("漏水.jpg", "image/jpeg", os.urandom(2048))]),
    ]
    return [
        build_mail(sender=f"{senders}{i % 500}@example.com", **shapes[i % len(shapes)])  # type: ignore[arg-type]
        for i in range(n)
    ]


def fill(server: Dovecot, messages: list[bytes]) -> float:
    """APPEND every message (MULTIAPPEND in chunks); return the seconds it took."""
    started = time.perf_counter()
    client = server.client()
    try:
        for i in range(0, len(messages), 500):
            client.multiappend("INBOX", messages[i : i + 500])
    finally:
        client.logout()
    return time.perf_counter() - started


def raw_fetch(server: Dovecot, first_uid: int) -> tuple[int, float]:
    """IMAPClient alone: select, search, fetch every message from ``first_uid`` on in batches;
    (count, seconds)."""
    started = time.perf_counter()
    client = IMAPClient(server.host, server.port, ssl=False, timeout=30)
    client.login(server.user, server.password)
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["UID", f"{first_uid}:*"])
    count = 0
    for i in range(0, len(uids), FETCH_BATCH):
        count += len(client.fetch(uids[i : i + FETCH_BATCH], ["BODY.PEEK[]"]))
    client.logout()
    return count, time.perf_counter() - started


_BASELINE_SCHEMA = (
    "CREATE TABLE mail (id INTEGER PRIMARY KEY, uid INTEGER UNIQUE, message_id TEXT, sender TEXT, "
    "subject TEXT, text TEXT, received_at TEXT)",
    "CREATE TABLE mail_raw (mail_id INTEGER PRIMARY KEY REFERENCES mail(id), raw BLOB)",
)


def _header_text(value: object) -> str:
    parts = []
    for chunk, charset in decode_header(str(value or "")):
        if isinstance(chunk, bytes):
            codec = {"gb2312": "gb18030", "gbk": "gb18030"}.get((charset or "utf-8").lower(), charset or "utf-8")
            try:
                parts.append(chunk.decode(codec, "replace"))
            except LookupError:
                parts.append(chunk.decode("utf-8", "replace"))
        else:
            parts.append(chunk)
    return "".join(parts)


def _first_text(msg: email.message.Message) -> str:
    for part in msg.walk():
        if part.get_content_type() in ("text/plain", "text/html") and not part.get_filename():
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                try:
                    return data.decode(part.get_content_charset() or "utf-8", "replace")
                except LookupError:
                    return data.decode("utf-8", "replace")
    return ""


def baseline_pass(server: Dovecot, first_uid: int, db: Path) -> tuple[int, float, float]:
    """The hand-written pipeline (see the module's docstring) into a fresh SQLite file;
    (count, seconds, CPU seconds of this process)."""
    db.unlink(missing_ok=True)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for statement in _BASELINE_SCHEMA:
        conn.execute(statement)
    started, cpu = time.perf_counter(), time.process_time()
    client = IMAPClient(server.host, server.port, ssl=False, timeout=30)
    client.login(server.user, server.password)
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["UID", f"{first_uid}:*"])
    count = 0
    for i in range(0, len(uids), FETCH_BATCH):
        fetched = client.fetch(uids[i : i + FETCH_BATCH], ["BODY.PEEK[]"])
        rows, raws = [], []
        for uid, data in fetched.items():
            raw = data[b"BODY[]"]
            msg = email.message_from_bytes(raw, policy=compat32)
            sender = email.utils.parseaddr(_header_text(msg.get("From")))[1].lower()
            rows.append(
                (
                    uid,
                    msg.get("Message-ID"),
                    sender,
                    _header_text(msg.get("Subject")),
                    _first_text(msg),
                    "2026-11-02T01:00:00",
                )
            )
            raws.append((uid, raw))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO mail (uid, message_id, sender, subject, text, received_at) VALUES (?, ?, ?, ?, ?, ?)", rows
        )
        conn.executemany(
            "INSERT INTO mail_raw (mail_id, raw) SELECT id, ? FROM mail WHERE uid = ?",
            [(raw, uid) for uid, raw in raws],
        )
        conn.execute("COMMIT")
        count += len(rows)
    client.logout()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return count, elapsed, cpu


def timed_stages(stages: dict[str, float]) -> None:
    """Time the intake pass's two stages (reading the mailbox, processing what it stored) into
    ``stages``, by wrapping the names the runner calls: two clock reads each, nothing else.
    Processing runs between the mailbox's batches too; that time counts as processing only."""
    for stage, name in (("read_s", "poll_channels"), ("process_s", "process_pending")):
        real = getattr(intake_runner, name)

        def timed(*args: Any, _real: Any = real, _stage: str = stage, **kwargs: Any) -> Any:
            started = time.perf_counter()
            inner = stages.get("process_s", 0.0)
            try:
                return _real(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                if _stage == "read_s":
                    spent -= stages.get("process_s", 0.0) - inner
                stages[_stage] = stages.get(_stage, 0.0) + spent

        setattr(intake_runner, name, timed)


def bench_app(server: Dovecot, root: Path, url: str | None) -> App:
    """The app reading the server's INBOX with the bench plugin, its schema in place."""
    raw = {
        "kefu": {"state_dir": str(root / "state"), "node_name": "bench"},
        "database": {"url": url or f"sqlite:///{root / 'kefu.db'}"},
        "plugins": {"enabled": ["bench"]},
        "channels": {
            "imap": {"service": server.channel_config(idle=False, poll_interval="0s", batch_size=FETCH_BATCH)}
        },
    }
    available = {"bench": PluginInfo("bench", BenchPlugin(), "bench", "bench")}
    app = build_app(root / "kefu.toml", raw=raw, clock=FakeClock("2026-11-02T09:00:00+08:00"), available=available)
    upgrade(app.engine)
    return app


def warm_up(app: App, server: Dovecot) -> int:
    """The untimed first pass over ``WARM_UP`` mails of other senders; the first UID after them."""
    fill(server, corpus(WARM_UP, senders="earlier"))
    assert run_intake(app) == WARM_UP
    client = server.client()
    try:
        client.select_folder("INBOX", readonly=True)
        return max(client.search("ALL")) + 1
    finally:
        client.logout()


def kefu_pass(app: App, stages: dict[str, float]) -> tuple[int, int, float, float]:
    """One timed intake pass; (items processed, cases opened, seconds, CPU seconds of this
    process). ``stages`` receives the seconds spent reading the mailbox and processing."""
    with transaction(app.sessions) as session:
        cases_before = session.scalar(select(func.count()).select_from(Case)) or 0
    timed_stages(stages)
    started, cpu = time.perf_counter(), time.process_time()
    processed = run_intake(app)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    with transaction(app.sessions) as session:
        cases = (session.scalar(select(func.count()).select_from(Case)) or 0) - cases_before
        stored = session.scalar(select(func.count()).select_from(InboundItem)) or 0
    assert stored == processed + WARM_UP, (stored, processed)
    return processed, cases, elapsed, cpu


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 messages (under a minute)")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="run kefu on this PostgreSQL database instead (in a fresh schema, dropped after)",
    )
    args = parser.parse_args()
    n = 2_000 if args.quick else args.messages
    root = Path(tempfile.mkdtemp(prefix="kefu-bench-intake-"))
    os.chmod(root, 0o755)
    server = Dovecot(root / "dovecot")
    try:
        server.start()
        with ExitStack() as stack:
            # A schema of its own: what an earlier run left in the database is not read again.
            url = stack.enter_context(postgres_schema(args.postgres_url)) if args.postgres_url else None
            app = bench_app(server, root, url)
            with ExitStack() as running:
                running.callback(app.dispose)
                first_uid = warm_up(app, server)
                fill_s = fill(server, corpus(n))
                print(f"filled {n} messages in {fill_s:.1f}s ({n / fill_s:.0f}/s)", file=sys.stderr)
                raw_reads = sorted((raw_fetch(server, first_uid) for _ in range(RAW_READS)), key=lambda read: read[1])
                raw_count, raw_s = raw_reads[len(raw_reads) // 2]
                base_runs = sorted(
                    (baseline_pass(server, first_uid, root / "baseline.db") for _ in range(RAW_READS)),
                    key=lambda run: run[1],
                )
                base_count, base_s, base_cpu = base_runs[len(base_runs) // 2]
                stages: dict[str, float] = {}
                processed, cases, kefu_s, kefu_cpu = kefu_pass(app, stages)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    raw_rate, base_rate, rate = raw_count / raw_s, base_count / base_s, processed / kefu_s
    print(
        f"raw IMAPClient fetch: {raw_count} in {raw_s:.2f}s = {raw_rate:.0f}/s; hand-written pipeline "
        f"(fetch, parse, insert): {base_count} in {base_s:.2f}s = {base_rate:.0f}/s (median of "
        f"{', '.join(f'{c / t:.0f}' for c, t, _cpu in base_runs)}/s; {base_cpu:.2f}s CPU); "
        f"kefu intake: {processed} items, {cases} cases "
        f"in {kefu_s:.2f}s = {rate:.0f}/s ({kefu_cpu:.2f}s CPU = {processed / kefu_cpu:.0f}/s of CPU, a loaded "
        f"machine shows in the gap)",
        file=sys.stderr,
    )
    per_item = {stage: round(seconds / max(processed, 1) * 1e6, 1) for stage, seconds in stages.items()}
    print(
        f"per message: raw fetch {raw_s / max(raw_count, 1) * 1e6:.0f} µs, hand-written pipeline "
        f"{base_s / max(base_count, 1) * 1e6:.0f} µs; kefu reading the mailbox (fetch, store, mark) "
        f"{per_item.get('read_s', 0):.0f} µs, processing (parse, thread, classify, open cases) "
        f"{per_item.get('process_s', 0):.0f} µs",
        file=sys.stderr,
    )
    print(
        json.dumps(
            {
                "bench": "intake",
                "value": round(rate, 1),
                "unit": "messages/s",
                "baseline": round(base_rate, 1),
                "ratio": round(rate / base_rate, 3),
                "params": {
                    "messages": n,
                    "cases": cases,
                    "engine": "postgresql" if args.postgres_url else "sqlite",
                    "baseline": "hand-written pipeline: IMAPClient fetch by UID, compat32 parse, batched INSERT",
                    "raw_fetch_rate": round(raw_rate, 1),
                    "raw_fetch_ratio": round(rate / raw_rate, 3),
                    "fetch_batch": FETCH_BATCH,
                    "runs": RAW_READS,
                    "warm_up": WARM_UP,
                    "kefu_cpu_s": round(kefu_cpu, 2),
                    "baseline_cpu_s": round(base_cpu, 2),
                    "cpu_ratio": round((base_cpu / max(base_count, 1)) / (kefu_cpu / max(processed, 1)), 3),
                    "read_us_per_message": per_item.get("read_s"),
                    "process_us_per_message": per_item.get("process_s"),
                },
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
