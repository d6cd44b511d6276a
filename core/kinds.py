"""Case kinds and their deadline policies, as plugins declare them through ``kefu_case_kinds``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CaseKind:
    """A kind of case a plugin owns (``heating.leak``).

    ``prefix`` starts its case numbers (``HT`` → ``HT-2026-000123``); ``urgent``
    lets its customer notifications ignore quiet hours (leaks, outages).
    """

    name: str
    title: str
    prefix: str
    urgent: bool = False
    steps: tuple[str, ...] = field(default_factory=tuple)
