"""The commit-msg hook: a subject under 72 characters, without a trailing period, then a blank line.

Run by pre-commit with the message file as its argument (see .pre-commit-config.yaml).
"""

from __future__ import annotations

import sys
from pathlib import Path

MAX_SUBJECT = 72


def problems(message: str) -> list[str]:
    """What is wrong with ``message`` (comment lines, as git strips them, are ignored)."""
    lines = [line for line in message.splitlines() if not line.startswith("#")]
    if not lines or not lines[0].strip():
        return ["the subject line is empty"]
    subject = lines[0]
    found = []
    if len(subject) >= MAX_SUBJECT:
        found.append(
            f"the subject has {len(subject)} characters; keep it under {MAX_SUBJECT} and put the detail in the body"
        )
    if subject.rstrip().endswith("."):
        found.append("the subject ends with a period")
    if len(lines) > 1 and lines[1].strip():
        found.append("the second line must be blank (subject, blank line, body)")
    return found


def main(argv: list[str]) -> int:
    """Check the message file ``argv[1]``; 1 with the reasons when it does not pass."""
    found = problems(Path(argv[1]).read_text(encoding="utf-8"))
    for problem in found:
        print(f"commit message: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
