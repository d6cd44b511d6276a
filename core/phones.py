"""Phone numbers in one form, E.164 (``+8613900000031``), at every door they come in by.

Customers write a number as ``13900000031``, ``139 0000 0031``, ``+86 139-0000-0031``,
``008613900000031`` or ``86-139…``; a landline keeps its area code
(``0431-8888 6666`` → ``+864318886666``). The site's default country
(``[kefu] default_country``, CN unless set) is assumed for numbers written without
one. Google's libphonenumber rules (the ``phonenumbers`` package) decide what is a
possible number, so a typo is refused where it enters, never stored to fail later
at Twilio.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any

import phonenumbers
from pydantic import BeforeValidator, ValidationInfo

DEFAULT_COUNTRY = "CN"


class PhoneError(ValueError):
    """A value that is not a phone number; the message quotes it and says why."""


def known_country(code: str) -> str:
    """``code`` upper-cased if libphonenumber knows the region (CN, HK, US …); else PhoneError."""
    region = code.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise PhoneError(f"unknown country {code!r} (a two-letter region such as 'CN' or 'HK')")
    return region


def _with_country_code(text: str) -> str:
    """Read ``86…`` written without its ``+`` as international, as people in China write it."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.lstrip().startswith("86") and len(digits) in (12, 13) and digits[2:3] in "13456789":
        return "+" + digits
    return text


def _mainland_mobile(text: str) -> str | None:
    """``13900000031`` or ``+8613900000031`` in E.164 when libphonenumber's own CN patterns
    call it a valid mobile number; None sends it to the general parser.

    The most common cell of an import, and parsing is most of its cost. The answer is
    still libphonenumber's: a number its metadata's general and mobile patterns both
    match is one ``is_valid_number`` accepts, and anything else takes the full path (so
    a number this refuses is refused or accepted there, never here). A mainland mobile
    has no trunk prefix or carrier code to strip, so the digits are the national number.
    """
    digits = text[3:] if text.startswith("+86") else text
    if len(digits) != 11 or digits[0] != "1" or not (digits.isdigit() and digits.isascii()):
        return None
    general, mobile = _cn_patterns()
    if mobile.fullmatch(digits) and general.fullmatch(digits):
        return "+86" + digits
    return None


@cache
def _cn_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The general and mobile national-number patterns of libphonenumber's CN metadata."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    if meta is None or meta.general_desc is None or meta.mobile is None:  # pragma: no cover - metadata ships CN
        raise RuntimeError("phonenumbers has no CN metadata")
    return re.compile(meta.general_desc.national_number_pattern or "(?!)"), re.compile(
        meta.mobile.national_number_pattern or "(?!)"
    )


def to_e164(value: str, country: str = DEFAULT_COUNTRY) -> str:
    """The number in E.164, assuming ``country`` when it names none; PhoneError when impossible."""
    text = value.strip()
    if not text:
        raise PhoneError("the number is empty")
    region = known_country(country)
    mobile = _mainland_mobile(text) if region == "CN" else None
    if mobile is not None:
        return mobile
    if any(ch.isalpha() for ch in text):
        # libphonenumber reads letters as keypad digits (1-800-FLOWERS); nobody here writes them.
        raise PhoneError(f"{value!r} is not a phone number")
    try:
        parsed = phonenumbers.parse(text, region)
        valid = phonenumbers.is_valid_number(parsed)
        if not valid and region == "CN":
            # 86-139… and 8613… mean +86; libphonenumber would read them as a national number.
            parsed = phonenumbers.parse(_with_country_code(text), region)
            valid = phonenumbers.is_valid_number(parsed)
        if not valid:
            raise PhoneError(f"{value!r} is not a possible phone number in {region} or abroad")
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(f"{value!r} is not a phone number") from exc
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_e164(value: str) -> bool:
    """Written in E.164's own syntax: ``+``, then 2 to 15 digits, the first not 0."""
    digits = value[1:]
    return (
        value.startswith("+") and digits.isdigit() and digits.isascii() and 2 <= len(digits) <= 15 and digits[0] != "0"
    )


def optional_e164(value: str | None, country: str = DEFAULT_COUNTRY) -> str | None:
    """Like :func:`to_e164`, with an empty value giving None."""
    if value is None or not str(value).strip():
        return None
    return to_e164(str(value), country)


def e164_or_as_given(value: str, country: str = DEFAULT_COUNTRY) -> str:
    """E.164 when ``value`` is a possible number, else ``value`` stripped.

    For what has already arrived (an SMS's From may be a short code or a sender
    name): it is kept, never refused, and stored in E.164 whenever it can be.
    """
    try:
        return to_e164(value, country)
    except PhoneError:
        return value.strip()


def _validate(value: Any, info: ValidationInfo) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise PhoneError(f"{value!r} is not a phone number")
    country = (info.context or {}).get("country", DEFAULT_COUNTRY)
    return to_e164(value, country)


Phone = Annotated[str, BeforeValidator(_validate)]
"""A pydantic field type: any written form in, E.164 out (country from the validation context)."""

OptionalPhone = Annotated[str | None, BeforeValidator(_validate)]
""":data:`Phone`, or None when the cell or key is empty."""
