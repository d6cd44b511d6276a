"""The monthly reward/penalty sheet: record_only vs deduct, the minimum wage, due date, reminders, freezing."""

from __future__ import annotations

import email
import io
from collections.abc import Callable
from datetime import date
from email import policy
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from kefu.app import App
from kefu.plugins.hr import jobs, sheet
from kefu.plugins.hr.models import Amendment, Sheet

from .conftest import DEDUCT, at, cli, in_tx, outbox
from .test_hr_fixture import load_month


@pytest.fixture
def deduct_month(hr_app: Callable[..., App], clock: Any) -> App:
    app = hr_app(hr=DEDUCT)
    load_month(app, clock)
    return app


@pytest.fixture
def record_month(hr_app: Callable[..., App], clock: Any) -> App:
    app = hr_app()
    load_month(app, clock)
    return app


def _rows(app: App) -> dict[str, dict[str, Any]]:
    built = in_tx(app, lambda ctx: {r["employee"]: r for r in sheet.build(ctx, "2026-09").rows})
    return built


def test_record_only_lists_the_facts_and_produces_no_money_lines(record_month: App) -> None:
    rows = _rows(record_month)
    assert len(rows) == 40
    assert rows["E08"]["late"] == 1 and rows["E28"]["absent_days"] == "15.0" and rows["E13"]["absent_days"] == "1.0"
    assert rows["E19"]["leave"] == {"事假": 1} and rows["E17"]["leave"] == {"病假": 2}
    for row in rows.values():
        assert not {"salary", "penalties", "pay_after", "rules_version"} & row.keys()
        assert all("amount" not in line for line in row["lines"]), row["employee"]


def test_deduct_produces_money_lines_each_naming_the_rules_version(deduct_month: App) -> None:
    rows = _rows(deduct_month)
    version = DEDUCT["rules_version"]
    (late,) = rows["E08"]["lines"]
    assert late["amount"] == "30" and late["rules_version"] == version
    assert rows["E30"]["penalties"] == "60.00"  # 15 min late + 30 min early: ¥30 + ¥30
    assert rows["E23"]["penalties"] == "30.00" and rows["E24"]["penalties"] == "30.00"  # 代签 ¥10 x 3 each
    assert rows["E23"]["bonus_frozen"] and rows["E24"]["bonus_frozen"] and not rows["E25"]["bonus_frozen"]
    # 旷一扣三: one absent day costs three days' pay (4000 / 21.75 x 3)
    assert rows["E13"]["penalties"] == "551.72"
    # 事假 deducts the day's pay; 公假 and 出差 are paid and have no money line
    assert rows["E19"]["leave_deductions"] == "183.91"
    assert rows["E20"]["leave_deductions"] == "0.00" and rows["E20"]["lines"] == []
    assert all(line.get("rules_version") == version for r in rows.values() for line in r["lines"] if "amount" in line)


def test_deduct_without_published_rules_is_refused(hr_app: Callable[..., App]) -> None:
    with pytest.raises(Exception, match="rules_version and rules_published"):
        hr_app(hr={"penalties": "deduct"})


def test_sheet_under_the_minimum_wage_is_flagged_before_approval(
    deduct_month: App, clock: Any, run_pass: Any, tmp_path: Path
) -> None:
    rows = _rows(deduct_month)
    assert rows["E28"]["breach"] and not rows["E03"]["breach"]
    # 80 % of the minimum wage on sick days: E17's floor is lower than a full month's
    assert rows["E17"]["minimum"] == "2257.70"  # 2300 x (1 - 2 x 0.2 / 21.75)
    clock.set(at("2026-10-09 09:00"))
    in_tx(deduct_month, jobs.monthly_sheet, clock.now())
    (mail,) = outbox(deduct_month, template="hr/sheet.txt")
    assert mail.recipient == "boss@cs.test" and "客服28（E28）" in mail.body and "最低工资" in mail.body
    refused = cli(deduct_month, "sheet", "approve", "2026-09", "--by", "boss")
    assert refused.exit_code != 0 and "E28" in refused.output
    assert cli(deduct_month, "sheet", "approve", "2026-09", "--by", "boss", "--accept-breaches").exit_code == 0


