"""`stakeholder.testing.strategies`: public, keyword-only, overridable, valid values."""

from __future__ import annotations

import inspect
import time
import typing

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from stakeholder import (
    Account,
    AccountKind,
    Communication,
    Contact,
    EmailAddress,
    MatchOn,
    Participant,
    Role,
    find_shared_contacts,
    normalize_host,
    normalize_phone,
    registrable_domain,
)
from stakeholder.testing import Book, Expectation, World
from stakeholder.testing import strategies as sst

PUBLIC = list(sst.__all__)


@pytest.mark.parametrize("name", PUBLIC)
def test_strategies_are_keyword_only_and_return_strategies(name: str) -> None:
    function = getattr(sst, name)
    parameters = inspect.signature(function).parameters.values()
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters), name
    assert isinstance(function(), st.SearchStrategy)
    assert function.__doc__
    if parameters:
        with pytest.raises(TypeError):
            function(st.just("x"))


@given(sst.domains())
def test_domains_are_canonical_and_registrable(host: str) -> None:
    assert normalize_host(host) == host
    assert host.endswith(registrable_domain(host))


@given(sst.domains(suffixes=st.just("co.uk"), max_subdomains=0))
def test_domains_take_overrides(host: str) -> None:
    assert host.endswith(".co.uk")
    assert registrable_domain(host) == host


@given(sst.emails())
def test_emails_are_canonical(text: str) -> None:
    assert str(EmailAddress.parse(text)) == text


@given(sst.emails(domains=st.just("acme.com"), local_parts=st.sampled_from(["jane", "bob"])))
def test_emails_take_overrides(text: str) -> None:
    assert text in ("jane@acme.com", "bob@acme.com")


@given(sst.email_addresses())
def test_email_addresses(address: EmailAddress) -> None:
    assert isinstance(address, EmailAddress)


@given(sst.phones())
def test_phones_are_valid_e164(phone: str) -> None:
    assert normalize_phone(phone) == phone


@given(sst.phones(regions=st.just("GB")))
def test_phones_take_regions(phone: str) -> None:
    assert phone.startswith("+44")


@given(sst.accounts(ids=st.just("acme"), kinds=st.just(AccountKind.PARTNER)))
def test_accounts(account: Account) -> None:
    assert isinstance(account, Account)
    assert (account.id, account.kind) == ("acme", AccountKind.PARTNER)
    assert account.parent_id is None


@given(sst.contacts(account_ids=st.just("acme"), emails=sst.emails(domains=st.just("acme.com"))))
def test_contacts(contact: Contact) -> None:
    assert isinstance(contact, Contact)
    assert contact.account_id == "acme"
    assert contact.email_address is not None
    assert contact.email_address.domain == "acme.com"


@given(sst.participants(roles=st.just(Role.FROM)))
def test_participants(participant: Participant) -> None:
    assert participant.role is Role.FROM
    EmailAddress.parse(participant.address)


@given(sst.communications())
def test_communications(comm: Communication) -> None:
    assert isinstance(comm, Communication)
    assert 1 <= len(comm.participants) <= 6
    assert comm.occurred_at.utcoffset() is not None


@given(
    sst.communications(
        participants=st.lists(sst.participants(addresses=st.just("not an address")), min_size=1)
    )
)
def test_communications_take_raw_participants(comm: Communication) -> None:
    assert {p.address for p in comm.participants} == {"not an address"}


def test_worlds_and_books_are_typed_with_public_values() -> None:
    hints = typing.get_type_hints(sst.worlds)
    assert hints["return"] == st.SearchStrategy[World]
    assert typing.get_type_hints(sst.books)["return"] == st.SearchStrategy[Book]
    assert World.__module__.startswith("stakeholder.testing")
    assert "Expectation" in dir(__import__("stakeholder.testing").testing)
    assert Expectation.__doc__


def test_phones_region_list_is_computed_once() -> None:
    sst.phones()
    start = time.perf_counter()
    for _ in range(50):
        sst.phones()
    assert time.perf_counter() - start < 0.05  # 16 ms each before the cache


@settings(max_examples=30)
@given(sst.worlds())
def test_world_repr_is_short_and_says_what_it_holds(world: World) -> None:
    text = repr(world)
    assert len(text) <= 300
    assert f"{len(world.accounts)} account" in text
    assert f"{len(world.communications)} communication" in text
    assert all(len(repr(e)) <= 300 for e in world.expected.values())
    assert world.describe().count("\n") >= len(world.contacts)


def test_failure_output_of_a_world_is_short() -> None:
    from hypothesis.vendor.pretty import pretty

    world = find(sst.worlds(), lambda w: len(w.communications) >= 3)
    assert len(pretty(world)) <= 300


@settings(max_examples=40)
@given(sst.books(share_rate=0.5, phone_rate=0.5, parent_rate=0.5, partner_rate=0.5))
def test_books_are_coherent(book: Book) -> None:
    ids = {a.id for a in book.accounts}
    assert all(c.account_id in ids for c in book.contacts)
    assert all(a.parent_id is None or a.parent_id in ids for a in book.accounts)
    assert len({c.id for c in book.contacts}) == len(book.contacts)
    groups = find_shared_contacts(book.contacts, MatchOn.EMAIL)
    found = {email: set(g.account_ids) for g in groups for email in g.emails}
    for email, account_ids in book.shared_people.items():
        assert account_ids <= found[email]
    assert len(repr(book)) <= 300


def test_books_shrink_to_a_minimal_readable_example() -> None:
    book = find(
        sst.books(max_accounts=4, max_contacts=3),
        lambda b: bool(b.shared_people),
        settings=settings(
            max_examples=200, database=None, phases=[Phase.generate, Phase.shrink],
            derandomize=True,
        ),
    )
    assert len(book.accounts) == 2
    assert len(book.shared_people) == 1
    assert len(book.contacts) <= 5  # e.g. a0: ann; a1: ann, bob, cy; cy again in a0
    assert [a.name for a in book.accounts] == ["Northwind", "Contoso"]
    assert "accounts:" in book.describe()


@pytest.mark.parametrize(
    ("knobs", "message"),
    [({"max_accounts": 20}, "max_accounts"), ({"share_rate": 2.0}, "share_rate"),
     ({"min_contacts": 3, "max_contacts": 1}, "contacts")],
)
def test_books_reject_bad_knobs(knobs: dict[str, typing.Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sst.books(**knobs)


def test_worlds_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="min_customers"):
        sst.worlds(min_customers=3, max_customers=2)
