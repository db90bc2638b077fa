"""Shared contacts and phones: the E.164 fast path agrees with `normalize_phone`, and
real example numbers of every region match across formats."""

from __future__ import annotations

import csv
from collections import defaultdict

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import shared_data
from stakeholder import Contact, normalize_phone
from stakeholder._errors import InvalidPhone
from stakeholder._shared import MatchOn, find_shared_contacts
from stakeholder._shared._phones import _e164_fast, _e164_or_error, _is_valid
from stakeholder.testing import strategies as sst


def examples() -> list[dict[str, str]]:
    with shared_data("phone", "example_numbers.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def reference(raw: str, region: str | None = None) -> str | None:
    try:
        return normalize_phone(raw, region)
    except InvalidPhone:
        return None


def variants(row: dict[str, str]) -> set[str]:
    number = phonenumbers.parse(row["e164"])
    e164 = row["e164"]
    return {
        e164,
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        e164[:4] + "-" + e164[4:],
        e164 + "7",  # one digit too many
        e164[:-1],  # one digit short
        f"+{row['country_code']}0{row['national_number']}",  # a stray trunk zero
    }


def test_fast_path_agrees_with_normalize_phone_on_every_example_number() -> None:
    rows = examples()
    taken = 0
    for row in rows:
        for raw in variants(row):
            fast = _e164_fast(raw)
            if fast is not None:
                taken += 1
                assert fast == reference(raw), raw
            assert _e164_or_error(raw, None) == reference(raw) or (
                reference(raw) is None and isinstance(_e164_or_error(raw, None), InvalidPhone)
            )
    assert taken >= len(rows)  # the fast path does serve most well-formed numbers


def test_fast_path_agrees_on_national_formats_of_every_region() -> None:
    """Each example number in national and RFC 3966 form, read with its own region and
    with GB: the fast path gives `normalize_phone`'s answer whenever it gives one."""
    taken = 0
    for row in examples():
        number = phonenumbers.parse(row["e164"])
        written = (
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
            row["national_number"],
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.RFC3966),
        )
        for raw in written:
            for region in (row["region"], "GB", None):
                fast = _e164_fast(raw, region)
                if fast is not None:
                    taken += 1
                    assert fast == reference(raw, region), (raw, region)
    assert taken > 1000


def test_validity_check_equals_is_valid_number() -> None:
    for row in examples():
        number = phonenumbers.parse(row["e164"])
        for candidate in (number, phonenumbers.PhoneNumber(
            country_code=number.country_code, national_number=number.national_number + 1
        ), phonenumbers.PhoneNumber(
            country_code=number.country_code, national_number=number.national_number // 10
        )):
            assert _is_valid(candidate) == phonenumbers.is_valid_number(candidate)


@given(st.sampled_from([1, 7, 44, 47, 61, 262, 290, 358, 590, 599, 800, 882, 979]),
       st.integers(0, 10**12))
def test_validity_check_equals_is_valid_number_on_shared_country_codes(cc: int, nsn: int) -> None:
    number = phonenumbers.PhoneNumber(country_code=cc, national_number=nsn)
    assert _is_valid(number) == phonenumbers.is_valid_number(number)


@given(st.text(alphabet="0123456789 -()+.", min_size=1, max_size=20),
       st.sampled_from(["GB", "US", "DE", "IT", "RU", "BR", "IN", None]))
def test_fast_path_never_disagrees_on_random_text(raw: str, region: str | None) -> None:
    fast = _e164_fast(raw, region)
    if fast is not None:
        assert fast == reference(raw, region)


@given(st.integers(1, 999), st.integers(0, 10**13), st.sampled_from(["", " ", "-", "."]))
def test_fast_path_never_disagrees_on_random_numbers(cc: int, rest: int, sep: str) -> None:
    raw = f"+{cc}{sep}{rest}"
    fast = _e164_fast(raw)
    if fast is not None:
        assert fast == reference(raw)


@given(sst.phones())
def test_fast_path_on_generated_valid_numbers(e164: str) -> None:
    fast = _e164_fast(e164)
    assert fast is None or fast == e164
    assert _e164_or_error(e164, None) == e164


def test_fast_path_refuses_what_it_cannot_be_sure_of() -> None:
    assert _e164_fast("020 7946 0018") is None  # national: needs a region
    assert _e164_fast("020 7946 0018", "GB") == "+442079460018"
    assert _e164_fast("+44 (0)20 7946 0018") == reference("+44 (0)20 7946 0018")  # parsed
    assert _e164_fast("+44 20 7946 001") is None  # too short: invalid
    assert _e164_fast("+44" + " " * 80 + "2079460018") is None  # too long: full parse
    assert _e164_fast("+44\x002079460018") is None


def test_example_numbers_match_across_international_formats() -> None:
    """Account A holds each example in E.164, account B in international format: one
    group per distinct number, holding exactly that number's two records."""
    rows = examples()
    contacts = []
    for i, row in enumerate(rows):
        number = phonenumbers.parse(row["e164"])
        pretty = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        contacts.append(Contact(f"a{i}", "A", phone=row["e164"]))
        contacts.append(Contact(f"b{i}", "B", phone=pretty))
    groups = find_shared_contacts(contacts, MatchOn.PHONE)
    by_number: dict[str, set[int]] = defaultdict(set)
    invalid = set()
    for i, row in enumerate(rows):
        if reference(row["e164"]) is None:  # an example this libphonenumber no longer accepts
            invalid.add(i)
        else:
            by_number[row["e164"]].add(i)
    assert len(groups) == len(by_number)
    for group in groups:
        (phone,) = group.phones
        expected = {f"a{i}" for i in by_number[phone]} | {f"b{i}" for i in by_number[phone]}
        assert {c.id for c in group.records} == expected
    rejected = {r.record_id for r in groups.report.rejections}
    assert rejected == {f"a{i}" for i in invalid} | {f"b{i}" for i in invalid}


@pytest.mark.parametrize("region", ["GB", "US", "DE", "FR", "IN", "BR", "JP", "AU", "IT", "RU"])
def test_example_numbers_match_national_with_e164(region: str) -> None:
    """National formats read with `default_region` match the E.164 form."""
    rows = [r for r in examples() if r["region"] == region]
    assert rows
    contacts = []
    for i, row in enumerate(rows):
        number = phonenumbers.parse(row["e164"])
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        contacts.append(Contact(f"a{i}", "A", phone=row["e164"]))
        contacts.append(Contact(f"b{i}", "B", phone=national))
    groups = find_shared_contacts(contacts, MatchOn.PHONE, default_region=region)
    grouped = {c.id for g in groups for c in g.records}
    for i, row in enumerate(rows):
        national_reads_back = reference(
            phonenumbers.format_number(
                phonenumbers.parse(row["e164"]), phonenumbers.PhoneNumberFormat.NATIONAL
            ),
            region,
        )
        if national_reads_back == row["e164"]:
            assert {f"a{i}", f"b{i}"} <= grouped
