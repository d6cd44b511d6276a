"""A call's deadline starts when the customer called (来电时间), not when the record is imported."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from kefu.app import App
from kefu.cli.main import cli
from kefu.clock import FakeClock
from kefu.db.models import Case, CaseEvent, Deadline
from kefu.passes import PassResult
from kefu.plugins.heating import imports
from kefu.testing.files import write_csv

from .conftest import HOUSEHOLD_HEADER, household_rows, in_tx, outbox

NIGHT_LEAK = datetime.fromisoformat("2026-11-02T23:40:00+08:00")
NOON_LEAK = datetime.fromisoformat("2026-11-02T12:30:00+08:00")  # 20 h before the import
EVENING_COMPLAINT = datetime.fromisoformat("2026-11-02T22:30:00+08:00")
CALLS = (
    "工单号,来电号码,来电时间,类别,地址,户号,内容,话务员\n"
    "96123-101,13900000001,2026-11-02 23:40:00,跑冒滴漏,1号楼1室,CB-0001,暖气管漏水,王\n"
    "96123-102,13900000003,2026-11-02 12:30:00,跑冒滴漏,1号楼3室,CB-0003,暖气片跑水,王\n"
    "96123-103,13900000007,2026-11-02 22:30:00,供热不热,20号楼7室,CB-0007,家里暖气不热,李\n"
)


def _app(heating_app: Callable[..., App], tmp_path: Path) -> App:
    app = heating_app(config={"channels": {"hotline": {"enabled": True}}})
    in_tx(app, imports.import_households, write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows()))
    return app


def _by_account(app: App) -> dict[str, tuple[Case, dict[str, Deadline]]]:
    with app.sessions() as s:
        out = {}
        for case in s.scalars(select(Case)):
            rows = {d.name: d for d in s.scalars(select(Deadline).where(Deadline.case_id == case.id))}
            out[case.data["account"]] = (case, rows)
        s.expunge_all()
        return out


def test_a_next_morning_hotline_import_of_a_night_leak_counts_from_the_call_and_escalates_at_once(
    heating_app: Callable[..., App], tmp_path: Path, clock: FakeClock, run_pass: Callable[[App], PassResult]
) -> None:
    app = _app(heating_app, tmp_path)
    clock.set("2026-11-03T08:30:00+08:00")  # the export of the night is imported in the morning
    path = tmp_path / "96123.csv"
    path.write_bytes(CALLS.encode("gb18030"))
    result = CliRunner().invoke(cli, ["import", "hotline", str(path)], obj={"app": app}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    run_pass(app)
    cases = _by_account(app)
    for account, called in (("CB-0001", NIGHT_LEAK), ("CB-0003", NOON_LEAK)):
        case, deadlines = cases[account]
        assert case.kind == "heating.leak" and case.opened_at == called
        resolution = deadlines["resolution"]
        assert resolution.started_at == called and resolution.due_at == called + timedelta(hours=4)
        # Already past its 4 h: breached, and the station on duty told, in the import's own pass.
        assert resolution.stage == "breached"
        # At once, to whoever is on duty now (the day shift), and once: not every missed repeat.
        told = [m.idem_key for m in outbox(app, audience="staff") if f"{case.number}/resolution/" in m.idem_key]
        assert told == [f"{case.number}/resolution/1/L1/R0/zhang/sms", f"{case.number}/resolution/1/L1/R0/zhang/email"]
    complaint, deadlines = cases["CB-0007"]
    assert complaint.opened_at == EVENING_COMPLAINT
    assert deadlines["resolution"].due_at == EVENING_COMPLAINT + timedelta(hours=24)
    assert deadlines["resolution"].stage == "pending"
    with app.sessions() as s:
        opened = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == cases["CB-0001"][0].id, CaseEvent.type == "opened")
        ).one()
    assert opened.at == NIGHT_LEAK and opened.data["recorded_at"].startswith("2026-11-03T00:30")


def test_a_call_logged_with_its_time_opens_its_case_at_that_time(
    heating_app: Callable[..., App], tmp_path: Path, clock: FakeClock, run_pass: Callable[[App], PassResult]
) -> None:
    app = _app(heating_app, tmp_path)
    clock.set("2026-11-03T08:30:00+08:00")
    result = CliRunner().invoke(
        cli,
        [
            "hotline",
            "log",
            "--caller",
            "13900000003",
            "--category",
            "跑冒滴漏",
            "--text",
            "暖气片跑水",
            "--account",
            "CB-0003",
            "--at",
            "2026-11-02 12:30",
        ],
        obj={"app": app},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    run_pass(app)
    case, deadlines = _by_account(app)["CB-0003"]
    assert case.opened_at == NOON_LEAK and deadlines["resolution"].stage == "breached"


def test_a_call_time_in_the_future_counts_as_now(
    heating_app: Callable[..., App], tmp_path: Path, clock: FakeClock, run_pass: Callable[[App], PassResult]
) -> None:
    app = _app(heating_app, tmp_path)
    result = CliRunner().invoke(
        cli,
        [
            "hotline",
            "log",
            "--caller",
            "13900000003",
            "--text",
            "暖气片跑水",
            "--account",
            "CB-0003",
            "--at",
            "2026-11-02 23:00",
        ],
        obj={"app": app},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    case, _deadlines = _by_account(app)["CB-0003"]
    assert case.opened_at == clock.now()
