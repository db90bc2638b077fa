"""Identity examples: canonical forms, policies, bad input, offline-ness, doctests."""

from __future__ import annotations

import doctest
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import stakeholder._identity as identity_module
from stakeholder import (
    EmailAddress,
    IdentityPolicy,
    InvalidDomain,
    InvalidEmail,
    InvalidPhone,
    PersonalDomains,
    StakeholderError,
    normalize_host,
    normalize_phone,
    registrable_domain,
)

# --------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("jane@acme.com", "jane@acme.com"),
        ("Jane.Doe@ACME.com", "jane.doe@acme.com"),
        ("  jane@acme.com\r\n", "jane@acme.com"),
        ("Jane Doe <jane@acme.com>", "jane@acme.com"),
        ('"Doe, Jane" <Jane@Acme.COM>', "jane@acme.com"),
        ("<jane@acme.com>", "jane@acme.com"),
        ("mailto:jane@acme.com", "jane@acme.com"),
        ("MAILTO:jane%40acme.com?subject=hi", "jane@acme.com"),
        ("'jane@acme.com'", "jane@acme.com"),
        ('"jane@acme.com"', "jane@acme.com"),
        ("jane+newsletter@acme.com", "jane@acme.com"),
        ("+jane@acme.com", "+jane@acme.com"),  # starts with the separator: left alone
        ("a.+b@acme.com", "a.+b@acme.com"),  # folding would leave an invalid "a."
        ("jane@mail.acme.co.uk", "jane@mail.acme.co.uk"),
        ("jane@bücher.de", "jane@xn--bcher-kva.de"),
        ("jane@xn--bcher-kva.de", "jane@xn--bcher-kva.de"),
        ("jane@BÜCHER.de", "jane@xn--bcher-kva.de"),
        ("jörg@bücher.de", "jörg@xn--bcher-kva.de"),
    ],
)
def test_parse_canonical_forms(raw: str, canonical: str) -> None:
    address = EmailAddress.parse(raw)
    assert str(address) == canonical
    assert EmailAddress.parse(str(address)) == address


def test_parts_and_registrable_domain() -> None:
    address = EmailAddress.parse("Jane <jane@mail.acme.co.uk>")
    assert (address.local, address.domain) == ("jane", "mail.acme.co.uk")
    assert address.registrable_domain == "acme.co.uk"
    assert EmailAddress.parse("x@jane.github.io").registrable_domain == "jane.github.io"


def test_the_constructor_trusts_its_arguments() -> None:
    assert str(EmailAddress("Jane", "ACME.com")) == "Jane@ACME.com"
    assert EmailAddress("a", "b.c") < EmailAddress("b", "a.c")  # ordered, for sorting


def test_policy_options() -> None:
    keep = IdentityPolicy(fold_subaddress=False)
    assert str(EmailAddress.parse("jane+x@acme.com", keep)) == "jane+x@acme.com"
    dash = IdentityPolicy(subaddress_separator="-")
    assert str(EmailAddress.parse("jane-x+y@acme.com", dash)) == "jane@acme.com"
    cased = IdentityPolicy(lowercase_local=False)
    assert str(EmailAddress.parse("Jane@ACME.com", cased)) == "Jane@acme.com"
    with pytest.raises(InvalidEmail):
        EmailAddress.parse('"john doe"@acme.com')
    quoted = IdentityPolicy(allow_quoted_local=True)
    assert EmailAddress.parse('"john doe"@acme.com', quoted).domain == "acme.com"
    ascii_only = IdentityPolicy(allow_smtputf8=False)
    with pytest.raises(InvalidEmail):
        EmailAddress.parse("jörg@acme.com", ascii_only)


@pytest.mark.parametrize("separator", ["", "++", "@", ".", '"', " "])
def test_policy_rejects_unusable_separators(separator: str) -> None:
    with pytest.raises(ValueError, match="subaddress_separator"):
        IdentityPolicy(subaddress_separator=separator)


# --------------------------------------------------------------------------- bad input

