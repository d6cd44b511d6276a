"""Holding Python's cyclic garbage collector while a batch runs.

A batch of work (due deadlines, inbound mail) allocates its ORM objects, parsed
messages and rows in one burst: some ten thousand containers, which trigger the
collector's generation passes over the daemon's whole heap (SQLAlchemy's mappers,
the plugins, the templates) in the middle of the batch — more time than the
batch's own work. Nothing a batch makes needs the cycle collector before the
batch ends (reference counting frees it when its session closes), so collection
waits and resumes right after.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the ``with`` block; re-enable it after (if it was on)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
