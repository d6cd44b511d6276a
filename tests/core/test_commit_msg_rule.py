"""The commit-msg hook's rule: subject under 72 characters, no period, blank second line."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("check_commit_msg", ROOT / "tools" / "check_commit_msg.py")
assert spec and spec.loader
rule = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rule)


def test_a_good_message_passes() -> None:
    assert rule.problems("Watch the Maildir so a dropped mail is read at once\n\nWhy it matters.\n") == []


def test_a_long_subject_a_period_and_no_blank_line_are_named() -> None:
    found = rule.problems("x" * 80 + ".\nno blank line\n")
    assert len(found) == 3 and "81 characters" in found[0]


def test_an_empty_subject_is_named() -> None:
    assert rule.problems("# only a comment\n") == ["the subject line is empty"]
