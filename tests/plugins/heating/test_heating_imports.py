"""Imports: households (UTF-8/GB18030, bad rows by line, idempotent), fee ledger, visits."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from kefu.api.imports import ImportFileError as CsvError
from kefu.db.models import Customer
from kefu.plugins.heating import imports
from kefu.plugins.heating.models import FeeEntry, Household, Visit
from kefu.testing.files import write_csv

from .conftest import HOUSEHOLD_HEADER, household_rows, in_tx


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_households_import_reads_utf8_and_gb18030(heating_app, tmp_path: Path, encoding: str) -> None:
    app = heating_app()
    path = write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows(), encoding=encoding)
    report = in_tx(app, imports.import_households, path)
    assert (report.read, report.created, report.errors) == (10, 10, [])
    with app.sessions() as s:
        hh = s.scalars(select(Household).where(Household.account == "CB-0002")).one()
        assert (hh.station, hh.building, hh.branch, hh.heated_area, hh.payment_status) == (
            "S01",
            "9",
            "B1",
            85.5,
            "paid",
        )
        cust = s.get(Customer, hh.customer_id)
        assert cust.phone == "+8613900000002" and cust.name == "住户2" and cust.plugin == "heating"


def test_households_import_is_idempotent_and_reports_updates(heating_app, tmp_path: Path) -> None:
    app = heating_app()
    rows = household_rows()
    path = write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, rows)
    in_tx(app, imports.import_households, path)
    again = in_tx(app, imports.import_households, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10)
    rows[0][2] = "13911112222"
    changed = in_tx(app, imports.import_households, write_csv(tmp_path / "hh2.csv", HOUSEHOLD_HEADER, rows))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 9)
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Household)) == 10
        assert s.scalar(select(func.count()).select_from(Customer)) == 10


def test_bad_household_rows_are_reported_by_line_and_the_rest_land(heating_app, tmp_path: Path) -> None:
    app = heating_app()
    rows = household_rows(3, 0)
    rows.insert(1, ["CB-0100", "x", "12345abc", "addr", "1", "S01", "B1", "80", "已缴"])  # line 3: bad phone
    rows.insert(2, ["CB-0101", "x", "", "addr", "1", "S99", "B1", "80", "已缴"])  # line 4: unknown station
    rows.append(["CB-0001", "x", "", "addr", "1", "S01", "B1", "80", "已缴"])  # line 7: duplicate account
    rows.append(["CB-0102", "x", "", "addr", "1", "S01", "B1", "八十", "已缴"])  # line 8: bad area
    report = in_tx(app, imports.import_households, write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, rows))
    assert report.created == 3
    lines = [line for line, _ in report.errors]
    assert lines == [3, 4, 7, 8]
    assert "S99" in report.errors[1][1] and "line 2" in report.errors[2][1]


def test_a_file_without_the_account_column_is_refused_with_the_column_named(heating_app, tmp_path: Path) -> None:
    app = heating_app()
    path = write_csv(tmp_path / "hh.csv", ["姓名", "所站"], [["a", "S01"]])
    with pytest.raises(CsvError, match="account"):
        in_tx(app, imports.import_households, path)


FEE_HEADER = ["户号", "采暖期", "应收", "实收", "缴费日期"]


def test_fee_ledger_sets_payment_status_and_is_idempotent(heating_app, tmp_path: Path) -> None:
    app = heating_app()
    in_tx(app, imports.import_households, write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows()))
    rows = [
        ["CB-0001", "2026", "2000", "2000", "2026-09-01"],
        ["CB-0002", "2026", "2000", "0", ""],
        ["CB-0003", "2026", "2000", "500", ""],
        ["CB-9999", "2026", "1", "0", ""],
    ]
    path = write_csv(tmp_path / "fees.csv", FEE_HEADER, rows)
    report = in_tx(app, imports.import_fees, path)
    assert report.created == 3 and [line for line, _ in report.errors] == [5]
    assert in_tx(app, imports.import_fees, path).unchanged == 3
    with app.sessions() as s:
        status = dict(s.execute(select(Household.account, Household.payment_status)).all())
        assert (status["CB-0001"], status["CB-0002"], status["CB-0003"]) == ("paid", "unpaid", "partial")
        assert s.scalar(select(func.count()).select_from(FeeEntry)) == 3


def test_visits_import_marks_far_end_households(heating_app, tmp_path: Path) -> None:
    app = heating_app()
    in_tx(app, imports.import_households, write_csv(tmp_path / "hh.csv", HOUSEHOLD_HEADER, household_rows()))
    path = write_csv(
        tmp_path / "v.csv",
        ["所站", "走访日期", "走访人", "户号"],
        [["S01", "2026-11-03", "resp1", "CB-0002"], ["S01", "2026/11/4", "resp1", "CB-0001"]],
    )
    assert in_tx(app, imports.import_visits, path).created == 2
    assert in_tx(app, imports.import_visits, path).unchanged == 2
    with app.sessions() as s:
        assert dict(s.execute(select(Visit.account, Visit.far_end)).all()) == {"CB-0002": True, "CB-0001": False}
