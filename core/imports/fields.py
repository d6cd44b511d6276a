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
from datetime import date, datetime
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
    "column",
    "headers_of",
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


def parse_day(text: str) -> date:
    """A date as staff write it: 2024-06-01, 2024/6/1, 2024.6.1, 2024年6月1日, 20240601."""
    value = _fold(text).split(" ")[0].split("T")[0]
    try:
        if re.fullmatch(r"\d{8}", value):
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        match = _DAY.match(value)
        if match:
            return date(*(int(g) for g in match.groups()))
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not a date (write 2026-11-02)")


def _day(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    return parse_day(value) if isinstance(value, str) else value


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
