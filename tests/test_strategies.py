"""`stakeholder.testing.strategies`: public, keyword-only, overridable, valid values."""

from __future__ import annotations

import importlib.util
import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stakeholder import (
    Account,
    AccountKind,
    Communication,
    Contact,
    EmailAddress,
    Participant,
    Role,
    normalize_host,
    normalize_phone,
    registrable_domain,
)
from stakeholder.testing import strategies as sst

PUBLIC = [name for name in sst.__all__ if name != "worlds"]


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


def test_worlds_forwards_to_the_routing_layer() -> None:
    assert sst.worlds.__doc__
    if importlib.util.find_spec("stakeholder.testing._worlds") is None:
        with pytest.raises(ModuleNotFoundError):
            sst.worlds()
    else:
        assert isinstance(sst.worlds(), st.SearchStrategy)
