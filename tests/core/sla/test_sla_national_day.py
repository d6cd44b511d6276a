"""A workday deadline opened on the Friday before National Day 2025 (make-up Sunday 09-28)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from test_sla_lifecycle import _deadlines, _open, local

from kefu.clock import FakeClock
from kefu.sla.sweep import run_sweep


@pytest.fixture
def clock() -> FakeClock:
    """Friday 2025-09-26 16:30 in Shanghai."""
    return FakeClock("2025-09-26T16:30:00+08:00")


def test_workday_deadline_opened_friday_before_national_day_ends_after_the_make_up_sunday(
    sla_app: Any, clock: FakeClock
) -> None:
    app = sla_app()
    _open(app)
    d = _deadlines(app)
    assert d[("first_response", 1)].due_at == local("2025-09-28T09:30")  # 1 h Friday + 1 h make-up Sunday
    assert d[("resolution", 1)].due_at == local("2025-10-10T17:30")  # 5 working days, Golden Week off
    # Staff warnings for a non-urgent complaint wait for working time.
    clock.set(local("2025-09-28T10:00"))
    run_sweep(app)
    from kefu.db.models import OutboxMessage

    with app.sessions() as s:
        assert {r.not_before for r in s.scalars(select(OutboxMessage))} == {local("2025-09-28T10:00")}
