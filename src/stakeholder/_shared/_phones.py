"""Phone numbers to E.164 for matching, with a fast path for written-out numbers."""

from __future__ import annotations

import functools
import re
from typing import Final

import phonenumbers

from stakeholder._errors import InvalidPhone
from stakeholder._identity import normalize_phone

# --------------------------------------------------------------------------- phones

_PHONE_SEPARATORS: Final = str.maketrans("", "", " -.")
_LETTER_RE: Final = re.compile(r"[^\W\d_]")
_PLUS_DIGITS: Final = re.compile(r"\+[1-9][0-9]{6,14}")


@functools.cache
def _national_prefix(country_code: int) -> re.Pattern[str] | None:
    """The pattern of national prefixes libphonenumber strips for this country code."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    for region in regions:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
            country_code, region
        )
        if metadata is not None and metadata.national_prefix_for_parsing:
            return re.compile(metadata.national_prefix_for_parsing)
    return None


@functools.cache
def _regions_of(country_code: int) -> tuple[tuple[str, re.Pattern[str] | None], ...]:
    """The regions sharing a country code, each with its leading-digits pattern."""
    found = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is not None:
            leading = metadata.leading_digits
            found.append((region, re.compile(leading) if leading is not None else None))
    return tuple(found)


def _is_valid(number: phonenumbers.PhoneNumber) -> bool:
    """`phonenumbers.is_valid_number(number)`, step for step, without validating a number
    twice when several regions share its country code (+1, +44, +7, ...): upstream first
    finds the region by validating against each, then validates against the one found."""
    country_code = number.country_code
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code or 0)
    if country_code is None or not regions:
        return False
    if len(regions) == 1:
        return bool(phonenumbers.is_valid_number_for_region(number, regions[0]))
    national = phonenumbers.national_significant_number(number)
    for region, leading in _regions_of(country_code):
        if leading is not None:
            if leading.match(national):
                return bool(phonenumbers.is_valid_number_for_region(number, region))
        elif phonenumbers.is_valid_number_for_region(number, region):
            return True
    return False


def _e164_fast(raw: str, region: str | None = None) -> str | None:
    """The E.164 form of `raw` when it is certainly valid, else None (never a verdict of
    invalidity: the caller then asks `normalize_phone`, which gives the reason).

    A number written `+<country code><number>` (spaces, hyphens, dots allowed) is not
    re-parsed: its digits become a `PhoneNumber` checked with libphonenumber's own
    validity rules, unless a leading zero or a national prefix could change how
    libphonenumber reads it. Anything else is parsed as `normalize_phone` parses it.
    Either way the result equals `normalize_phone(raw, region)`; tests check it on every
    official example number, written several ways.
    """
    if len(raw) > 64 or not raw.isprintable():
        return None
    text = raw.strip()
    compact = text.translate(_PHONE_SEPARATORS)
    if _PLUS_DIGITS.fullmatch(compact) is not None:
        digits = compact[1:]
        for size in (1, 2, 3):
            country_code = int(digits[:size])
            if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                national = digits[size:]
                prefix = _national_prefix(country_code)
                if (
                    len(national) >= 2
                    and national[0] != "0"
                    and (prefix is None or prefix.match(national) is None)
                ):
                    number = phonenumbers.PhoneNumber(
                        country_code=country_code, national_number=int(national)
                    )
                    return compact if _is_valid(number) else None
                break
    if _LETTER_RE.search(text):  # an extension or vanity letters: normalize_phone says
        return None
    try:
        number = phonenumbers.parse(text, region)
    except (phonenumbers.NumberParseException, ValueError, TypeError):
        return None
    if number.extension or not _is_valid(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _e164_or_error(raw: str, region: str | None) -> str | InvalidPhone:
    fast = _e164_fast(raw, region)
    if fast is not None:
        return fast
    try:
        return normalize_phone(raw, region)
    except InvalidPhone as exc:
        return exc
