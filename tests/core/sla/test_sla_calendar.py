"""The working calendar: statutory holidays, make-up days, config years, whole days (民法典 第二百零三条)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kefu.calendar_config import CalendarSection
from kefu.sla.calendar import WorkCalendar, advance

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def cal(**years: dict[str, list[str]]) -> WorkCalendar:
    return WorkCalendar(CalendarSection.model_validate({"years": years}), TZ)


def test_make_up_sunday_before_national_day_2025_is_a_working_day() -> None:
    c = cal()
    assert c.is_working_day(date(2025, 9, 28))  # Sunday, 调休
    assert not c.is_working_day(date(2025, 9, 27))  # Saturday
    assert not c.is_working_day(date(2025, 10, 3))  # National Day
    assert c.day(date(2025, 10, 3)).source == "package"


def test_two_working_hours_from_friday_afternoon_end_on_the_make_up_sunday() -> None:
    c = cal()
    due = advance(c.working_intervals(at("2025-09-26T16:30")), timedelta(hours=2), [])
    assert due == at("2025-09-28T09:30")


def test_lunch_break_does_not_count() -> None:
    c = cal()
    due = advance(c.working_intervals(at("2026-11-02T11:00")), timedelta(hours=2), [])
    assert due == at("2026-11-02T14:30")


def test_calendar_days_ending_on_a_holiday_roll_to_the_next_working_day() -> None:
    c = cal()
    # 3 days from 2025-09-29: the last day, 10-02, is National Day → ends with 10-09 (24:00).
    assert c.add_calendar_days(at("2025-09-29T10:00"), 3) == at("2025-10-10T00:00")
    # A last day that is an ordinary working day stays.
    assert c.add_calendar_days(at("2026-11-02T10:00"), 3) == at("2026-11-06T00:00")


def test_five_working_days_skip_the_golden_week() -> None:
    c = cal()
    # Fri 09-26 not counted; Sun 28, Mon 29, Tue 30, (Oct 1-8 off), Thu 9, Fri 10.
    assert c.add_working_days(at("2025-09-26T10:00"), 5) == at("2025-10-10T17:30")


def test_year_from_config_is_used_where_the_package_has_none() -> None:
    c = cal(**{"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-01-02"]}})
    assert c.source(2027) == "config"
    assert not c.is_working_day(date(2027, 1, 1))
    assert c.is_working_day(date(2027, 1, 2))
    due = advance(c.working_intervals(at("2026-12-31T16:30")), timedelta(hours=2), [])
    assert due == at("2027-01-02T09:30")


def test_year_without_any_data_is_weekday_only_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    c = cal()
    assert c.source(2027) == "none"
    assert c.is_working_day(date(2027, 1, 1))
    assert "no holiday data for 2027" in caplog.text


def test_config_rejects_a_date_both_holiday_and_workday() -> None:
    with pytest.raises(ValueError, match="both as holiday and as workday"):
        CalendarSection.model_validate({"years": {"2027": {"holidays": ["2027-01-02"], "workdays": ["2027-01-02"]}}})


def test_pauses_are_skipped() -> None:
    c = cal()
    holes = [(at("2026-11-02T10:00"), at("2026-11-02T11:00"))]
    due = advance(c.working_intervals(at("2026-11-02T09:00")), timedelta(hours=2), holes)
    assert due == at("2026-11-02T12:00")
