"""``[calendar]``: working hours and the holiday data for years the calendar package lacks."""

from __future__ import annotations

from datetime import date, time

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def _clock_time(value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a time of day; write e.g. '08:30'") from exc


class YearHolidays(BaseModel):
    """The State Council's notice for one year: days off and make-up working days (调休).

    ``holidays`` are the statutory days off that fall on weekdays or weekends
    (all of them may be listed); ``workdays`` are the weekend days worked in
    exchange. Every other weekday is a working day, every other weekend day off.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)
    source: str = Field(
        default="",
        description="where the list comes from, e.g. '国办发明电〔2026〕X号'; shown by `kefu calendar show`",
    )


class CalendarSection(BaseModel):
    """Working time on the mainland China calendar."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    work_start: str = "08:30"
    work_end: str = "17:30"
    lunch_start: str | None = "12:00"
    lunch_end: str | None = "13:30"
    years: dict[str, YearHolidays] = Field(
        default_factory=dict,
        description="holiday lists by year ('2027'), used where the package has no data "
        "(and in preference to it where both exist)",
    )
    warn_years_ahead: int = Field(
        default=1,
        ge=0,
        le=5,
        description="also warn at start when this many years after the current one lack holiday data",
    )

    @field_validator("work_start", "work_end", "lunch_start", "lunch_end")
    @classmethod
    def _is_time(cls, value: str | None) -> str | None:
        if value is not None:
            _clock_time(value)
        return value

    @field_validator("years")
    @classmethod
    def _year_keys(cls, value: dict[str, YearHolidays]) -> dict[str, YearHolidays]:
        for key, year in value.items():
            if not key.isdigit() or len(key) != 4:
                raise ValueError(f"calendar.years key {key!r} must be a year like '2027'")
            stray = [d for d in [*year.holidays, *year.workdays] if d.year != int(key)]
            if stray:
                raise ValueError(f"calendar.years.{key}: dates from another year: {stray[0].isoformat()}")
            both = set(year.holidays) & set(year.workdays)
            if both:
                raise ValueError(
                    f"calendar.years.{key}: {min(both).isoformat()} is listed both as holiday and as workday"
                )
        return value

    @model_validator(mode="after")
    def _ordered_hours(self) -> CalendarSection:
        start, end = _clock_time(self.work_start), _clock_time(self.work_end)
        if not start < end:
            raise ValueError(f"calendar: work_start {self.work_start} must be before work_end {self.work_end}")
        if (self.lunch_start is None) != (self.lunch_end is None):
            raise ValueError("calendar: set both lunch_start and lunch_end, or neither")
        if self.lunch_start and self.lunch_end:
            ls, le = _clock_time(self.lunch_start), _clock_time(self.lunch_end)
            if not start <= ls < le <= end:
                raise ValueError("calendar: the lunch break must lie within the working day")
        return self

    def periods(self) -> list[tuple[time, time]]:
        """The working periods of a working day, in local time (morning, afternoon)."""
        start, end = _clock_time(self.work_start), _clock_time(self.work_end)
        if self.lunch_start and self.lunch_end:
            return [(start, _clock_time(self.lunch_start)), (_clock_time(self.lunch_end), end)]
        return [(start, end)]
