"""Issue 4 point 1 against a real Dovecot: store then mark, exactly once, IDLE, reconnects, timeouts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from kefu.app import App
from kefu.channels.runner import start_channels
from kefu.db.engine import transaction
from kefu.db.models import Case, ChannelState, InboundItem
from kefu.health import health_report
from kefu.intake.runner import run_intake
from kefu.testing.daemons import toml_dumps
from kefu.testing.dovecot import Dovecot, free_port
from kefu.testing.mail import build_mail


def _rows(app: App, model: type) -> list:
    with transaction(app.sessions) as session:
        key = next(iter(model.__table__.primary_key.columns))
        return list(session.scalars(select(model).order_by(key)))


def test_mail_becomes_a_case_and_is_marked_seen_with_the_keyword(
    imap_app: Callable[..., App], dovecot: Dovecot
) -> None:
    dovecot.append(build_mail(subject="暖气不热", subject_charset="gb2312", charset="gbk", text="3单元暖气不热"))
    app = imap_app()
    assert run_intake(app) == 1
    [case] = _rows(app, Case)
    assert case.kind == "heat.general" and case.title == "暖气不热"
    assert dovecot.flags() == {1: {b"\\Seen", b"KefuStored"}}
    [state] = _rows(app, ChannelState)
    assert state.cursor["mailbox"]["last_uid"] == 1 and state.last_success_at == app.clock.now()
    assert run_intake(app) == 0


def test_move_mode_moves_processed_mail(imap_app: Callable[..., App], dovecot: Dovecot) -> None:
    dovecot.append(build_mail(text="漏水"), build_mail(text="不热"))
    app = imap_app(mark="move", processed_folder="Processed")
    assert run_intake(app) == 2
    assert dovecot.flags() == {}
    assert len(dovecot.flags("Processed")) == 2


def test_several_mailboxes_each_with_its_default_kind(imap_app: Callable[..., App], dovecot: Dovecot) -> None:
    dovecot.append(build_mail(text="请联系我"))
    dovecot.append(build_mail(text="请尽快来人"), folder="Emergency")
    leaks = dovecot.channel_config(mailbox="Emergency", default_kind="heat.leak", idle=False, poll_interval="0s")
    app = imap_app({"channels": {"imap": {"emergency": leaks}}}, default_kind="heat.general")
    assert run_intake(app) == 2
    by_channel = {i.channel: i.case_id for i in _rows(app, InboundItem)}
    kinds = {c.id: c.kind for c in _rows(app, Case)}
    assert {ch: kinds[cid] for ch, cid in by_channel.items()} == {
        "imap:service": "heat.general",
        "imap:emergency": "heat.leak",
    }


def test_kill_9_between_store_and_mark_makes_one_case(
    imap_app: Callable[..., App], dovecot: Dovecot, tmp_path: Path
) -> None:
    dovecot.append(build_mail(text="漏水", message_id="<kill@client>"))
    app = imap_app()
    # A real process stores the message and is killed with SIGKILL before it can mark it.
    config = tmp_path / "child.toml"
    config.write_text(
        toml_dumps(
            {
                "kefu": {"state_dir": str(tmp_path / "child")},
                "database": {"url": app.settings.database_url()},
                "channels": {"imap": {"service": dovecot.channel_config(idle=False)}},
            }
        )
    )
    script = textwrap.dedent(f"""
        import os, signal
        import kefu.channels.imap as imap
        from kefu.app import build_app
        from kefu.channels.polling import poll_channels
        imap._mark = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        app = build_app({str(config)!r})
        poll_channels(app)
    """)
    env = {**os.environ, "KEFU_TEST_IMAP": dovecot.password}
    child = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=60)
    assert child.returncode == -9, child.stderr.decode()
    [stored] = _rows(app, InboundItem)
    assert stored.status == "pending"
    assert dovecot.flags() == {1: set()}  # stored, never marked
    run_intake(app)
    assert len(_rows(app, InboundItem)) == 1
    assert len(_rows(app, Case)) == 1
    assert dovecot.flags() == {1: {b"\\Seen", b"KefuStored"}}


def test_uidvalidity_change_and_redelivery_make_no_second_case(imap_app: Callable[..., App], dovecot: Dovecot) -> None:
    mails = [build_mail(text="漏水", message_id=f"<m{i}@client>") for i in range(3)]
    dovecot.append(*mails, folder="Repairs")
    app = imap_app(mailbox="Repairs")
    run_intake(app)
    assert len(_rows(app, Case)) == 3
    first = _rows(app, ChannelState)[0].cursor["mailbox"]["uidvalidity"]
    client = dovecot.client()
    client.delete_folder("Repairs")
    client.logout()
    time.sleep(1.1)  # UIDVALIDITY is a timestamp in Dovecot
    dovecot.append(*mails, folder="Repairs")
    run_intake(app)
    assert _rows(app, ChannelState)[0].cursor["mailbox"]["uidvalidity"] != first
    assert len(_rows(app, Case)) == 3
    assert sorted(i.status for i in _rows(app, InboundItem)) == ["duplicate"] * 3 + ["processed"] * 3


def test_idle_turns_new_mail_into_a_case_within_two_seconds(imap_app: Callable[..., App], dovecot: Dovecot) -> None:
    app = imap_app(idle=True, poll_interval="1h")
    woken = threading.Event()
    workers = start_channels(app, lambda _what: woken.set())
    try:
        assert woken.wait(5)  # the worker wakes intake once on connect
        run_intake(app)
        woken.clear()
        time.sleep(0.3)
        started = time.monotonic()
        dovecot.append(build_mail(text="漏水"))
        assert woken.wait(5)
        run_intake(app)
        elapsed = time.monotonic() - started
    finally:
        for worker in workers:
            worker.stop()
    assert len(_rows(app, Case)) == 1
    assert elapsed < 2.0


def test_server_restart_is_survived_and_failures_show_in_health(imap_app: Callable[..., App], dovecot: Dovecot) -> None:
    app = imap_app()
    run_intake(app)
    dovecot.stop()
    assert run_intake(app) == 0  # the failure is recorded, not raised
    [state] = _rows(app, ChannelState)
    assert "Connection refused" in (state.last_error or "")
    dovecot.start()
    dovecot.append(build_mail(text="漏水"))
    assert run_intake(app) == 0  # backing off: not due yet
    app.clock.advance(seconds=6)
    assert run_intake(app) == 1


def test_silent_channel_fails_healthz(imap_app: Callable[..., App], dovecot: Dovecot) -> None:
    app = imap_app(silence_alarm="10m")
    run_intake(app)
    report = health_report(app)
    assert next(c for c in report["checks"] if c["name"] == "channel:imap:service")["ok"]
    dovecot.stop()
    app.clock.advance(minutes=11)
    run_intake(app)
    [check] = [c for c in health_report(app)["checks"] if c["name"] == "channel:imap:service"]
    assert not check["ok"] and "SILENT" in check["detail"] and "last error" in check["detail"]


def test_a_hung_server_cannot_stall_the_channel(imap_app: Callable[..., App], dovecot: Dovecot) -> None:
    port = free_port()
    hung = socket.socket()
    hung.bind(("127.0.0.1", port))
    hung.listen(5)  # accepts connections, never says a word
    try:
        app = imap_app(port=port, timeout="1s")
        started = time.monotonic()
        assert run_intake(app) == 0
        assert time.monotonic() - started < 5
        [state] = _rows(app, ChannelState)
        assert "timed out" in (state.last_error or "").lower() or "timeout" in (state.last_error or "").lower()
    finally:
        hung.close()


def test_id_command_is_sent_where_offered(
    imap_app: Callable[..., App], dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imapclient import IMAPClient

    sent: list[dict[str, str]] = []
    original = IMAPClient.id_

    def spy(self: IMAPClient, parameters: dict[str, str] | None = None) -> object:
        sent.append(parameters or {})
        return original(self, parameters)

    monkeypatch.setattr(IMAPClient, "id_", spy)
    run_intake(imap_app())
    assert sent and sent[0]["name"] == "kefu"
