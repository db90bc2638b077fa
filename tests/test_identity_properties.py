"""Identity properties: the fast path against email-validator, round-trips, idempotence,
case and white-space insensitivity, and "only our typed errors" on arbitrary text."""

from __future__ import annotations

import email_validator
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stakeholder import (
    EmailAddress,
    IdentityPolicy,
    InvalidDomain,
    InvalidEmail,
    InvalidPhone,
    PersonalDomains,
    normalize_host,
    normalize_phone,
    registrable_domain,
)
from stakeholder._identity import _fast_path, _idn_path, validate_addr_spec
from stakeholder.testing import strategies as sst

# --------------------------------------------------------------------------- generators

_ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
_NEAR_ATEXT = _ATEXT + '.."@ ()<>[]\\,;:'
_LABEL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
_TLDS = (
    "com",
    "COM",
    "org",
    "io",
    "uk",
    "co.uk",
    "x",
    "c0m",
    "123",
    "xn--p1ai",
    "xn--zz",
    "test",
    "local",
    "localhost",
    "invalid",
    "onion",
    "arpa",
    "example",
    "a" * 63,
    "a" * 64,
)


@st.composite
def ascii_addresses(draw: st.DrawFn) -> str:
    """ASCII strings shaped like addresses, valid and invalid in every corner the fast
    path has to get right: dots, hyphens, lengths, special-use and numeric TLDs."""
    kind = draw(st.integers(0, 9))
    if kind == 0:  # anything printable
        return draw(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
    atoms = draw(
        st.lists(
            st.text(_ATEXT if kind < 8 else _NEAR_ATEXT, min_size=0 if kind == 9 else 1, max_size=22),
            min_size=1,
            max_size=4,
        )
    )
    local = ".".join(atoms)
    if draw(st.integers(0, 15)) == 0:
        local = draw(st.sampled_from([".", ""])) + local + draw(st.sampled_from([".", ""]))
    labels = draw(
        st.lists(
            st.one_of(
                st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True),
                st.text(_LABEL_CHARS, min_size=0, max_size=66),
            ),
            min_size=0 if kind == 9 else 1,
            max_size=4,
        )
    )
    tld = draw(st.sampled_from(_TLDS))
    domain = ".".join([*labels, tld])
    if draw(st.integers(0, 20)) == 0:
        domain += draw(st.sampled_from([".", "-", "..com", " "]))
    return f"{local}@{domain}"


def _reference(text: str) -> tuple[str, str] | None:
    """email-validator's parts; it lower-cases role names such as `Postmaster`, so the
    comparison does too for those (our canonical form lower-cases every local part)."""
    try:
        info = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return None
    return info.local_part, info.ascii_domain.lower()


def _same_parts(ours: tuple[str, str], reference: tuple[str, str]) -> bool:
    if ours[0].lower() in CASE_INSENSITIVE_MAILBOX_NAMES:
        return (ours[0].lower(), ours[1]) == reference
    return ours == reference


# --------------------------------------------------------------------------- fast path


@settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck))
@given(ascii_addresses())
@example("jane@acme.com")
@example("a" * 64 + "@acme.com")
@example("a" * 65 + "@acme.com")
@example("jane@" + "a" * 63 + ".com")
@example("jane@" + ("a" * 62 + ".") * 4 + "com")
@example("jane@ab--cd.com")
@example("jane@xn--bcher-kva.de")
@example("jane@mail.test")
@example("jane@acme.c0m")
@example("jane.@acme.com")
@example(".jane@acme.com")
@example("ja..ne@acme.com")
@example("jane@-acme.com")
@example("Postmaster@acme.com")
def test_fast_path_agrees_with_email_validator(text: str) -> None:
    """The fast path accepts only what email-validator accepts, with the same parts;
    together with its fallback it gives email-validator's verdict on every input."""
    fast = _fast_path(text)
    reference = _reference(text)
    if fast is not None:
        assert reference is not None, text
        assert _same_parts(fast, reference)
    try:
        validate_addr_spec(text, IdentityPolicy(fold_subaddress=False, lowercase_local=False))
    except InvalidEmail:
        accepted = False
    else:
        accepted = True
    assert accepted == (reference is not None)


_IDN_CHARS = "aeoxyzAEÜüößéÉñçłøåæ例え日本пример" + "δοκιμή" + "аеоі" + "-.。．\u200d\u0301\u00ad⒈ﬁ1"


@st.composite
def idn_addresses(draw: st.DrawFn) -> str:
    """An ASCII local part at a domain with non-ASCII characters: IDN labels, look-alike
    letters, full-width dots, joiners, combining marks, characters UTS #46 maps."""
    local = draw(st.text(_ATEXT, min_size=1, max_size=70))
    labels = draw(st.lists(st.text(_IDN_CHARS + _LABEL_CHARS, min_size=0, max_size=70), min_size=1, max_size=3))
    tld = draw(st.sampled_from(["de", "com", "jp", "рф", "xn--p1ai", "test", "co.uk", "ßa"]))
    if draw(st.booleans()):
        labels.append("bücher")
    return f"{local}@{'.'.join([*labels, tld])}"


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(idn_addresses())
@example("jane@bücher.de")
@example("jane@BÜCHER.de")
@example("jane@xn--bcher-kva.de")
@example("jane@bücher。de")
@example("jane@" + "ü" * 60 + ".de")
@example("j" * 64 + "@" + ("ü" * 40 + ".") * 4 + "de")
@example("jane@例え.テスト")
def test_idn_path_agrees_with_email_validator(text: str) -> None:
    """The cached per-domain route for IDN domains accepts only what email-validator
    accepts, with the same parts; with its fallback it gives email-validator's verdict."""
    idn = _idn_path(text)
    reference = _reference(text)
    if idn is not None:
        assert reference is not None, text
        assert _same_parts(idn, reference)
    try:
        validate_addr_spec(text, IdentityPolicy(fold_subaddress=False, lowercase_local=False))
    except InvalidEmail:
        accepted = False
    else:
        accepted = True
    assert accepted == (reference is not None)


