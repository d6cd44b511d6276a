"""The console's changes run in the daemon's main thread (LoopWriter), one transaction each."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from kefu.console import writer as writer_module
from kefu.console.writer import Busy, LoopWriter
from kefu.db.models import StaffMember


def test_a_change_runs_in_the_thread_that_drains_and_its_error_comes_back(console_app) -> None:
    app = console_app()
    woken: list[str] = []
    loop_writer = LoopWriter(woken.append)
    ran_in: list[str] = []
    main = threading.current_thread().name

    def change(session):
        ran_in.append(threading.current_thread().name)
        session.get(StaffMember, "kf").name = "客服小何（改）"
        return "done"

    def refuse(session):
        session.get(StaffMember, "kf").name = "不应写入"
        raise ValueError("refused")

    results: dict[str, object] = {}

    def request(name, fn):
        try:
            results[name] = loop_writer.run(fn)
        except ValueError as exc:
            results[name] = exc

    threads = [
        threading.Thread(target=request, args=("ok", change)),
        threading.Thread(target=request, args=("no", refuse)),
    ]
    for t in threads:
        t.start()
    while len(woken) < 2:
        threading.Event().wait(0.01)
    # The "main loop": here, this test's own thread.
    while any(t.is_alive() for t in threads):
        loop_writer.drain(app)
        threading.Event().wait(0.01)
    assert results["ok"] == "done" and isinstance(results["no"], ValueError)
    assert ran_in == [main] and woken == ["console", "console"]
    with app.sessions() as s:
        assert s.scalars(select(StaffMember.name).where(StaffMember.key == "kf")).one() == "客服小何（改）"


def test_a_change_the_loop_never_takes_is_refused_not_lost(console_app, monkeypatch) -> None:
    monkeypatch.setattr(writer_module, "WAIT_SECONDS", 0.05)
    loop_writer = LoopWriter(lambda _what: None)
    with pytest.raises(Busy):
        loop_writer.run(lambda session: "never")
    assert loop_writer.drain(console_app()) == 0  # cancelled: it does not run later behind the person's back
