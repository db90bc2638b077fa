"""A downstream team's property tests, written as a user would: only public names
(`stakeholder`, `stakeholder.testing`), fully typed (`mypy --strict` runs over this
file, see the Makefile), 500 examples per property, under 30 seconds together."""

from __future__ import annotations

import random

from hypothesis import given, note, settings
from hypothesis import strategies as st

from stakeholder import (
    MatchOn,
    PersonalDomains,
    RouteStatus,
    find_shared_contacts,
    resolve_domain_ownership,
    route_many,
)
from stakeholder.testing import Book, World
from stakeholder.testing import strategies as sst

EXAMPLES = settings(max_examples=500, deadline=None)


@EXAMPLES
@given(sst.worlds(max_customers=4, max_communications=6))
def test_every_communication_gets_its_right_answer(world: World) -> None:
    note(world.describe())
    for decision in route_many(world.communications, world.index()):
        expected = world.expected[decision.comm_id]
        assert decision.status is expected.status, decision.explain()
        if expected.status is RouteStatus.ROUTED:
            assert set(decision.account_ids) == set(expected.accounts), decision.explain()
            if expected.primary is not None:
                assert decision.account_ids[0] == expected.primary, decision.explain()
        elif expected.status is RouteStatus.AMBIGUOUS:
            assert set(decision.candidates) == set(expected.accounts), decision.explain()


@EXAMPLES
@given(sst.books(max_accounts=5, share_rate=0.3, phone_rate=0.3))
def test_every_planted_shared_person_is_found(book: Book) -> None:
    note(book.describe())
    groups = find_shared_contacts(book.contacts, MatchOn.EMAIL)
    by_email = {email: group for group in groups for email in group.emails}
    for email, account_ids in book.shared_people.items():
        assert email in by_email, f"{email} was planted in {sorted(account_ids)}"
        assert account_ids <= set(by_email[email].account_ids)


@EXAMPLES
@given(sst.books(max_accounts=5, personal_rate=0.3), st.randoms(use_true_random=False))
def test_ownership_ignores_order_and_never_claims_personal_mail(
    book: Book, rng: random.Random
) -> None:
    note(book.describe())
    ownership = resolve_domain_ownership(book.accounts, book.contacts)
    accounts, contacts = list(book.accounts), list(book.contacts)
    rng.shuffle(accounts)
    rng.shuffle(contacts)
    shuffled = resolve_domain_ownership(accounts, contacts)
    assert sorted(shuffled.claims) == sorted(ownership.claims)
    assert {d: shuffled.owner(d) for d in shuffled.domains} == {
        d: ownership.owner(d) for d in ownership.domains
    }
    personal = PersonalDomains()
    assert not [c for c in ownership.claims if personal.is_personal(c.domain)]
    declared_alone = {
        domain: account.id
        for account in book.accounts
        for domain in account.domains
        if sum(domain in other.domains for other in book.accounts) == 1
        and not any(
            c.email_address is not None
            and c.email_address.registrable_domain == domain
            and c.account_id != account.id
            for c in book.contacts
        )
    }
    for domain, account_id in declared_alone.items():
        assert ownership.owner(domain) == account_id, ownership.explain(domain)
