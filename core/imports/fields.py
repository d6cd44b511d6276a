"""The typed row model an import declares, and the cell types staff's spreadsheets need.

An import says once what its rows hold::

    class HouseholdRow(ImportRow):
        account: Code = column("户号", "用户编号", "账号")
        phone: OptionalPhone = column("电话", "手机", default=None)
        heated_area: Number = column("供热面积", "面积", default=0.0)

Each field accepts its own name and the header spellings given to :func:`column`
(matched without regard to case, full-width forms or spaces). A field without a
default is a required column. Empty cells count as absent, so defaults apply.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticUndefined

from kefu.phones import OptionalPhone, Phone

__all__ = [
    "Code",
    "Day",
    "ImportRow",
    "LocalTime",
    "Number",
    "OptionalPhone",
    "Phone",
    "Span",
    "column",
    "headers_of",
    "parse_day",
    "title_span",
]


class ImportRow(BaseModel):
    """Base of every row model: cells are stripped text in, typed values out; frozen."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)


def column(*headers: str, default: Any = PydanticUndefined, description: str | None = None) -> Any:
    """A field read from the column headed by its name or any of ``headers``."""
    return Field(default, description=description, json_schema_extra={"headers": list(headers)})


def headers_of(model: type[BaseModel]) -> dict[str, tuple[str, ...]]:
    """Each field's accepted headers, its own name first."""
    out: dict[str, tuple[str, ...]] = {}
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        given = extra.get("headers") or []
        out[name] = (name, *(str(h) for h in given))  # type: ignore[union-attr]
    return out


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        cleaned = _fold(value).replace(",", "").replace("¥", "").replace(" ", "")
        try:
            return float(cleaned)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
    return value


def _code(value: Any) -> Any:
    # Account, order and ID numbers: text, exactly as written; full-width digits folded.
    if isinstance(value, str) and value.isascii():
        return value.strip()
    return _fold(str(value)) if value is not None else value


_DAY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_SHORT_YEAR = re.compile(r"^(\d{2})[-/.](\d{1,2})[-/.](\d{1,2})$")
_MONTH_DAY = re.compile(r"^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
# A weekday after the date, as attendance exports write it: 星期一, 周一, 礼拜一, (周一), （一）.
_WEEKDAY = re.compile(r"\s*(?:[(（]\s*(?:星期|周|礼拜)?[一二三四五六日天]\s*[)）]|(?:星期|周|礼拜)[一二三四五六日天])$")
_FULL_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_YEAR_MONTH = re.compile(r"(\d{4})\s*(?:年\s*(\d{1,2})\s*月|[-/.](\d{1,2})(?!\s*[-/.月]?\s*\d))")

Span = tuple[date, date]
"""The first and last day a file covers (from its title): the year of a date written without one."""


def title_span(lines: list[str]) -> Span | None:
    """The dates a file's title names: ``统计日期：2026-11-01 至 2026-11-30``, ``2026年11月考勤``.

    None when the lines name no date. Full dates give their first and last; a month alone
    (2026年11月, 2026-11) gives that month.
    """
    days: list[date] = []
    for line in lines:
        text = _fold(line)
        for y, m, d in _FULL_DATE.findall(text):
            try:
                days.append(date(int(y), int(m), int(d)))
            except ValueError:
                continue
        if days:
            continue
        for y, m1, m2 in _YEAR_MONTH.findall(text):
            month = int(m1 or m2)
            if 1 <= month <= 12:
                first = date(int(y), month, 1)
                days += [first, date(first.year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)]
    return (min(days), max(days)) if days else None


class _Unplaced(ValueError):
    """A month and day that no year of the file's dates places."""


def _in_span(month: int, day: int, span: Span, text: str) -> date:
    valid = False
    for year in range(span[0].year, span[1].year + 1):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        valid = True
        if span[0] <= found <= span[1]:
            return found
    if not valid:
        raise ValueError(text)  # 09-31: no such day in any year of the file
    raise _Unplaced(f"{text!r} is not within the file's dates {span[0]} – {span[1]}")


def parse_day(text: str, span: Span | None = None) -> date:
    """A date as staff and attendance exports write it.

    2024-06-01, 2024/6/1, 2024.6.1, 2024年6月1日, 20240601; a two-digit year (26-11-02,
    DingTalk's 每日统计); a weekday after it (2026/11/02 星期一, 2026-11-02 周一,
    2026-11-02(周一)); and a month and day alone (11-02, 11月2日) when ``span``, the
    dates the file's title names, gives its year.
    """
    value = _WEEKDAY.sub("", _fold(text)).split(" ")[0].split("T")[0]
    try:
        if re.fullmatch(r"\d{8}", value):
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        match = _DAY.match(value)
        if match:
            return date(*(int(g) for g in match.groups()))
        match = _SHORT_YEAR.match(value)
        if match:
            y, m, d = (int(g) for g in match.groups())
            return date(2000 + y, m, d)
        match = _MONTH_DAY.match(value)
        if match and 1 <= int(match[1]) <= 12 and 1 <= int(match[2]) <= 31:
            if span is None:
                raise _Unplaced(
                    f"{text!r} has no year and the file's title names no dates "
                    "(write 2026-11-02, or a title such as 统计日期：2026-11-01 至 2026-11-30)"
                )
            return _in_span(int(match[1]), int(match[2]), span, text)
    except _Unplaced:
        raise
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not a date (write 2026-11-02)")


def _day(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, datetime):
        return value.date()
    return parse_day(value, (info.context or {}).get("span")) if isinstance(value, str) else value


_MOMENT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?[ T]+"
    r"(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.\d+)?)?\s*秒?$"
)


def parse_local_time(text: str, tz: ZoneInfo) -> datetime:
    """A date and time as written (2026-11-02 08:10, 2026/11/2 8:10:00), in ``tz`` unless it names a zone."""
    value = _fold(text)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        match = _MOMENT.match(value)
        if not match:
            raise ValueError(f"{text!r} is not a date and time (write 2026-11-02 09:30)") from None
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
        try:
            parsed = datetime(y, mo, d, h, mi, s)
        except ValueError:
            raise ValueError(f"{text!r} is not a date and time (write 2026-11-02 09:30)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _local_time(value: Any, info: ValidationInfo) -> Any:
    tz = (info.context or {}).get("tz") or ZoneInfo("Asia/Shanghai")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    return parse_local_time(value, tz) if isinstance(value, str) else value


Number = Annotated[float, BeforeValidator(_number)]
"""A decimal number: full-width digits, thousands separators and ¥ accepted."""

Code = Annotated[str, BeforeValidator(_code)]
"""An identifier kept as exact text: account, order and ID numbers never become numbers."""

Day = Annotated[date, BeforeValidator(_day)]
"""A calendar date in the spellings staff use."""

LocalTime = Annotated[datetime, BeforeValidator(_local_time)]
"""A date and time, aware: in the site's zone (validation context ``tz``) unless it names one."""
