"""sd_notify against a real AF_UNIX datagram socket, and a no-op outside systemd."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from kefu.sdnotify import Notifier
from kefu.testing.daemons import NotifyListener


@pytest.fixture
def listener(tmp_path, monkeypatch):
    lst = NotifyListener(tmp_path / "notify")
    monkeypatch.setenv("NOTIFY_SOCKET", str(lst.path))
    yield lst
    lst.close()


def test_ready_reloading_watchdog_stopping_arrive_as_datagrams(listener):
    n = Notifier()
    assert n.enabled
    n.ready("running 1 plugins")
    n.reloading()
    n.watchdog()
    n.stopping()
    listener.wait_for("STOPPING")
    messages = [m for _at, m in listener.messages]
    assert messages[0] == {"READY": "1", "STATUS": "running 1 plugins"}
    assert messages[1]["RELOADING"] == "1" and int(messages[1]["MONOTONIC_USEC"]) > 0
    assert messages[2] == {"WATCHDOG": "1"}
    assert messages[3] == {"STOPPING": "1"}


def test_abstract_namespace_socket(monkeypatch):
    name = f"kefu-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        Notifier().ready()
        assert sock.recv(100) == b"READY=1\nSTATUS=running"


def test_no_socket_is_a_no_op(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    n = Notifier()
    assert not n.enabled
    n.ready()  # nothing to talk to, nothing raised


def test_a_vanished_socket_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    Notifier().watchdog()  # sd_notify(3) ignores errors; so do we


def test_watchdog_interval_is_half_of_watchdog_usec_for_our_pid(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "4000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert Notifier().watchdog_interval == 2.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert Notifier().watchdog_interval is None
    monkeypatch.delenv("WATCHDOG_USEC")
    assert Notifier().watchdog_interval is None
