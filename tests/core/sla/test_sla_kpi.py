"""KPIs from case history against a hand-computed month; `kefu report`; the monthly mail to the heads.

The month (November 2026), all on Monday 2 November, times +08:00:

    A  leak S01 zhang   09:00 opened, 10:00 assigned, 12:00 resolved (4 h due 13:00: in time),
                        13:00 callback 5 → closed
    B  leak S01 wang    09:00 opened, 11:00 assigned, 15:00 resolved (due 13:00: late),
                        16:00 callback 2 → reopened (round 2 due 20:00), 19:00 resolved (in time);
                        1 December: callback 4 → closed (after the month: not in its figures)
    C  leak S02 li      09:00 opened, never answered (due 13:00: late)
    D  repair S02 -     09:00 opened, 10:00 acknowledged (first response due 11:00: in time);
                        resolution (5 working days, due 9 November) never met: late
    F  leak S01 zhang   opened 1 December: not in November

By hand, for the plugin: opened 4; closed (resolved or closed by 30 November by the
history) A, B → 2/4; resolution deadlines decided A✓ B1✗ B2✓ C✗ D✗ → 2/5; first
response D✓ → 1/1; breaches B1, C, D → 3; callbacks in November 5, 2 → 3.5; hours to
first response A 1, B 2, D 1 → median 1; to first resolution A 3, B 6 → median 4.5.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kefu.clock import FakeClock
from kefu.cron import CronRunner
from kefu.db.engine import transaction
from kefu.db.models import JobRun, OutboxMessage
from kefu.sla.cases import assign, find_case, open_case, record_callback, resolve, transition
from kefu.sla.kpi import compute_kpis, mail_monthly_report, month_bounds
from kefu.sla.registration import KPI_JOB


def local(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


def _row(
    opened: int,
    closed: int,
    closure: float | None,
    in_time: float | None,
    first: float | None,
    satisfaction: float | None,
    callbacks: int,
    breaches: int,
    med_first: float | None,
    med_res: float | None,
) -> dict[str, Any]:
    return {
        "opened": opened,
        "closed": closed,
        "closure_rate": closure,
        "in_time_rate": in_time,
        "first_response_in_time_rate": first,
        "satisfaction": satisfaction,
        "callbacks": callbacks,
        "breaches": breaches,
        "median_first_response_h": med_first,
        "median_resolution_h": med_res,
    }


EXPECTED = {
    ("plugin", "slatest"): _row(4, 2, 0.5, 0.4, 1.0, 3.5, 2, 3, 1.0, 4.5),
    ("unit", "slatest/S01"): _row(2, 2, 1.0, 0.6667, None, 3.5, 2, 1, 1.5, 4.5),
    ("unit", "slatest/S02"): _row(2, 0, 0.0, 0.0, 1.0, None, 0, 2, 1.0, None),
    ("person", "slatest/zhang"): _row(1, 1, 1.0, 1.0, None, 5, 1, 0, 1.0, 3.0),
    ("person", "slatest/wang"): _row(1, 1, 1.0, 0.5, None, 2, 1, 1, 2.0, 6.0),
    ("person", "slatest/li"): _row(1, 0, 0.0, 0.0, None, None, 0, 1, None, None),
    ("person", "slatest/-"): _row(1, 0, 0.0, 0.0, 1.0, None, 0, 1, 1.0, None),
}


def _at(clock: FakeClock, app: Any, when: str, func: Any, number: str, *args: Any, **kw: Any) -> None:
    clock.set(local(when))
    with transaction(app.sessions) as s:
        func(app.context("slatest", s), find_case(s, number), *args, **kw)


def _november(app: Any, clock: FakeClock) -> dict[str, str]:
    """Play the month of the module docstring; returns the case numbers by letter."""
    with transaction(app.sessions) as s:
        ctx = app.context("slatest", s)
        n = {
            "A": open_case(ctx, kind="slatest.leak", unit="S01", owner="zhang").number,
            "B": open_case(ctx, kind="slatest.leak", unit="S01", owner="wang").number,
            "C": open_case(ctx, kind="slatest.leak", unit="S02", owner="li").number,
            "D": open_case(ctx, kind="slatest.repair", unit="S02").number,
        }
    _at(clock, app, "2026-11-02T10:00", assign, n["A"], "zhang")
    _at(clock, app, "2026-11-02T10:00", transition, n["D"], "acknowledged")
    _at(clock, app, "2026-11-02T11:00", assign, n["B"], "wang")
    _at(clock, app, "2026-11-02T12:00", resolve, n["A"])
    _at(clock, app, "2026-11-02T13:00", record_callback, n["A"], 5)
    _at(clock, app, "2026-11-02T15:00", resolve, n["B"])
    _at(clock, app, "2026-11-02T16:00", record_callback, n["B"], 2)
    _at(clock, app, "2026-11-02T19:00", resolve, n["B"])
    clock.set(local("2026-12-01T10:00"))
    with transaction(app.sessions) as s:
        n["F"] = open_case(app.context("slatest", s), kind="slatest.leak", unit="S01", owner="zhang").number
    _at(clock, app, "2026-12-01T10:30", record_callback, n["B"], 4)
    return n


def test_kpis_per_plugin_unit_and_person_match_the_hand_computed_month(sla_app: Any, clock: FakeClock) -> None:
    app = sla_app()
    n = _november(app, clock)
    with app.sessions() as s:
        assert find_case(s, n["B"]).state == "closed"  # closed, but only in December
    start, end = month_bounds("2026-11", app.settings.tz)
    assert (start, end) == (local("2026-11-01T00:00"), local("2026-12-01T00:00"))
    with app.sessions() as s:
        rows = compute_kpis(s, start, end, clock.now())
    got = {(r["by"], r["group"]): {k: v for k, v in r.items() if k not in ("by", "plugin", "group")} for r in rows}
    assert got == EXPECTED


def test_report_command_prints_the_month_as_json_and_as_a_table(sla_app: Any, clock: FakeClock) -> None:
    from kefu.cli.main import cli

    app = sla_app()
    _november(app, clock)
    result = CliRunner().invoke(cli, ["report", "--period", "2026-11", "--json"], obj={"app": app})
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["period"] == "2026-11"
    assert {
        (r["by"], r["group"]): {k: v for k, v in r.items() if k not in ("by", "plugin", "group")}
        for r in report["rows"]
    } == EXPECTED
    table = CliRunner().invoke(cli, ["report", "--period", "2026-11"], obj={"app": app})
    assert table.exit_code == 0, table.output
    assert "slatest/S01" in table.output and "50.0%" in table.output and "66.7%" in table.output
    december = json.loads(CliRunner().invoke(cli, ["report", "--period", "2026-12", "--json"], obj={"app": app}).output)
    plugin_row = next(r for r in december["rows"] if r["by"] == "plugin")
    assert plugin_row["opened"] == 1 and plugin_row["satisfaction"] == 4  # F, and B's December callback
    bad = CliRunner().invoke(cli, ["report", "--period", "November", "--json"], obj={"app": app})
    assert bad.exit_code != 0 and "write e.g. '2026-11'" in bad.output


@pytest.mark.parametrize("catch_up", [False, True], ids=["two-daemons", "after-downtime"])
def test_monthly_kpi_mail_goes_once_to_each_head(
    sla_app: Any, sla_staff: dict[str, Any], clock: FakeClock, catch_up: bool, caplog: pytest.LogCaptureFixture
) -> None:
    staff = {**sla_staff, "people": {**sla_staff["people"], "qian": {"name": "钱总"}}}  # a head without email
    app = sla_app({"staff": staff, "sla": {"report_to": ["cs_head", "branch_head", "zhao", "qian"]}})
    assert KPI_JOB in app.jobs
    _november(app, clock)  # ends 1 December 10:30, after the 08:00 firing
    if catch_up:
        # A daemon was down over the firing: the next start runs it once (missed = run_once),
        # and so does a second daemon starting at the same time.
        with transaction(app.sessions) as s:
            s.add(
                JobRun(
                    job_id=KPI_JOB,
                    scheduled_at=local("2026-11-01T08:00"),
                    state="done",
                    node="old",
                    started_at=local("2026-11-01T08:00"),
                )
            )
        ran = [CronRunner(app, started_at=clock.now()).catch_up() for _ in range(2)]
        assert sorted(len(r) for r in ran) == [0, 1]
    else:
        runners = [CronRunner(app, started_at=local("2026-11-30T23:00")) for _ in range(2)]
        ran = [runner.run_due() for runner in runners]
        assert sorted(len(r) for r in ran) == [0, 1]  # the firing is claimed by one daemon only
    with transaction(app.sessions) as s:  # a repeated run (by hand, or after a crash) queues nothing new
        mail_monthly_report(app.context("kefu", s), local("2026-12-01T08:00"))
    with app.sessions() as s:
        mails = [
            m
            for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            if m.idem_key.startswith("kpi/2026-11/")
        ]
        assert sorted(m.recipient for m in mails) == ["wang@example.cn", "zhao@example.cn"]
        assert {m.channel for m in mails} == {"email"} and {m.template for m in mails} == {"core/kpi_report.txt"}
        for mail in mails:
            assert "2026-11" in (mail.subject or "")
            assert (
                "slatest：受理 4 件，关闭率 50.0%，及时率 40.0%（回复 100.0%），满意度 3.5，超时 3 次，"
                "首次回复中位 1.0 h，解决中位 4.5 h"
            ) in mail.body
    assert "qian has no email address" in caplog.text