def test_sheet_goes_to_the_approver_as_pdf_and_xlsx(
    record_month: App, clock: Any, run_pass: Any, tmp_path: Path
) -> None:
    clock.set(at("2026-10-09 09:00"))
    in_tx(record_month, jobs.monthly_sheet, clock.now())
    run_pass(record_month)
    (row,) = outbox(record_month, template="hr/sheet.txt")
    assert row.state == "sent", row.last_error
    eml = tmp_path / "spool" / "mail" / f"{row.id:08d}.eml"
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    kinds = {part.get_content_type(): part for part in msg.iter_attachments()}
    assert set(kinds) == {"application/pdf", sheet.XLSX}
    assert kinds["application/pdf"].get_content().startswith(b"%PDF")
    book = load_workbook(io.BytesIO(kinds[sheet.XLSX].get_content()))
    assert book["汇总"].max_row == 41 and book["汇总"]["B2"].value == "客服01"


def test_sheet_is_due_one_working_day_before_payday_and_reminded_until_approved(record_month: App, clock: Any) -> None:
    assert in_tx(record_month, sheet.due_on, "2026-09") == date(2026, 10, 9)  # payday Sat 10-10 is a 调休 workday
    for day in ("2026-10-08", "2026-10-09", "2026-10-10", "2026-10-11", "2026-10-12"):
        clock.set(at(f"{day} 09:00"))
        in_tx(record_month, jobs.monthly_sheet, clock.now())
    sent = outbox(record_month, template="hr/sheet.txt")
    reminders = outbox(record_month, template="hr/sheet_reminder.txt", channel="email")
    assert [m.created_at.astimezone(at("2026-10-09 00:00").tzinfo).date() for m in sent] == [date(2026, 10, 9)]
    # reminded on the next working days (Sat 10-10 is worked, Sun 10-11 is not), then no more once approved
    assert [m.idem_key.split("/")[2] for m in reminders] == ["2026-10-10", "2026-10-12"]
    assert cli(record_month, "sheet", "approve", "2026-09", "--by", "boss").exit_code == 0
    clock.set(at("2026-10-13 09:00"))
    in_tx(record_month, jobs.monthly_sheet, clock.now())
    assert len(outbox(record_month, template="hr/sheet_reminder.txt", channel="email")) == 2


def test_payday_on_a_holiday_moves_the_due_day_before_the_holiday(hr_app: Callable[..., App]) -> None:
    app = hr_app(hr={"sheet": {"approver": "boss", "payday": 8}})
    assert in_tx(app, sheet.due_on, "2026-09") == date(2026, 9, 30)  # 10-01..07 are 国庆


def test_an_approved_month_cannot_be_edited_only_amended(record_month: App) -> None:
    _rows(record_month)
    in_tx(record_month, sheet.send, "2026-09")
    assert cli(record_month, "sheet", "approve", "2026-09", "--by", "E01").exit_code != 0  # not the approver
    assert cli(record_month, "sheet", "approve", "2026-09", "--by", "boss").exit_code == 0
    for args in (("compute", "2026-09"), ("sheet", "build", "2026-09"), ("proxy", "2026-09-29", "E03", "E04")):
        result = cli(record_month, *args)
        assert result.exit_code != 0 and ("approved" in result.output or "frozen" in result.output), args
    assert cli(record_month, "sheet", "amend", "2026-09", "E13", "--reason", "", "--by", "hrx").exit_code != 0
    ok = cli(
        record_month, "sheet", "amend", "2026-09", "E13", "--reason", "补交了请假单", "--amount", "0", "--by", "hrx"
    )
    assert ok.exit_code == 0, ok.output
    with record_month.sessions() as s:
        stored = s.query(Sheet).one()
        assert (
            stored.state == "approved"
            and next(r for r in stored.rows if r["employee"] == "E13")["absent_days"] == "1.0"
        )
        assert [a.reason for a in s.query(Amendment)] == ["补交了请假单"]
