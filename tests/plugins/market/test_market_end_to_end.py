"""End to end: the ledger imported by command, the daily jobs on a moved clock, a payment import midway."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from kefu.db.models import Case
from kefu.plugins.market.cli import market
from kefu.testing.files import write_csv

from .conftest import FEE_HEADER, PAY_HEADER, SHOP_HEADER, outbox, shop_rows

SH = "+08:00"


def _run(app, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(market, list(args), obj={"app": app}, catch_exceptions=False)
    return result.exit_code, result.output


def test_fee_line_walks_the_ladder_into_escalation_and_a_payment_stops_the_other(
    market_app, tmp_path: Path, clock, run_pass
) -> None:
    app = market_app()
    clock.set(f"2026-12-30T07:00:00{SH}")
    assert _run(app, "import", "shops", str(write_csv(tmp_path / "s.csv", SHOP_HEADER, shop_rows(2))))[0] == 0
    ledger = [
        ["3F-001", "租金", "2027-01", "3200", "2027-01-10"],
        ["3F-002", "租金", "2027-01", "2800", "2027-01-10"],
    ]
    code, out = _run(app, "import", "fees", str(write_csv(tmp_path / "f.csv", FEE_HEADER, ledger)))
    assert code == 0 and "2 created" in out
    run_pass(app)
    day = datetime.fromisoformat(f"2026-12-31T09:00:30{SH}")
    while day.date().isoformat() <= "2027-02-11":
        clock.set(day)
        run_pass(app)
        run_pass(app)  # a second pass the same day (a restart) queues nothing more
        if day.date().isoformat() == "2027-01-14":
            pay = write_csv(
                tmp_path / "p.csv",
                PAY_HEADER,
                [["3F-002", "租金", "2027-01", "2800", "2027-01-14"]],
            )
            assert _run(app, "import", "payments", str(pay))[0] == 0
        day += timedelta(days=1)

    def steps(phone: str) -> list[str]:
        return [m.idem_key.split("/")[3] for m in outbox(app, channel="sms", recipient=phone)]

    # Tenant 1 never pays: 7 d before, the day, every 3 d (13, 16 … 9 Feb) and no step twice.
    assert steps("+8613900000001") == ["before", "due", *(f"overdue-{n}" for n in range(1, 11))]
    # Tenant 2 paid on 14 Jan: nothing after the 13 Jan step.
    assert steps("+8613900000002") == ["before", "due", "overdue-1"]
    letters = outbox(app, channel="letter")
    assert len(letters) == 12 + 3 and all(m.template == "market/fee_notice.html" for m in letters)
    with app.sessions() as s:
        cases = list(s.scalars(select(Case).where(Case.kind == "market.arrears")))
    # 30 d overdue on 9 Feb: one case for the market manager, for tenant 1's line only.
    assert [(c.owner, c.data["shop_no"]) for c in cases] == [("mm", "3F-001")]
    assert cases[0].opened_at.astimezone(clock.now().tzinfo).date().isoformat() == "2027-02-09"
    lists = [m for m in outbox(app, recipient="f3@market.test") if "/overdue/" in m.idem_key]
    assert len(lists) == len({m.idem_key for m in lists}) == 32  # 11 Jan … 11 Feb, one a day