# --------------------------------------------------------------------------- round trips


def _swap_ascii_case(text: str) -> str:
    return "".join(c.swapcase() if c.isascii() else c for c in text)


def _outcome(function: object, raw: object) -> object:
    """The result, or the error class (with nothing of a dependency's leaking out)."""
    error: InvalidEmail | InvalidDomain | InvalidPhone | None = None
    try:
        return function(raw)  # type: ignore[operator]
    except (InvalidEmail, InvalidDomain, InvalidPhone) as exc:
        error = exc
    assert error.raw is raw
    assert error.reason
    return type(error)


@given(sst.email_addresses(emails=sst.emails(domains=sst.domains(idn=True))))
def test_parse_round_trips(address: EmailAddress) -> None:
    assert EmailAddress.parse(str(address)) == address


@given(st.text(max_size=60) | ascii_addresses())
def test_parse_accepts_only_what_round_trips_and_raises_only_invalid_email(raw: str) -> None:
    outcome = _outcome(EmailAddress.parse, raw)
    if isinstance(outcome, EmailAddress):
        assert EmailAddress.parse(str(outcome)) == outcome
        assert str(outcome) == str(outcome).strip()
    else:
        assert outcome is InvalidEmail


@given(sst.emails(domains=sst.domains(idn=True)), st.data())
def test_every_spelling_of_an_address_parses_to_it(canonical: str, data: st.DataObject) -> None:
    address = EmailAddress.parse(canonical)
    spelling = data.draw(
        st.sampled_from(
            [
                canonical.upper(),
                f"  {canonical}\r\n",
                f"Jane Doe <{canonical}>",
                f'"Doe, Jane" <{_swap_ascii_case(canonical)}>',
                f"mailto:{canonical}",
                f"<{canonical}>",
                f"'{canonical}'",
                canonical.replace("@", "+crm@", 1),
            ]
        )
    )
    assert EmailAddress.parse(spelling) == address


@given(st.text(max_size=40) | ascii_addresses(), st.sampled_from([" ", "\t", "\r\n", "  \n"]))
def test_case_and_surrounding_space_never_change_an_email_result(raw: str, pad: str) -> None:
    outcome = _outcome(EmailAddress.parse, raw)
    assert _outcome(EmailAddress.parse, _swap_ascii_case(raw)) == outcome
    assert _outcome(EmailAddress.parse, pad + raw + pad) == outcome


# --------------------------------------------------------------------------- domains

_HOSTISH = st.one_of(
    sst.domains(idn=True),
    st.text(st.sampled_from("abcXYZ09-.é"), max_size=30),
    st.text(max_size=30),
    st.from_regex(r"[a-z0-9.-]{1,20}\.(?:com|co\.uk|github\.io|jp|kawasaki\.jp|zz)", fullmatch=True),
)


@given(_HOSTISH)
def test_registrable_domain_is_idempotent_and_raises_only_invalid_domain(host: str) -> None:
    outcome = _outcome(registrable_domain, host)
    if isinstance(outcome, str):
        assert registrable_domain(outcome) == outcome
        assert normalize_host(host).endswith(outcome)
        assert normalize_host(outcome) == outcome
    else:
        assert outcome is InvalidDomain


@given(_HOSTISH, st.sampled_from([" ", "\t", "\n ", "   "]))
def test_case_and_surrounding_space_never_change_a_domain_result(host: str, pad: str) -> None:
    outcome = _outcome(registrable_domain, host)
    assert _outcome(registrable_domain, _swap_ascii_case(host)) == outcome
    assert _outcome(registrable_domain, pad + host + pad) == outcome
    assert _outcome(normalize_host, pad + _swap_ascii_case(host)) == _outcome(
        normalize_host, host
    )


@given(sst.domains(idn=True))
def test_generated_domains_are_canonical(host: str) -> None:
    assert normalize_host(host) == host
    assert host.endswith(registrable_domain(host))


@given(_HOSTISH)
def test_personal_domains_never_raise(host: str) -> None:
    personal = PersonalDomains.default()
    assert personal.kind(host) in (None, "free", "disposable")
    assert personal.is_personal(host) == (personal.kind(host) is not None)


# --------------------------------------------------------------------------- phones


@given(sst.phones())
def test_e164_phones_are_fixed_points(phone: str) -> None:
    assert normalize_phone(phone) == phone
    assert normalize_phone(f"  {phone}\n") == phone


@given(st.text(max_size=30), st.sampled_from([None, "US", "GB", "de", "001", "", "XX"]))
def test_phones_raise_only_invalid_phone(raw: str, region: str | None) -> None:
    outcome = _outcome(lambda text: normalize_phone(text, region), raw)
    if isinstance(outcome, str):
        assert normalize_phone(outcome) == outcome
    else:
        assert outcome is InvalidPhone
