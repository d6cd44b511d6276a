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


def _mainland_mobile(text: str) -> phonenumbers.PhoneNumber | None:
    """``13900000031`` or ``+8613900000031`` as a number, without the general parser.

    The most common cell of an import, and parsing is most of its cost; validity
    is still libphonenumber's answer, and anything else takes the general parser.
    A mainland mobile has no trunk prefix or carrier code to strip, so the number
    is the same one ``phonenumbers.parse`` gives.
    """
    digits = text[3:] if text.startswith("+86") else text
    if len(digits) == 11 and digits[0] == "1" and digits.isdigit() and digits.isascii():
        return phonenumbers.PhoneNumber(country_code=86, national_number=int(digits))
    return None


def to_e164(value: str, country: str = DEFAULT_COUNTRY) -> str:
    """The number in E.164, assuming ``country`` when it names none; PhoneError when impossible."""
    text = value.strip()
    if not text:
        raise PhoneError("the number is empty")
    region = known_country(country)
    mobile = _mainland_mobile(text) if region == "CN" else None
    if mobile is not None and phonenumbers.is_valid_number(mobile):
        return phonenumbers.format_number(mobile, phonenumbers.PhoneNumberFormat.E164)
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
