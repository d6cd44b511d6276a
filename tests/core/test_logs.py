"""Logs: journald priority prefixes under systemd, and personal data masked whoever logs it."""

from __future__ import annotations

import logging

from kefu.logs import MaskingFormatter, mask_personal


def record(msg: str, level: int = logging.INFO, *args: object) -> logging.LogRecord:
    return logging.LogRecord("kefu.plugins.heating", level, __file__, 1, msg, args, None)


def test_journald_lines_carry_the_priority_and_no_timestamp():
    fmt = MaskingFormatter(journald=True)
    assert fmt.format(record("sweep done", logging.INFO)) == "<6>kefu.plugins.heating: sweep done"
    assert fmt.format(record("two\nlines", logging.ERROR)) == "<3>kefu.plugins.heating: two\n<3>lines"


def test_phone_numbers_emails_and_id_numbers_are_masked_in_every_message():
    fmt = MaskingFormatter(journald=False)
    line = fmt.format(
        record(
            "SMS to %s, mail to %s, ID %s", logging.INFO, "13812345678", "zhang.san@example.com", "11010519491231002X"
        )
    )
    assert "13812345678" not in line and "138****5678" in line
    assert "zhang.san@example.com" not in line and "z***@example.com" in line
    assert "11010519491231002X" not in line


def test_times_and_case_numbers_are_left_alone():
    text = "case HT-2026-000123 due 2026-11-02T09:00:00+08:00 (job 1700000000)"
    assert mask_personal(text) == text
