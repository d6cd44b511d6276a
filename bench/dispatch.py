"""Benchmark the outbox: queueing fee reminders, and dispatching to real local peers.

1. Render and queue N fee-reminder SMS rows (default 100,000) on SQLite, 10,000 per
   transaction, through ``queue_many`` (the campaigns' bulk path: idempotency check,
   template, quiet hours, one INSERT per 500 rows), then re-run the same campaign
   (every key exists: nothing rendered); ``queue_message`` (one row at a time, what
   case hooks use) is timed on a tenth of N.
2. Dispatch M emails to a local aiosmtpd server, next to smtplib sending the same
   MIME messages to the same server (the raw rate).
3. Dispatch M SMS through the official twilio client to a local Twilio-compatible
   endpoint, next to the same client calling ``messages.create`` alone.

Raw and kefu alternate in 10 rounds of M/10 messages (one connection and one
``run_dispatch`` per round), so both see the same machine load.

    python bench/dispatch.py [--quick] [--queue N] [--messages M]

Target: dispatch at least 80 % of the raw rate; 100,000 rows queued in under 60 s.
Ends with one JSON line: {"bench", "value", "unit", "baseline", "ratio", "params", ...}.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import smtplib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kefu.app import App, build_app
from kefu.clock import FakeClock
from kefu.db.engine import transaction
from kefu.db.schema import upgrade
from kefu.outbound.bulk import OutboxItem, queue_many
from kefu.outbound.dispatch import run_dispatch
from kefu.outbound.outbox import queue_message
from kefu.senders.base import Outgoing
from kefu.senders.mime import email_bytes
from kefu.senders.twilio_client import make_client
from kefu.testing.outbox import SAMPLE_TEMPLATES, write_templates
from kefu.testing.smtp import SmtpServer
from kefu.testing.twilio_api import ACCOUNT_SID, TOKEN_SECRET, TwilioApi

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing: outside quiet hours
ROUNDS = 10  # alternating raw/kefu rounds per channel
FAST = {"sms_per_second": 1_000_000, "email_per_minute": 60_000_000}


def make(state: Path, outbound: dict[str, Any], twilio: dict[str, Any] | None = None) -> App:
    raw: dict[str, Any] = {
        "kefu": {"state_dir": str(state), "node_name": "bench"},
        "database": {"url": f"sqlite:///{state / 'kefu.db'}"},
        "plugins": {"enabled": ["example"]},
        "http": {"enabled": False},
        "outbound": {
            "templates": str(write_templates(state / "templates", SAMPLE_TEMPLATES)),
            "rate": FAST,
            "batch_size": 500,
            **outbound,
        },
    }
    if twilio:
        raw["twilio"] = twilio
    app = build_app(state / "kefu.toml", raw=raw, clock=FakeClock(NOW))
    upgrade(app.engine)
    return app


def queue_rows(
    app: App,
    ids: range,
    channel: str,
    recipient: Any,
    template: str,
    context: Any,
    *,
    one_by_one: bool = False,
    prefix: str = "bench",
) -> float:
    """Queue rows ``ids`` (``queue_many`` 10,000 per transaction, or ``queue_message`` 1,000
    per transaction); return the seconds taken."""
    start = time.perf_counter()
    per = 1000 if one_by_one else 10_000
    for first in range(ids.start, ids.stop, per):
        part = range(first, min(first + per, ids.stop))
        with transaction(app.sessions) as session:
            ctx = app.context("example", session)
            if one_by_one:
                for i in part:
                    queue_message(
                        ctx,
                        key=f"{prefix}/{channel}/{i}",
                        channel=channel,
                        recipient=recipient(i),
                        template=template,
                        context=context(i),
                        recipient_name=f"住户{i}",
                    )
            else:
                queue_many(
                    ctx,
                    (
                        OutboxItem(
                            key=f"{prefix}/{channel}/{i}",
                            channel=channel,
                            recipient=recipient(i),
                            template=template,
                            context=context(i),
                            recipient_name=f"住户{i}",
                        )
                        for i in part
                    ),
                )
    return time.perf_counter() - start


def interleaved(
    m: int, raw: Callable[[range], None], prepare: Callable[[range], object], ours: Callable[[], object]
) -> dict[str, Any]:
    """Time ``raw`` and kefu (``prepare`` untimed, then ``ours``) in alternating rounds.

    The machine's load drifts (other processes, CPU frequency); alternating rounds
    exposes both sides to the same drift, where two long runs one after the other
    would compare different moments.
    """
    raw_s = ours_s = 0.0
    per = -(-m // ROUNDS)
    for first in range(0, m, per):
        ids = range(first, min(first + per, m))
        start = time.perf_counter()
        raw(ids)
        raw_s += time.perf_counter() - start
        prepare(ids)
        start = time.perf_counter()
        ours()
        ours_s += time.perf_counter() - start
    return {
        "messages": m,
        "rounds": ROUNDS,
        "raw_per_s": round(m / raw_s, 1),
        "kefu_per_s": round(m / ours_s, 1),
        "ratio": round(raw_s / ours_s, 3),
    }


def against_dispatch(
    app: App, m: int, raw: Callable[[range], None], channel: str, recipient: Callable[[int], str], text: str
) -> dict[str, Any]:
    """``raw`` against kefu queuing the same notices (untimed) and dispatching them, in alternating
    rounds (see :func:`interleaved`); the app is disposed afterwards."""
    try:
        return interleaved(
            m,
            raw,
            lambda ids: queue_rows(app, ids, channel, recipient, "example/notice.txt", lambda i: {"text": text}),
            lambda: run_dispatch(app),
        )
    finally:
        app.dispose()


def bench_queue(tmp: Path, n: int) -> dict[str, Any]:
    app = make(tmp / "queue", {})
    args: tuple[Any, ...] = (
        "sms",
        lambda i: f"+86138{i:08d}",
        "example/fee.sms.txt",
        lambda i: {"item": "采暖费", "amount": 2345.5 + i % 100, "due": "2026-11-30"},
    )
    seconds = queue_rows(app, range(n), *args)
    rerun = queue_rows(app, range(n), *args)  # the same campaign again: every key exists
    single = max(n // 10, 1)
    one = queue_rows(app, range(single), *args, one_by_one=True, prefix="single")
    app.dispose()
    return {
        "rows": n,
        "seconds": round(seconds, 2),
        "rows_per_s": round(n / seconds),
        "rerun_seconds": round(rerun, 2),
        "queue_message_rows": single,
        "queue_message_per_s": round(single / one),
    }


class Peer:
    """A test peer (aiosmtpd or the Twilio-compatible API) in its own process.

    In this process the peer's thread would compete with the dispatcher for the GIL
    and add up to a switch interval (5 ms) to every round trip, which measures
    Python's scheduler rather than kefu; real peers are other processes.
    """

    def __init__(self, kind: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.info = json.loads(self.proc.stdout.readline())

    def stop(self) -> int:
        """Stop the peer; how many messages it received."""
        out, _ = self.proc.communicate(timeout=60)
        return int(json.loads(out.strip().splitlines()[-1])["received"])


def serve(kind: str) -> None:
    """Run a peer until stdin closes, then print how many messages it received."""
    # The peer keeps every message it receives, so its collector's full passes grow to tens
    # of milliseconds and, the rounds being deterministic, stall the same side's round on
    # every run (a kefu round of ~35 ms took ~85 ms). Its pauses are not what is measured.
    gc.disable()
    if kind == "smtp":
        server = SmtpServer().start()
        print(json.dumps({"port": server.port}), flush=True)
        sys.stdin.read()
        count = len(server.messages)
        server.stop()
    else:
        api = TwilioApi().start()
        print(json.dumps({"base": api.base, "token": api.auth_token}), flush=True)
        sys.stdin.read()
        count = len(api.messages)
        api.stop()
    print(json.dumps({"received": count}), flush=True)


def bench_email(tmp: Path, m: int) -> dict[str, Any]:
    peer = Peer("smtp")
    server = SmtpServer(peer.info["port"])  # for its host, port and config(); not started here
    try:
        messages = [
            email_bytes(
                Outgoing(
                    id=i,
                    key=str(i),
                    channel="email",
                    audience="customer",
                    recipient=f"h{i}@example.com",
                    recipient_name=f"住户{i}",
                    subject=f"[EX-2026-{i:06d}] 停水通知",
                    body=f"住户{i}：明日停水。\n",
                    message_id=f"<b{i}@kefu.example>",
                    case_number=None,
                ),
                from_address="kefu@kefu.example",
                from_name="客服中心",
                now=NOW,
            )
            for i in range(m)
        ]
        app = make(
            tmp / "email",
            {**server.config(), "smtp": {**server.config()["smtp"], "max_messages_per_connection": 1_000_000}},
        )

        def raw(ids: range) -> None:  # one connection per round, like one dispatch run
            with smtplib.SMTP(server.host, server.port) as conn:
                for i in ids:
                    conn.sendmail("kefu@kefu.example", [f"h{i}@example.com"], messages[i])

        result = against_dispatch(app, m, raw, "email", lambda i: f"h{i}@example.com", "明日停水。")
    finally:
        received = peer.stop()
    assert received == 2 * m, f"expected {2 * m} messages, got {received}"
    return result


def bench_sms(tmp: Path, m: int) -> dict[str, Any]:
    peer = Peer("twilio")
    os.environ[f"KEFU_{TOKEN_SECRET.upper()}"] = peer.info["token"]
    try:
        twilio = {
            "enabled": True,
            "account_sid": ACCOUNT_SID,
            "auth_token_secret": TOKEN_SECRET,
            "api_base": peer.info["base"],
            "from_number": "+8610690000",
        }
        app = make(tmp / "sms", {"sms_sender": "twilio"}, twilio)
        client = make_client(app.settings)

        def raw(ids: range) -> None:
            for i in ids:
                client.messages.create(
                    to=f"+86139{i:08d}", from_="+8610690000", body=f"【客服中心】住户{i}：明日停热。"
                )

        result = against_dispatch(app, m, raw, "sms", lambda i: f"+86139{i:08d}", "明日停热。")
    finally:
        received = peer.stop()
    assert received == 2 * m, f"expected {2 * m} messages, got {received}"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows queued, 500 messages each (< 1 min)")
    parser.add_argument("--queue", type=int, help="rows to queue (default 100,000; 20,000 with --quick)")
    parser.add_argument("--messages", type=int, help="messages per channel (default 2,000; 500 with --quick)")
    parser.add_argument("--serve", choices=["smtp", "twilio"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    n = args.queue or (20_000 if args.quick else 100_000)
    m = args.messages or (500 if args.quick else 2_000)
    with tempfile.TemporaryDirectory() as tmp:
        q = bench_queue(Path(tmp), n)
        print(
            f"queue: {q['rows']} fee-reminder rows rendered and queued in {q['seconds']} s "
            f"({q['rows_per_s']}/s; target 100,000 in < 60 s); re-run {q['rerun_seconds']} s; "
            f"queue_message alone {q['queue_message_per_s']}/s",
            file=sys.stderr,
        )
        e = bench_email(Path(tmp), m)
        print(f"email: kefu {e['kefu_per_s']}/s vs raw smtplib {e['raw_per_s']}/s = {e['ratio']:.0%}", file=sys.stderr)
        s = bench_sms(Path(tmp), m)
        print(
            f"sms: kefu {s['kefu_per_s']}/s vs raw twilio client {s['raw_per_s']}/s = {s['ratio']:.0%}", file=sys.stderr
        )
    worst = min(e["ratio"], s["ratio"])
    print(
        json.dumps(
            {
                "bench": "dispatch",
                "value": e["kefu_per_s"],
                "unit": "messages/s",
                "baseline": e["raw_per_s"],
                "ratio": worst,
                "email": e,
                "sms": s,
                "queue": q,
                "params": {"queue": n, "messages": m, "engine": "sqlite"},
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
