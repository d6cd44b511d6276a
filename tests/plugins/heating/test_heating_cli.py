"""``kefu heating …`` commands: imports with bad rows by line, outages, callbacks, fees, reports."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kefu.plugins.heating.cli import heating
from kefu.plugins.heating.customer_cases import answer_callback
from kefu.testing.files import write_csv

from .conftest import HOUSEHOLD_HEADER, household_rows, in_tx, outbox


def _run(app, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(heating, list(args), obj={"app": app}, catch_exceptions=False)
    return result.exit_code, result.output


def test_import_households_command_reports_bad_lines_and_exits_2(heating_app, tmp_path: Path) -> None:
    app = heating_app()
    rows = [*household_rows(2, 0), ["CB-0009", "x", "", "a", "1", "NOPE", "", "1", "已缴"]]
    path = write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, rows, encoding="gb18030")
    code, out = _run(app, "import", "households", str(path))
    assert code == 2 and "2 created" in out and f"{path}:4: station 'NOPE'" in out
    code, out = _run(app, "import", "households", str(path))
    assert "0 created" in out and "2 unchanged" in out


def test_outage_commands_and_log(heating_app, tmp_path: Path) -> None:
    app = heating_app()
    _run(app, "import", "households", str(write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows())))
    code, out = _run(app, "outage", "start", "--station", "S02", "--cause", "设备故障", "--expected-end", "18:00")
    assert code == 0 and "4 households texted" in out
    number = out.split(":")[0]
    code, out = _run(app, "outage", "end", number)
    assert code == 0 and "4 households texted" in out
    code, out = _run(app, "outage", "log", "--json")
    (row,) = json.loads(out)
    assert row["group"] == "设备故障、管网渗漏" and row["households"] == 4
    code, out = _run(app, "outage", "start", "--station", "S99", "--cause", "停电")
    assert code == 1 and "unknown station" in out


def test_callbacks_list_and_phone_answer(heating_app, tmp_path: Path, clock, run_pass) -> None:
    from sqlalchemy import select

    from kefu.db.models import Customer
    from kefu.sla.cases import find_case, open_case, resolve

    app = heating_app()
    _run(app, "import", "households", str(write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows())))

    def go(ctx):
        cust = ctx.db().scalars(select(Customer).where(Customer.ref == "CB-0001")).one()
        case = open_case(ctx, kind="heating.general", title="暖气不热", customer=cust)
        resolve(ctx, case)
        return case.number

    number = in_tx(app, go)
    clock.advance(hours=49)
    run_pass(app)
    code, out = _run(app, "callbacks", "--json")
    assert [r["case"] for r in json.loads(out)] == [number]
    code, out = _run(app, "callback", number, "满意", "--by", "zhang")
    assert code == 0 and "closed" in out
    assert json.loads(_run(app, "callbacks", "--json")[1]) == []
    assert in_tx(app, lambda ctx: answer_callback(ctx, find_case(ctx.db(), number), "满意")) is None


def test_fees_remind_and_nonpayers(heating_app, tmp_path: Path) -> None:
    app = heating_app()
    _run(app, "import", "households", str(write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows())))
    fees = write_csv(tmp_path / "f.csv", ["户号", "采暖期", "应收", "实收"], [["CB-0001", "2026", "100", "0"]])
    assert _run(app, "import", "fees", str(fees))[0] == 0
    assert "no fee campaign" in _run(app, "fees", "remind", "--date", "2026-11-03")[1]
    assert "1 reminders queued" in _run(app, "fees", "remind", "--date", "2026-11-03", "--force")[1]
    assert "0 reminders queued" in _run(app, "fees", "remind", "--date", "2026-11-03", "--force")[1]
    assert [r["account"] for r in json.loads(_run(app, "fees", "nonpayers", "--json")[1])] == ["CB-0001"]
    assert len(outbox(app, template="heating/fee_during.txt")) == 1


def test_reports_timeliness_and_complaint_rate(heating_app, tmp_path: Path, clock) -> None:
    from sqlalchemy import select

    from kefu.db.models import Customer
    from kefu.sla.cases import find_case, open_case, resolve

    app = heating_app()
    _run(app, "import", "households", str(write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows())))

    def opened(ctx, ref: str, kind: str):
        cust = ctx.db().scalars(select(Customer).where(Customer.ref == ref)).one()
        return open_case(ctx, kind=kind, title="x", customer=cust).number

    fast = in_tx(app, opened, "CB-0001", "heating.leak")
    slow = in_tx(app, opened, "CB-0002", "heating.leak")
    in_tx(app, opened, "CB-0007", "heating.general")
    clock.advance(hours=2)
    in_tx(app, lambda ctx: resolve(ctx, find_case(ctx.db(), fast)))
    clock.advance(hours=3)
    in_tx(app, lambda ctx: resolve(ctx, find_case(ctx.db(), slow)))
    rows = json.loads(_run(app, "report", "timeliness", "--json")[1])
    assert {r["station"]: (r["in_time"], r["cases"]) for r in rows} == {"S01": (1, 2), "S02": (0, 1)}
    rows = json.loads(_run(app, "report", "timeliness", "--by", "person", "--json")[1])
    assert {r["person"]: (r["in_time"], r["cases"]) for r in rows} == {"zhang": (1, 2), "wang": (0, 1)}
    rates = {r["station"]: r["per_1000"] for r in json.loads(_run(app, "report", "complaint-rate", "--json")[1])}
    assert rates == {"S01": round(2 * 1000 / 6, 2), "S02": 250.0}
