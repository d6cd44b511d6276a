"""``kefu run`` on a terminal shows where mail goes in, where messages land, the URLs, what next."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kefu.app import build_app
from kefu.run_banner import banner, should_show

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_banner_says_where_to_drop_mail_and_what_to_try(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    app = build_app(ROOT / "examples" / "demo.toml")
    try:
        text = banner(app, [("GET", "/healthz"), ("POST", "/channels/hotline/calls")], "http://127.0.0.1:8480")
    finally:
        app.dispose()
    assert "drop .eml files into demo-state/maildir/new/" in text
    assert "SMS      demo-state/spool/sms.jsonl" in text
    assert "GET  http://127.0.0.1:8480/healthz  health" in text and "UTC" in text
    assert "POST http://127.0.0.1:8480/channels/hotline/calls  hotline API" in text
    assert "cp plugins/heating/demo/leak.eml demo-state/maildir/new/" in text
    assert "kefu --config examples/demo.toml cases list" in text


def test_the_banner_is_for_terminals_only() -> None:
    assert not should_show(io.StringIO())

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert should_show(Terminal())
