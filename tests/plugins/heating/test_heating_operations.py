"""Temperature checks, outages, fees and 关栓, visits, audit, coal lab.

One test per rule-table row (plugins/heating/README.md).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from kefu.db.models import Case, Customer, OutboxMessage
from kefu.plugins.heating import fees, imports, outages, visits
from kefu.plugins.heating.models import CoalSample, Outage
from kefu.sla.cases import find_case
from kefu.testing.files import write_csv

from .conftest import HOUSEHOLD_HEADER, household_rows, in_tx, outbox

MEAS_HEADER = ["户号", "测温时间", "室温"]


@pytest.fixture
def app(heating_app, tmp_path: Path):
    a = heating_app()
    in_tx(a, imports.import_households, write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows()))
    return a


def _cases(app, kind: str) -> list[Case]:
    with app.sessions() as s:
        rows = list(s.scalars(select(Case).where(Case.kind == kind).order_by(Case.id)))
        s.expunge_all()
        return rows


# ---------------------------------------------------------------- 测温


def test_reading_below_18_opens_a_low_temperature_case_once(app, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "m.csv",
        MEAS_HEADER,
        [
            ["CB-0001", "2026-11-02 10:00", "16.5"],
            ["CB-0002", "2026-11-02 10:05", "18.0"],
            ["CB-0001", "2026-11-02 11:00", "16.0"],
        ],
    )
    in_tx(app, imports.import_measurements, path)
    (case,) = _cases(app, "heating.low_temp")
    assert case.unit == "S01" and case.data["measured_c"] == 16.5
    assert in_tx(app, imports.import_measurements, path).unchanged == 3
    assert len(_cases(app, "heating.low_temp")) == 1


def test_threshold_comes_from_config(heating_app, tmp_path: Path) -> None:
    a = heating_app(heating={"temperature": {"threshold_c": 16}})
    in_tx(a, imports.import_households, write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows()))
    in_tx(
        a,
        imports.import_measurements,
        write_csv(tmp_path / "m.csv", MEAS_HEADER, [["CB-0001", "2026-11-02 10:00", "16.5"]]),
    )
    assert _cases(a, "heating.low_temp") == []


def test_remeasurement_at_or_above_threshold_resolves_and_calls_back(app, tmp_path: Path, clock) -> None:
    in_tx(
        app,
        imports.import_measurements,
        write_csv(tmp_path / "m1.csv", MEAS_HEADER, [["CB-0001", "2026-11-02 09:00", "15"]]),
    )
    clock.advance(hours=5)
    in_tx(
        app,
        imports.import_measurements,
        write_csv(tmp_path / "m2.csv", MEAS_HEADER, [["CB-0001", "2026-11-02 14:00", "19.5"]]),
    )
    (case,) = _cases(app, "heating.low_temp")
    assert case.state == "callback"
    assert [m.template for m in outbox(app, audience="customer")] == ["heating/ack.txt", "heating/callback.txt"]


# ---------------------------------------------------------------- 停缓供


def _opt_out(app, account: str) -> None:
    def go(ctx):
        ctx.db().scalars(select(Customer).where(Customer.ref == account)).one().sms_opt_out = True

    in_tx(app, go)


def test_outage_texts_exactly_the_affected_households_once_each_honouring_opt_outs(app) -> None:
    _opt_out(app, "CB-0003")
    number, sent = in_tx(
        app,
        lambda ctx: (lambda r: (r[0].number, r[1]))(
            outages.start_outage(ctx, stations=["S01"], buildings=["S02/20"], cause="停电", expected_end="18:00")
        ),
    )
    # S01 has CB-0001..0006, S02 building 20 has CB-0007..0010; CB-0003 opted out.
    expected = {f"+861390000{i:04d}" for i in range(1, 11) if i != 3}
    starts = [m for m in outbox(app, audience="customer") if m.template == "heating/outage_start.txt"]
    assert sent == 9 and {m.recipient for m in starts} == expected and len(starts) == 9
    assert all(m.urgent for m in starts)
    # reported up the chain at once: S01 on duty, S02 on duty, both branch heads, CS-centre head
    told = {m.recipient for m in outbox(app, audience="staff") if m.channel == "email"}
    assert {"zhang@heat.test", "wang@heat.test", "zhao@heat.test", "zhou@heat.test", "liu@heat.test"} <= told
    _, sent_end = in_tx(app, lambda ctx: outages.end_outage(ctx, number))
    ends = [m for m in outbox(app, audience="customer") if m.template == "heating/outage_end.txt"]
    assert sent_end == 9 and {m.recipient for m in ends} == expected and all(m.urgent for m in ends)
    assert any(m.template == "heating/outage_summary.txt" and m.recipient == "liu@heat.test" for m in outbox(app))
    with pytest.raises(outages.OutageError, match="already ended"):
        in_tx(app, lambda ctx: outages.end_outage(ctx, number))


def test_outage_by_building_only_hits_that_building(app) -> None:
    in_tx(app, lambda ctx: outages.start_outage(ctx, stations=[], buildings=["S01/9"], cause="管网渗漏"))
    starts = outbox(app, template="heating/outage_start.txt")
    assert len(starts) == 3  # CB-0002, 0004, 0006


def test_outage_log_counts_by_cause_group(app) -> None:
    for cause in ["停水", "停电", "设备故障"]:
        number = in_tx(
            app, lambda ctx, c=cause: outages.start_outage(ctx, stations=["S02"], buildings=[], cause=c)[0].number
        )
        in_tx(app, lambda ctx, n=number: outages.end_outage(ctx, n))
    rows, counts = in_tx(app, lambda ctx: (lambda r: ([o.cause for o in r[0]], r[1]))(outages.outage_log(ctx)))
    assert len(rows) == 3 and counts == {"water_power": 2, "equipment_pipe": 1}


def test_outage_of_unknown_station_is_refused(app) -> None:
    with pytest.raises(outages.OutageError, match="unknown station"):
        in_tx(app, lambda ctx: outages.start_outage(ctx, stations=["S77"], buildings=[], cause="停电"))
    with app.sessions() as s:
        assert s.scalars(select(Outage)).all() == []


# ---------------------------------------------------------------- 采暖费 and 关栓

FEE_HEADER = ["户号", "采暖期", "应收", "实收"]


def _ledger(app, tmp_path: Path) -> None:
    rows = [[f"CB-{i:04d}", "2026", "2000", "2000" if i % 2 else "0"] for i in range(1, 11)]
    in_tx(app, imports.import_fees, write_csv(tmp_path / "fees.csv", FEE_HEADER, rows))


def test_fee_reminder_campaign_queues_one_per_owing_household_and_a_rerun_none(app, tmp_path: Path) -> None:
    _ledger(app, tmp_path)
    _opt_out(app, "CB-0004")
    assert in_tx(app, fees.run_campaign, date(2026, 10, 8)) == ("before", 4)  # 2, 6, 8, 10
    assert in_tx(app, fees.run_campaign, date(2026, 10, 8)) == ("before", 0)
    assert in_tx(app, fees.run_campaign, date(2026, 10, 9)) == (None, 0)
    assert in_tx(app, fees.run_campaign, date(2026, 12, 15)) == ("during", 4)
    templates = sorted({m.template for m in outbox(app, audience="customer")})
    assert templates == ["heating/fee_before.txt", "heating/fee_during.txt"]


def test_owing_households_without_a_phone_get_a_fee_letter_instead(app, tmp_path: Path) -> None:
    _ledger(app, tmp_path)

    def no_phone(ctx):
        ctx.db().scalars(select(Customer).where(Customer.ref == "CB-0002")).one().phone = None

    in_tx(app, no_phone)
    assert in_tx(app, fees.run_campaign, date(2026, 10, 8)) == ("before", 5)
    (letter,) = outbox(app, channel="letter")
    assert letter.template == "heating/fee_letter.html" and letter.idem_key.endswith("CB-0002/letter")
    assert in_tx(app, fees.run_campaign, date(2026, 10, 8)) == ("before", 0)


def test_fee_reminder_job_fires_on_the_configured_day(app, tmp_path: Path, clock, run_pass) -> None:
    _ledger(app, tmp_path)
    run_pass(app)
    clock.set("2026-11-15T10:00:30+08:00")
    run_pass(app)
    assert len(outbox(app, template="heating/fee_during.txt")) == 5


def test_shutoff_tasks_go_to_stations_and_unpaid_not_shut_escalates_to_branch(app, tmp_path: Path) -> None:
    _ledger(app, tmp_path)
    numbers = in_tx(app, lambda ctx: [c.number for c in fees.create_shutoff_checks(ctx, date(2026, 10, 25))])
    assert len(numbers) == 2  # S01 (2, 4, 6) and S02 (8, 10)
    assert in_tx(app, lambda ctx: fees.create_shutoff_checks(ctx, date(2026, 10, 25))) == []
    assert any(m.template == "heating/shutoff_task.txt" and m.recipient == "zhang@heat.test" for m in outbox(app))
    assert in_tx(app, lambda ctx: fees.record_shutoff_finding(ctx, "CB-0002", "shut", season_year=2026)) is None
    esc = in_tx(app, lambda ctx: fees.record_shutoff_finding(ctx, "CB-0004", "not_shut", season_year=2026).number)
    with app.sessions() as s:
        case = find_case(s, esc)
        assert case.kind == "heating.shutoff_escalation" and case.owner == "zhao"
    assert any(m.template == "heating/shutoff_escalation.txt" and m.recipient == "zhao@heat.test" for m in outbox(app))
    in_tx(app, lambda ctx: fees.record_shutoff_finding(ctx, "CB-0006", "paid", season_year=2026))
    with app.sessions() as s:
        assert find_case(s, numbers[0]).state == "resolved"


# ---------------------------------------------------------------- 包保走访


def test_missed_week_escalates_to_branch_and_reminder_goes_to_responsible(app) -> None:
    in_tx(app, lambda ctx: imports.record_visit(ctx, "S01", date(2026, 11, 3), staff="resp1"))
    assert in_tx(app, visits.midweek_reminder, date(2026, 11, 5)) == ["S02"]
    short = in_tx(app, visits.weekly_check, date(2026, 11, 9))
    assert list(short) == ["S02"]
    (case,) = _cases(app, "heating.visit_shortfall")
    assert case.owner == "zhou" and case.unit == "S02"


def test_monthly_check_counts_visits_and_far_end_households_and_mails_summary(app) -> None:
    for d in range(2, 8):
        in_tx(
            app, lambda ctx, d=d: imports.record_visit(ctx, "S01", date(2026, 11, d), staff="resp1", account="CB-0002")
        )
    short = in_tx(app, visits.monthly_check, date(2026, 12, 1))
    assert short["S01"] == ["本月走访远端用户 1 户，少于 5 户"]
    assert short["S02"][0] == "本月走访 0 次，少于 6 次"
    summaries = outbox(app, template="heating/visit_summary.txt")
    assert {m.recipient for m in summaries} == {"zhao@heat.test", "zhou@heat.test", "liu@heat.test"}


def test_visit_jobs_run_on_schedule_in_season(app, clock, run_pass) -> None:
    run_pass(app)
    clock.set("2026-11-09T09:00:30+08:00")
    run_pass(app)
    assert {c.unit for c in _cases(app, "heating.visit_shortfall")} == {"S01", "S02"}


# ---------------------------------------------------------------- 稽查

AUDIT_HEADER = ["稽查编号", "户号", "类型", "面积", "层高", "稽查日期"]


def test_audit_finding_opens_rectification_case_due_15d_with_letter(app, tmp_path: Path) -> None:
    rows = [
        ["JC-1", "CB-0001", "地下室下挖、外扩", "13", "2.4", "2026-11-02"],
        ["JC-2", "CB-0002", "basement_extension", "10", "2.1", "2026-11-02"],
        ["JC-3", "CB-0003", "私增供热面积", "25.5", "", "2026-11-02"],
    ]
    path = write_csv(tmp_path / "a.csv", AUDIT_HEADER, rows)
    report = in_tx(app, imports.import_audit, path)
    assert report.created == 3 and len(report.notes) == 1
    cases = _cases(app, "heating.audit")
    assert len(cases) == 2
    with app.sessions() as s:
        case = find_case(s, cases[0].number)
        (deadline,) = case.deadlines
        assert deadline.due_at - case.opened_at == __import__("datetime").timedelta(days=15)
    letters = outbox(app, template="heating/rectification_notice.html")
    assert len(letters) == 2 and letters[0].channel == "letter"
    assert in_tx(app, imports.import_audit, path).unchanged == 3


# ---------------------------------------------------------------- 煤质化验

COAL_HEADER = ["样品编号", "项目", "第一次", "第二次"]


def test_coal_lab_mean_reported_and_out_of_tolerance_retested(app, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "c.csv", COAL_HEADER, [["C1", "sulfur_pct", "0.61", "0.63"], ["C2", "sulfur_pct", "0.61", "0.80"]]
    )
    in_tx(app, imports.import_coal_lab, path)
    (retest,) = _cases(app, "heating.coal_retest")
    assert retest.data["sample"] == "C2"
    (report,) = outbox(app, template="heating/coal_report.txt")
    assert report.recipient == "fuel@heat.test"
    assert report.data["context"]["rows"] == [
        {"sample": "C1", "measure": "sulfur_pct", "first": 0.61, "second": 0.63, "mean": 0.62}
    ]
    assert outbox(app, template="heating/coal_retest.txt")[0].recipient == "lab@heat.test"
    # the retest comes back within tolerance: the retest case closes
    in_tx(
        app,
        imports.import_coal_lab,
        write_csv(tmp_path / "c2.csv", COAL_HEADER, [["C2", "sulfur_pct", "0.70", "0.72"]]),
    )
    assert _cases(app, "heating.coal_retest")[0].state == "closed"
    with app.sessions() as s:
        assert s.scalars(select(CoalSample).where(CoalSample.sample == "C2")).one().mean == 0.71
        assert s.query(OutboxMessage).count() >= 3
