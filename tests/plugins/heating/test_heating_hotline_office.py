"""Hotline case 热线 (96123): imported calls become cases by category; the office gets the 办复 reply."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from kefu.cli.main import cli
from kefu.db.models import Case
from kefu.plugins.heating import imports
from kefu.sla.cases import find_case, resolve
from kefu.testing.files import write_csv

from .conftest import HOUSEHOLD_HEADER, household_rows, in_tx, outbox

CALLS = (
    "工单号,来电号码,来电时间,类别,地址,户号,内容,话务员\n"
    "96123-001,13900000001,2026-11-02 08:10:00,跑冒滴漏,1号楼1室,CB-0001,卫生间暖气管,王\n"
    "96123-002,13900000007,2026-11-02 08:20,供热不热,20号楼7室,CB-0007,家里暖气不热,李\n"
)


def test_hotline_calls_are_classified_by_category_and_answered_to_the_office(
    heating_app, tmp_path: Path, run_pass
) -> None:
    app = heating_app(config={"channels": {"hotline": {"enabled": True}}})
    in_tx(app, imports.import_households, write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows()))
    path = tmp_path / "96123.csv"
    path.write_bytes(CALLS.encode("gb18030"))
    result = CliRunner().invoke(cli, ["import", "hotline", str(path)], obj={"app": app}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    run_pass(app)
    with app.sessions() as s:
        cases = {c.data.get("account"): (c.kind, c.unit, c.number) for c in s.scalars(select(Case))}
    assert cases["CB-0001"][:2] == ("heating.leak", "S01")
    assert cases["CB-0007"][:2] == ("heating.general", "S02")
    number = cases["CB-0001"][2]
    in_tx(app, lambda ctx: resolve(ctx, find_case(ctx.db(), number), actor="zhang"))
    (reply,) = outbox(app, template="heating/hotline_reply.txt")
    assert reply.recipient == "rexian@city.test" and "96123-001" in reply.body and number in reply.subject
    # 每件必回访: the household is called back as well
    assert [m.recipient for m in outbox(app, template="heating/callback.txt")] == ["+8613900000001"]
