"""``[calendar]``: working hours and the holiday data for years the calendar package lacks."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class YearHolidays(BaseModel):
    """The State Council's notice for one year: days off and make-up working days (调休)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)


class CalendarSection(BaseModel):
    """Working time on the mainland China calendar."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    work_start: str = "08:30"
    work_end: str = "17:30"
    lunch_start: str | None = "12:00"
    lunch_end: str | None = "13:30"
    years: dict[str, YearHolidays] = Field(
        default_factory=dict,
        description="holiday lists by year ('2027'), used where the package has no data",
    )
