"""Benchmark the mail parser on hostile and huge mail: bounded time, whatever comes.

Cases, each parsed by kefu's ``parse_mail`` (within the default ``[channels.limits]``,
or refused by them) next to the stdlib's ``email.message_from_bytes`` (compat32) alone
on the same bytes, measured in the same run:

* a 1 MB Subject of RFC 2047 encoded words, and a 1 MB Subject of encoded words
  a client never closed (``=?utf-8?q?abc`` …): decoding is linear here, while the
  stdlib's ``decode_header`` on the whole header is quadratic on the second shape
  (timed on 20 KB of it for reference; 84 KB took 12.6 s in kefu before);
* a 10 MB mail (a photo attached);
* 1,000 nested multipart levels (refused by the part limit before parsing);
* 400 small parts.

    python bench/parse.py [--quick]

Ends with one JSON line: {"bench", "value", "unit", "baseline", "ratio", "params"}: the
1 MB header's parse time against the stdlib parser's on the same bytes.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import sys
import time
from collections.abc import Callable
from email.header import decode_header
from email.policy import compat32

from kefu.intake.mailparse import ParseError, parse_mail
from kefu.testing.mail import build_mail, encoded_word


def timed(call: Callable[[], object]) -> tuple[float, str]:
    """Seconds ``call`` took, and what it gave ("read" or the refusal's reason)."""
    started = time.perf_counter()
    try:
        call()
        outcome = "read"
    except ParseError as exc:
        outcome = f"refused: {exc}"[:90]
    return time.perf_counter() - started, outcome


def big_header(size: int) -> bytes:
    """A mail whose Subject is ``size`` bytes of encoded words."""
    words: list[str] = []
    held = 0
    while held < size:  # every word different: nothing is decoded once for many
        words.append(encoded_word(f"暖气漏水第{len(words)}次"))
        held += len(words[-1]) + 3
    subject = "\r\n ".join(words)
    return build_mail(subject="x").replace(b"Subject: x", b"Subject: " + subject.encode())


def nested(depth: int) -> bytes:
    raw = b"From: a@example.com\r\nSubject: x\r\n"
    raw += b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(depth))
    return raw + b"\r\nhi\r\n" + b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))


def main() -> int:
    """Run the cases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a quarter of the sizes")
    args = parser.parse_args()
    scale = 4 if args.quick else 1
    header = big_header((1 << 20) // scale)
    unclosed = ("=?utf-8?q?abc " * ((1 << 20) // scale // 14)).strip()
    cases = {
        "1 MB header of encoded words": header,
        "1 MB header of unclosed encoded words": build_mail(subject="x").replace(
            b"Subject: x", b"Subject: " + unclosed.encode()
        ),
        "10 MB mail": build_mail(attachments=[("漏水.jpg", "image/jpeg", os.urandom((10 << 20) // scale))]),
        "1,000 nested multiparts": nested(1000 // scale),
        "400 small parts": build_mail(attachments=[(f"{i}.txt", "text/plain", b"x") for i in range(400 // scale)]),
    }
    results = {}
    for name, raw in cases.items():
        kefu_s, outcome = timed(lambda raw=raw: parse_mail(raw))
        try:
            stdlib_s, _ = timed(lambda raw=raw: email.message_from_bytes(raw, policy=compat32))
        except RecursionError:  # the stdlib parser recurses once per level
            stdlib_s = -1.0
        results[name] = {
            "kefu_s": round(kefu_s, 3),
            "stdlib_parse_s": round(stdlib_s, 3),
            "outcome": outcome,
            "bytes": len(raw),
        }
        print(
            f"{name}: {len(raw)} bytes, kefu {kefu_s:.3f}s ({outcome}); stdlib parser alone "
            f"{'RecursionError' if stdlib_s < 0 else f'{stdlib_s:.3f}s'}",
            file=sys.stderr,
        )
    sample = unclosed[:20_000]
    stdlib_words_s, _ = timed(lambda: decode_header(sample))
    print(
        f"stdlib decode_header on {len(sample)} bytes of the unclosed words: {stdlib_words_s:.3f}s "
        "(quadratic: the megabyte would take minutes)",
        file=sys.stderr,
    )
    head = results["1 MB header of encoded words"]
    print(
        json.dumps(
            {
                "bench": "parse",
                "value": head["kefu_s"],
                "unit": "seconds for a 1 MB header",
                "baseline": head["stdlib_parse_s"],
                "ratio": round(head["kefu_s"] / max(head["stdlib_parse_s"], 1e-9), 2),
                "params": {
                    "cases": results,
                    "stdlib_decode_header_20kb_unclosed_s": round(stdlib_words_s, 3),
                    "scale": f"1/{scale}",
                },
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
