"""Case numbers: per prefix and year, human-readable, never issued twice."""

from __future__ import annotations

from kefu.db.engine import transaction
from kefu.sla.cases import open_case


def test_numbers_count_up_per_prefix_and_year(make_app) -> None:
    app = make_app()
    with transaction(app.sessions) as s:
        ctx = app.context("example", s)
        first = open_case(ctx, kind="example.request", title="a")
        second = open_case(ctx, kind="example.request", title="b")
        assert [e.type for e in first.events] == ["opened"]
    assert first.number == "EX-2026-000001"
    assert second.number == "EX-2026-000002"
