"""Rendering a letter leaves WeasyPrint's and fontTools' INFO chatter out of the journal."""

from __future__ import annotations

import logging

import pytest

from kefu.logs import setup_logging
from kefu.senders.letters import html_to_pdf


def test_rendering_a_letter_logs_nothing_at_info(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(logging.INFO)
    try:
        html_to_pdf("<html><body style=\"font-family: 'Noto Serif CJK SC'\">工程维修通知单</body></html>")
        logging.getLogger("kefu.test").info("one line of our own")
    finally:
        logging.getLogger().handlers.clear()
    lines = capsys.readouterr().err.splitlines()
    assert [line for line in lines if "one line of our own" in line]
    assert not [line for line in lines if "weasyprint" in line or "fontTools" in line], lines[:5]
