"""Phone extensions, vanity numbers, phone regions and over-long domain labels."""

from __future__ import annotations

import pytest

from stakeholder import Contact, MatchOn, find_shared_contacts
from stakeholder._errors import ConfigurationError, InvalidDomain, InvalidEmail, InvalidPhone
from stakeholder._identity import (
    EmailAddress,
    is_e164,
    normalize_host,
    normalize_phone,
    phone_region,
    registrable_domain,
)


@pytest.mark.parametrize(
    "raw",
    [
        "+44 20 7946 0018 ext 5",
        "+44 20 7946 0018 ext. 5",
        "+44 20 7946 0018 x5",
        "+44 20 7946 0018 #5",
        "+44-20-7946-0018;ext=5",
        "tel:+44-20-7946-0018;ext=5",
    ],
)
def test_an_extension_is_kept_in_rfc3966_form(raw: str) -> None:
    assert normalize_phone(raw) == "+442079460018;ext=5"
    assert is_e164(normalize_phone(raw))


def test_a_number_with_an_extension_is_not_the_number_without_it() -> None:
    assert normalize_phone("+44 20 7946 0018 ext 5") != normalize_phone("+44 20 7946 0018")
    assert normalize_phone("+44 20 7946 0018 ext 5") != normalize_phone("+44 20 7946 0018 ext 6")
    contacts = [
        Contact("1", "a", phone="+44 20 7946 0018 ext 5"),
        Contact("2", "b", phone="+44 20 7946 0018"),
        Contact("3", "c", phone="020 7946 0018 ext. 5"),
    ]
    groups = find_shared_contacts(contacts, MatchOn.PHONE, default_region="GB")
    assert [[r.id for r in g.records] for g in groups] == [["1", "3"]]
    assert groups[0].phones == ("+442079460018;ext=5",)


@pytest.mark.parametrize("raw", ["+1-800-FLOWERS", "1-800-FLOWERS", "+1 800 356 YOUR", "+44 20 79A6 0018"])
def test_vanity_letters_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidPhone, match="vanity number") as caught:
        normalize_phone(raw, "US")
    assert caught.value.raw == raw
    # the same number written in digits is fine
    assert normalize_phone("+1-800-356-9377") == "+18003569377"


def test_vanity_letters_are_a_rejection_in_a_batch() -> None:
    contacts = [Contact("1", "a", phone="+1-800-FLOWERS"), Contact("2", "b", phone="+18003569377")]
    groups = find_shared_contacts(contacts, MatchOn.PHONE)
    assert groups == []
    assert [r.record_id for r in groups.report.rejections] == ["1"]
    assert "vanity" in groups.report.rejections[0].reason


@pytest.mark.parametrize("region", ["ZZZ", "XX", "ZZ", "", "1", None, 44])
def test_unknown_regions_are_refused(region: object) -> None:
    with pytest.raises(ConfigurationError, match="not a phone region"):
        phone_region(region)


def test_known_regions_are_upper_cased() -> None:
    assert phone_region(" gb ") == "GB"
    assert phone_region("us") == "US"


@pytest.mark.parametrize("region", ["ZZZ", "XX"])
def test_normalize_phone_refuses_an_unknown_region(region: str) -> None:
    with pytest.raises(InvalidPhone, match="not a known phone region"):
        normalize_phone("020 7946 0018", region)


def test_a_64_character_label_is_too_long_not_bad_characters() -> None:
    label = "a" * 64
    for call in (normalize_host, registrable_domain):
        with pytest.raises(InvalidDomain, match="too long") as caught:
            call(f"{label}.com")
        assert "characters a host name cannot have" not in caught.value.reason
    with pytest.raises(InvalidEmail, match="too long"):
        EmailAddress.parse(f"jane@{label}.com")
    with pytest.raises(InvalidDomain, match="too long"):
        normalize_host("b" + "ü" * 70 + ".de")
    assert normalize_host("a" * 63 + ".com") == "a" * 63 + ".com"
    with pytest.raises(InvalidDomain, match="characters a host name cannot have"):
        normalize_host("bad_name.com")
