"""值班表: one source (the core's rotas), reminded the day before, a change told to both people."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from kefu.app import App
from kefu.db.models import RotaShift
from kefu.plugins.hr import jobs

from .conftest import at, cli, in_tx, outbox


def test_person_on_duty_is_reminded_the_day_before(hr_app: Callable[..., App], clock: Any) -> None:
    app = hr_app()
    clock.set(at("2026-09-06 16:00"))
    in_tx(app, jobs.duty_reminders, clock.now())
    in_tx(app, jobs.duty_reminders, clock.now())  # a rerun queues nothing twice
    (sms,) = outbox(app, template="hr/duty_reminder.txt", channel="sms")
    assert sms.recipient == "+8613900000002" and "2026-09-07" in sms.body  # E02, on the [staff.rotas] pattern


def test_a_roster_change_is_announced_to_both_people_and_escalations_follow_it(
    hr_app: Callable[..., App], clock: Any
) -> None:
    app = hr_app()
    clock.set(at("2026-09-06 10:00"))
    result = cli(app, "roster", "set", "cs-duty", "2026-09-07T08:00", "2026-09-07T20:00", "E03")
    assert result.exit_code == 0, result.output
    off = outbox(app, template="hr/duty_change_off.txt")
    on = outbox(app, template="hr/duty_change_on.txt")
    assert {m.recipient for m in off} == {"+8613900000002", "e02@cs.test"}
    assert {m.recipient for m in on} == {"+8613900000003"}
    # the one store: the core's dated shift, which every plugin's escalation reads
    with app.sessions() as s:
        assert [r.staff_key for r in s.scalars(select(RotaShift).where(RotaShift.rota == "cs-duty"))] == ["E03"]
    assert in_tx(app, lambda ctx: ctx.staff_for("rota:cs-duty", when=at("2026-09-07 09:00"))) == ["E03"]
    assert cli(app, "roster", "show", "cs-duty", "2026-09-07").output.strip() == "E03"
    clock.set(at("2026-09-06 16:00"))
    in_tx(app, jobs.duty_reminders, clock.now())
    assert [m.recipient for m in outbox(app, template="hr/duty_reminder.txt", channel="sms")] == ["+8613900000003"]