LONG = "a" * 10_000
BAD_EMAILS = [
    None,
    42,
    b"jane@acme.com",
    "",
    "   ",
    "\t\r\n",
    LONG,
    "j" * 5_000 + "@" + "a" * 4_995 + ".com",
    "jane\x00@acme.com",
    "jane@acme\x07.com",
    "jane\u202e@acme.com",  # right-to-left override
    "@",
    " @ ",
    "jane@",
    "@acme.com",
    "jane",
    "jane@@acme.com",
    "jane@[127.0.0.1]",
    "jane@[IPv6:::1]",
    "jane@127.0.0.1",
    "jane@localhost",
    "jane@acme",
    "jane@аcme.com",  # Cyrillic "а" among Latin letters: a look-alike
    "jane@paypaӏ.com",  # Cyrillic palochka
    "jane@acme.com; DROP TABLE contacts",
    "'; DROP TABLE contacts; --@acme.com",
    "jane..doe@acme.com",
    "Jane <>",
    "mailto:",
    "jane@acme.com.",  # email-validator refuses a trailing dot in an address; so do we
]


@pytest.mark.parametrize("raw", BAD_EMAILS, ids=lambda raw: repr(raw)[:40])
def test_bad_emails_give_the_typed_error(raw: object) -> None:
    with pytest.raises(InvalidEmail) as info:
        EmailAddress.parse(raw)  # type: ignore[arg-type]
    error = info.value
    assert isinstance(error, StakeholderError)
    assert isinstance(error, ValueError)
    assert error.raw is raw
    assert isinstance(error.reason, str)
    assert error.reason
    assert len(str(error)) < 400  # a 10,000-character input does not flood the message
    assert error.__cause__ is None  # never a dependency's exception in disguise


BAD_HOSTS = [
    None,
    3.5,
    "",
    " ",
    LONG,
    ".",
    "..",
    "@",
    "acme..com",
    ".acme.com",
    "acme.com\x00",
    "ac me.com",
    "127.0.0.1",
    "::1",
    "[::1]",
    "[127.0.0.1]",
    "2001:db8::1",
    "1.2.3.4.5",
    "com",
    "co.uk",
    "github.io",
    "аcme.com",  # mixed Cyrillic/Latin
    "-acme.com",
    "acme-.com",
    "a" * 64 + ".com",
    "xn--zz.com",
]


@pytest.mark.parametrize("raw", BAD_HOSTS, ids=lambda raw: repr(raw)[:40])
def test_bad_hosts_give_the_typed_error(raw: object) -> None:
    with pytest.raises(InvalidDomain) as info:
        registrable_domain(raw)  # type: ignore[arg-type]
    assert info.value.raw is raw
    assert info.value.reason
    assert isinstance(info.value, ValueError)
    assert len(str(info.value)) < 400


@pytest.mark.parametrize(
    "raw", [r for r in BAD_HOSTS if r not in ("com", "co.uk", "github.io")], ids=repr
)
def test_normalize_host_rejects_what_is_not_a_host(raw: object) -> None:
    with pytest.raises(InvalidDomain) as info:
        normalize_host(raw)  # type: ignore[arg-type]
    assert info.value.raw is raw


BAD_PHONES = [
    None,
    12345,
    "",
    "  ",
    LONG,
    "\x00",
    "+44 20 7946 0018\x00",
    "@",
    "not a number",
    "+999 123",
    "+1",
    "0000",
    "1; DROP TABLE contacts",
]


@pytest.mark.parametrize("raw", BAD_PHONES, ids=lambda raw: repr(raw)[:40])
def test_bad_phones_give_the_typed_error(raw: object) -> None:
    with pytest.raises(InvalidPhone) as info:
        normalize_phone(raw, region="GB")  # type: ignore[arg-type]
    assert info.value.raw is raw
    assert info.value.reason


def test_phone_examples() -> None:
    assert normalize_phone("+44 20 7946 0018") == "+442079460018"
    assert normalize_phone("020 7946 0018", region="gb") == "+442079460018"
    assert normalize_phone(" (415) 555-2671 ", region="US") == "+14155552671"
    with pytest.raises(InvalidPhone, match="no region"):
        normalize_phone("020 7946 0018")
    with pytest.raises(InvalidPhone):
        normalize_phone("020 7946 0018", region="XX")
    with pytest.raises(InvalidPhone):
        normalize_phone("020 7946 0018", region=44)  # type: ignore[arg-type]


