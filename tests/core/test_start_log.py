"""The daemon's start log carries check-config's warnings and says when letters would wait."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kefu.daemon import log_start_warnings


def test_the_start_log_repeats_the_calendar_warning_as_text(make_app, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    app.warnings = [*app.warnings, "calendar: no holiday data for 2031 (…)"]
    with caplog.at_level(logging.WARNING, logger="kefu"):
        log_start_warnings(app)
    assert "calendar: no holiday data for 2031 (…)" in caplog.messages
    assert not [m for m in caplog.messages if m.startswith("[")]  # text, not a Python list


def test_the_start_log_says_letters_will_wait_without_the_font(
    make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<fontconfig></fontconfig>\n', encoding="utf-8")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    with caplog.at_level(logging.WARNING, logger="kefu"):
        log_start_warnings(app)
    (line,) = [r for r in caplog.records if r.getMessage().startswith("letters will wait")]
    assert line.levelno == logging.ERROR and "apt-get install fonts-noto-cjk" in line.getMessage()
