"""Hypothesis strategies for `stakeholder`'s values: public API for your own tests.

Every function is keyword-only and returns a `SearchStrategy`; every part can be
overridden with a strategy of your own, so a test says only what matters to it::

    from hypothesis import given
    from stakeholder.testing import strategies as sst

    @given(sst.contacts(account_ids=st.just("acme")))
    def test_something(contact): ...

The defaults draw *valid* values: `domains()` gives canonical host names that have a
registrable domain, `emails()` canonical addresses that `EmailAddress.parse` accepts
unchanged, `phones()` valid E.164 numbers. Needs the `testing` extra (hypothesis).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Final

from stakeholder._errors import MissingDependency

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependency("stakeholder.testing.strategies", "testing", "hypothesis") from exc

import phonenumbers

from stakeholder._errors import InvalidDomain
from stakeholder._identity import EmailAddress, normalize_host, registrable_domain
from stakeholder._model import (
    Account,
    AccountKind,
    AccountStatus,
    CommKind,
    Communication,
    Contact,
    Participant,
    Role,
)
from stakeholder.testing._books import books
from stakeholder.testing._values import World
from stakeholder.testing._worlds import worlds as _worlds_strategy

__all__ = [
    "accounts",
    "books",
    "communications",
    "contacts",
    "domains",
    "email_addresses",
    "emails",
    "ids",
    "participants",
    "phones",
    "worlds",
]

SearchStrategy = st.SearchStrategy

#: Public suffixes the default `domains()` draws from: ICANN, multi-label and IDN ones.
DEFAULT_SUFFIXES: Final = (
    "com",
    "org",
    "net",
    "io",
    "de",
    "fr",
    "co.uk",
    "com.au",
    "co.jp",
    "com.br",
    "xn--p1ai",  # .рф
)

#: Internationalised labels (valid under IDNA 2008, one script each) for `domains(idn=True)`.
IDN_LABELS: Final = ("bücher", "münchen", "ñandú", "straße", "日本語", "пример", "例え", "δοκιμή")

_LABEL: Final = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?", fullmatch=True).filter(
    lambda label: "--" not in label
)
_LOCAL_ATOM: Final = st.from_regex(r"[a-z0-9_][a-z0-9_'-]{0,11}", fullmatch=True)
_TIMEZONES: Final = (
    dt.UTC,
    dt.timezone(dt.timedelta(hours=2)),
    dt.timezone(dt.timedelta(hours=-5)),
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
)
_START: Final = dt.datetime(2000, 1, 1) # hypothesis takes naive bounds
_END: Final = dt.datetime(2035, 12, 31)


def _has_registrable(host: str) -> bool:
    try:
        registrable_domain(host)
    except InvalidDomain:
        return False
    return True


def _idn_label(label: str) -> str:
    return normalize_host(label)


def ids(*, prefix: str = "") -> SearchStrategy[str]:
    """Record ids: short printable ASCII strings, optionally with a fixed `prefix`."""
    return st.from_regex(r"[a-z0-9]{1,6}(?:-[a-z0-9]{1,6})?", fullmatch=True).map(
        lambda text: prefix + text
    )


_ids = ids


def domains(
    *,
    labels: SearchStrategy[str] | None = None,
    suffixes: SearchStrategy[str] | None = None,
    max_subdomains: int = 2,
    idn: bool = False,
) -> SearchStrategy[str]:
    """Canonical host names (lower-case IDNA ASCII) that have a registrable domain.

    `labels` draws each label (default: LDH labels), `suffixes` the public suffix
    (default: `DEFAULT_SUFFIXES`), `max_subdomains` how many labels may precede the
    registrable one; `idn=True` mixes in internationalised labels (in A-label form).
    """
    label_strategy = labels if labels is not None else _LABEL
    if idn:
        label_strategy = st.one_of(label_strategy, st.sampled_from(IDN_LABELS).map(_idn_label))
    suffix_strategy = suffixes if suffixes is not None else st.sampled_from(DEFAULT_SUFFIXES)
    return (
        st.tuples(
            st.lists(label_strategy, min_size=1, max_size=1 + max_subdomains),
            suffix_strategy,
        )
        .map(lambda parts: ".".join([*parts[0], parts[1]]))
        .filter(lambda host: len(host) <= 253 and _has_registrable(host))
    )


_domains = domains


def emails(
    *,
    local_parts: SearchStrategy[str] | None = None,
    domains: SearchStrategy[str] | None = None,
) -> SearchStrategy[str]:
    """Canonical email addresses as strings: `EmailAddress.parse(x)` gives back `x`.

    `local_parts` defaults to lower-case dot-atoms without a sub-address; `domains`
    defaults to `domains()`.
    """
    local_strategy = (
        local_parts
        if local_parts is not None
        else st.lists(_LOCAL_ATOM, min_size=1, max_size=3).map(".".join)
    )
    domain_strategy = domains if domains is not None else _domains()
    return (
        st.tuples(local_strategy, domain_strategy)
        .map(lambda parts: f"{parts[0]}@{parts[1]}")
        .filter(lambda text: len(text) <= 254 and len(text.partition("@")[0]) <= 64)
    )


_emails = emails


def email_addresses(*, emails: SearchStrategy[str] | None = None) -> SearchStrategy[EmailAddress]:
    """`EmailAddress` values, parsed from `emails` (default `emails()`)."""
    source = emails if emails is not None else _emails()
    return source.map(EmailAddress.parse)


@functools.cache
def _regions_with_examples() -> tuple[str, ...]:
    """Regions phonenumbers has an example number for (about 245 parses: computed once)."""
    return tuple(
        sorted(
            region
            for region in phonenumbers.SUPPORTED_REGIONS
            if phonenumbers.example_number(region) is not None
        )
    )


def _phone_from(region: str, tail: int) -> str:
    """A valid number of `region`: its example number with the last digits varied."""
    example = phonenumbers.example_number(region)
    assert example is not None
    national = str(example.national_number)
    digits = len(str(tail))
    if len(national) > digits + 2:
        candidate = phonenumbers.PhoneNumber(
            country_code=example.country_code,
            national_number=int(national[:-digits] + str(tail)),
            italian_leading_zero=example.italian_leading_zero,
            number_of_leading_zeros=example.number_of_leading_zeros,
        )
        if phonenumbers.is_valid_number(candidate):
            example = candidate
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def phones(*, regions: SearchStrategy[str] | None = None) -> SearchStrategy[str]:
    """Valid phone numbers in E.164 form (`+4420...`), for `regions` (ISO 3166 alpha-2)."""
    region_strategy = (
        regions if regions is not None else st.sampled_from(_regions_with_examples())
    )
    return st.builds(_phone_from, region_strategy, st.integers(min_value=0, max_value=999))


_phones = phones


def _aware_datetimes() -> SearchStrategy[dt.datetime]:
    return st.datetimes(
        min_value=_START, max_value=_END, timezones=st.sampled_from(_TIMEZONES)
    )


_NAMES: Final = st.from_regex(r"[A-Z][a-z]{1,8}(?: [A-Z][a-z]{1,10})?", fullmatch=True)


def accounts(
    *,
    ids: SearchStrategy[str] | None = None,
    names: SearchStrategy[str] | None = None,
    kinds: SearchStrategy[AccountKind] | None = None,
    statuses: SearchStrategy[AccountStatus] | None = None,
    parent_ids: SearchStrategy[str | None] | None = None,
    domains: SearchStrategy[frozenset[str]] | None = None,
    aliases: SearchStrategy[frozenset[str]] | None = None,
) -> SearchStrategy[Account]:
    """`Account` values. `parent_ids` defaults to `None` (no hierarchy); pass a strategy
    of existing ids to build one. `domains` draws the whole set of declared domains."""
    return st.builds(
        Account,
        id=ids if ids is not None else _ids(prefix="a-"),
        name=names if names is not None else _NAMES,
        kind=kinds if kinds is not None else st.sampled_from(AccountKind),
        status=statuses if statuses is not None else st.sampled_from(AccountStatus),
        parent_id=parent_ids if parent_ids is not None else st.none(),
        domains=domains
        if domains is not None
        else st.frozensets(_domains(max_subdomains=0), max_size=2),
        aliases=aliases if aliases is not None else st.frozensets(_NAMES, max_size=2),
    )


def contacts(
    *,
    ids: SearchStrategy[str] | None = None,
    account_ids: SearchStrategy[str] | None = None,
    emails: SearchStrategy[str | EmailAddress | None] | None = None,
    phones: SearchStrategy[str | None] | None = None,
    names: SearchStrategy[str | None] | None = None,
    titles: SearchStrategy[str | None] | None = None,
    created_at: SearchStrategy[dt.datetime | None] | None = None,
    conversions: SearchStrategy[int] | None = None,
    first_conversion_at: SearchStrategy[dt.datetime | None] | None = None,
    deal_stages: SearchStrategy[int | None] | None = None,
    tags: SearchStrategy[frozenset[str]] | None = None,
) -> SearchStrategy[Contact]:
    """`Contact` records. By default email and phone are each present or `None`."""
    return st.builds(
        Contact,
        id=ids if ids is not None else _ids(prefix="c-"),
        account_id=account_ids if account_ids is not None else _ids(prefix="a-"),
        email=emails if emails is not None else st.none() | _emails(),
        phone=phones if phones is not None else st.none() | _phones(),
        name=names if names is not None else st.none() | _NAMES,
        title=titles
        if titles is not None
        else st.none() | st.sampled_from(("CEO", "CTO", "Buyer", "Engineer")),
        created_at=created_at if created_at is not None else st.none() | _aware_datetimes(),
        conversions=conversions
        if conversions is not None
        else st.integers(min_value=0, max_value=20),
        first_conversion_at=first_conversion_at
        if first_conversion_at is not None
        else st.none() | _aware_datetimes(),
        deal_stage=deal_stages
        if deal_stages is not None
        else st.none() | st.integers(min_value=0, max_value=6),
        tags=tags
        if tags is not None
        else st.frozensets(st.sampled_from(("vip", "partner", "newsletter")), max_size=2),
    )


def participants(
    *,
    addresses: SearchStrategy[str] | None = None,
    roles: SearchStrategy[Role] | None = None,
    names: SearchStrategy[str | None] | None = None,
) -> SearchStrategy[Participant]:
    """`Participant`s; `addresses` defaults to `emails()` (raw strings are allowed too)."""
    return st.builds(
        Participant,
        address=addresses if addresses is not None else emails(),
        role=roles if roles is not None else st.sampled_from(Role),
        name=names if names is not None else st.none() | _NAMES,
    )


_participants = participants


def communications(
    *,
    ids: SearchStrategy[str] | None = None,
    occurred_at: SearchStrategy[dt.datetime] | None = None,
    participants: SearchStrategy[list[Participant]] | None = None,
    thread_ids: SearchStrategy[str | None] | None = None,
    subjects: SearchStrategy[str] | None = None,
    kinds: SearchStrategy[CommKind] | None = None,
) -> SearchStrategy[Communication]:
    """`Communication`s with timezone-aware `occurred_at` and 1 to 6 participants."""
    return st.builds(
        Communication,
        id=ids if ids is not None else _ids(prefix="m-"),
        occurred_at=occurred_at if occurred_at is not None else _aware_datetimes(),
        participants=participants
        if participants is not None
        else st.lists(_participants(), min_size=1, max_size=6),
        thread_id=thread_ids if thread_ids is not None else st.none() | _ids(prefix="t-"),
        subject=subjects if subjects is not None else st.text(max_size=40),
        kind=kinds if kinds is not None else st.sampled_from(CommKind),
    )


def worlds(
    *,
    min_customers: int = 1,
    max_customers: int = 5,
    max_communications: int = 12,
    partners: bool = True,
    groups: bool = True,
    shared_threads: bool = False,
) -> SearchStrategy[World]:
    """Coherent worlds (`World`): accounts, contacts and communications with a known
    right answer (`Expectation`) per communication.

    `min_customers`/`max_customers` bound the customer accounts (at most 14);
    `max_communications` the communications; `partners` and `groups` allow a partner
    account and a corporate group whose sites share a domain. With `shared_threads`,
    communications fall into three threads, so thread memory comes into play (a
    `shared_alone` expectation, `AMBIGUOUS`, then holds only without it).
    """
    return _worlds_strategy(
        min_customers=min_customers,
        max_customers=max_customers,
        max_communications=max_communications,
        partners=partners,
        groups=groups,
        shared_threads=shared_threads,
    )