def test_errors_pickle_and_keep_their_fields() -> None:
    for error in (InvalidEmail("x", "why"), InvalidDomain(None, "why"), InvalidPhone(3, "r")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert (copy.raw, copy.reason) == (error.raw, error.reason)


# --------------------------------------------------------------------------- domains


@pytest.mark.parametrize(
    ("host", "canonical", "registrable"),
    [
        ("Mail.Acme.CO.UK.", "mail.acme.co.uk", "acme.co.uk"),
        ("  www.acme.com  ", "www.acme.com", "acme.com"),
        ("münchen.de", "xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("shop.xn--mnchen-3ya.de", "shop.xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("пример.рф", "xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
        ("a.b.jane.github.io", "a.b.jane.github.io", "jane.github.io"),
        ("foo.blogspot.com", "foo.blogspot.com", "foo.blogspot.com"),
        ("intranet.corp", "intranet.corp", "intranet.corp"),
        ("x.intranet.corp", "x.intranet.corp", "intranet.corp"),
        ("www.city.kawasaki.jp", "www.city.kawasaki.jp", "city.kawasaki.jp"),
        ("a.b.kawasaki.jp", "a.b.kawasaki.jp", "a.b.kawasaki.jp"),
    ],
)
def test_hosts_and_registrable_domains(host: str, canonical: str, registrable: str) -> None:
    assert normalize_host(host) == canonical
    assert registrable_domain(host) == registrable
    assert registrable_domain(registrable) == registrable


def test_look_alike_reason_names_the_scripts() -> None:
    with pytest.raises(InvalidDomain, match="CYRILLIC"):
        registrable_domain("аcme.com")
    assert registrable_domain("пример.com") == "xn--e1afmkfd.com"  # one script is fine


def test_caches_are_bounded() -> None:
    for cached in (
        identity_module._host_or_error,
        identity_module._registrable_or_error,
        identity_module._parse_cached,
        identity_module._parse_default,
        identity_module._validated_domain,
        identity_module._phone_or_error,
    ):
        assert cached.cache_info().maxsize is not None


# --------------------------------------------------------------------------- personal


def test_personal_domains() -> None:
    default = PersonalDomains.default()
    assert default.is_personal("gmail.com")
    assert default.is_personal("GMAIL.com.")
    assert default.kind("gmail.com") == "free"
    assert default.kind("mailinator.com") == "disposable"
    assert default.kind("acme.com") is None
    assert default.kind("") is None  # not a domain: not personal, no exception
    assert "gmail.com" in default
    assert 42 not in default
    custom = default.with_domains("Acme-Mail.example").without("gmail.com")
    assert custom.is_personal("acme-mail.example")
    assert custom.is_personal("eu.acme-mail.example")  # subdomains fold
    assert not custom.is_personal("gmail.com")
    assert default.is_personal("gmail.com")  # the original is unchanged
    burner = PersonalDomains().with_domains("burner.example", disposable=True)
    assert burner.kind("burner.example") == "disposable"
    assert list(burner) == ["burner.example"]
    assert len(burner) == 1
    assert PersonalDomains(free="gmail.com").free == frozenset({"gmail.com"})
    with pytest.raises(InvalidDomain):
        PersonalDomains(free=["not a domain"])


# --------------------------------------------------------------------------- offline


def test_identity_writes_no_file_and_opens_no_socket(tmp_path: Path) -> None:
    """In a fresh interpreter whose home and cache dirs are empty: use everything."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    script = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise SystemExit("network access attempted")

        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.getaddrinfo = refuse
        socket.create_connection = refuse

        import tldextract
        import stakeholder
        from stakeholder import EmailAddress, PersonalDomains, registrable_domain

        assert registrable_domain("a.b.example.co.uk") == "example.co.uk"
        assert EmailAddress.parse("Jane <jane@bücher.de>").registrable_domain
        assert PersonalDomains.default().is_personal("gmail.com")
        assert stakeholder.normalize_phone("+442079460018") == "+442079460018"
        print("ok")
        """
    )
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TLDEXTRACT_CACHE": str(home / "tldextract"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert sorted(home.rglob("*")) == []
    assert sorted(work.rglob("*")) == []


# --------------------------------------------------------------------------- doctests


def test_identity_docstring_examples_run() -> None:
    outcome = doctest.testmod(identity_module, optionflags=doctest.ELLIPSIS)
    assert outcome.attempted >= 5
    assert outcome.failed == 0
