"""Every public value's repr stays short (under `REPR_LIMIT` characters) and says what it
holds, on generated worlds and books run through every layer; hypothesis prints them
short too."""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis.strategies import SearchStrategy
from hypothesis.vendor.pretty import pretty

import stakeholder
from stakeholder import (
    DEFAULT_CASCADE,
    AccountSelector,
    FieldMap,
    IdentityPolicy,
    MemoryStore,
    OwnershipPolicy,
    PersonalDomains,
    RoutingPolicy,
    find_shared_contacts,
    frames,
    plan_shared_contact_sync,
    route_many,
)
from stakeholder._display import REPR_LIMIT
from stakeholder.crm import engagement_metrics, plan_account_sync, read_crm_accounts
from stakeholder.report import summarize
from stakeholder.testing import Book, World
from stakeholder.testing import strategies as sst

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("stakeholder", "stakeholder.crm", "stakeholder.frames", "stakeholder.testing",
           "stakeholder.report")
NOW = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
T = TypeVar("T")


def _public_classes() -> set[type]:
    classes: set[type] = set()
    for name in MODULES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            value = getattr(module, attr)
            if (
                inspect.isclass(value)
                and not getattr(value, "_is_protocol", False)
                and not issubclass(value, (BaseException, enum.Enum))
            ):
                classes.add(value)
    return classes


PUBLIC = tuple(_public_classes())


def _walk(value: object, seen: set[int], depth: int = 0) -> Iterator[object]:
    """`value` and every public value inside it (fields, items, mapping values)."""
    if id(value) in seen or depth > 6 or isinstance(value, (str, int, float, type)):
        return
    seen.add(id(value))
    if isinstance(value, PUBLIC):
        yield value
    if attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from _walk(getattr(value, field.name), seen, depth + 1)
    elif isinstance(value, (list, tuple, frozenset, set)):
        for item in list(value)[:40]:
            yield from _walk(item, seen, depth + 1)
    elif isinstance(value, dict):
        for item in list(value.values())[:40]:
            yield from _walk(item, seen, depth + 1)


def _values(world: World, book: Book) -> list[object]:
    index = world.index()
    decisions = list(route_many(world.communications, index))
    groups = find_shared_contacts(book.contacts, accounts=book.accounts)
    plan = plan_shared_contact_sync(
        book.accounts, book.contacts, corporate_account_id=book.accounts[0].id,
        copy_to_corporate=True,
    )
    store = MemoryStore()
    written = store.contacts.put_many("t", book.contacts)
    return [
        world, book, world.ownership(), index, decisions, groups, plan, store, written,
        OwnershipPolicy(), IdentityPolicy(), PersonalDomains(), RoutingPolicy(),
        world.ownership_policy, DEFAULT_CASCADE,
        stakeholder.resolve_domain_ownership(book.accounts, book.contacts),
        frames.decision_records(decisions), frames.shared_contact_records(groups),
        engagement_metrics(decisions, now=NOW),
        summarize(decisions, tenant="t", generated_at=NOW, accounts=book.accounts,
                  contacts=book.contacts, issues=world.ownership().issues),
    ]


def _crm_values() -> list[object]:
    selector = AccountSelector("Account_Status__c", ["Active", "New"], ["Churned"])
    snapshot = read_crm_accounts(
        ROOT / "tests" / "fixtures" / "crm" / "salesforce_accounts.csv",
        FieldMap.salesforce(), selector,
    )
    plan = plan_account_sync([], snapshot, selector, now=NOW, removal_grace=dt.timedelta(days=7))
    return [selector, FieldMap.salesforce(), snapshot, plan]


def _draw(strategy: SearchStrategy[T], condition: Callable[[T], bool] = bool) -> T:
    """One value of `strategy` (meeting `condition`), without shrinking."""
    return find(strategy, condition, settings=settings(database=None, phases=[Phase.generate]))


def _too_long(values: list[object]) -> dict[str, str]:
    seen: set[int] = set()
    return {
        type(v).__name__: repr(v)[:400] + "..."
        for value in values
        for v in _walk(value, seen)
        if len(repr(v)) > REPR_LIMIT
    }


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # every offender is listed: no shrinking
)
@given(
    sst.worlds(min_customers=3, max_customers=6, max_communications=15),
    sst.books(min_accounts=4, max_accounts=8, max_contacts=6, share_rate=0.5, phone_rate=0.5),
)
def test_no_public_value_has_a_long_repr(world: World, book: Book) -> None:
    assert _too_long(_values(world, book)) == {}


def test_crm_values_have_short_reprs() -> None:
    assert _too_long(_crm_values()) == {}


def test_the_walk_reaches_the_values_people_print() -> None:
    world = _draw(sst.worlds(min_customers=3))
    book = _draw(sst.books(min_accounts=4, share_rate=0.8))
    seen: set[int] = set()
    names = {type(v).__name__ for value in _values(world, book) + _crm_values()
             for v in _walk(value, seen)}
    assert names >= {
        "OwnershipPolicy", "PersonalDomains", "DomainOwnership", "RoutingIndex",
        "RoutingDecision", "Evidence", "Communication", "Contact", "Account",
        "SharedContactPlan", "SharedContactReport", "EngagementReport", "CrmSnapshot",
        "AccountSyncPlan", "World", "Book", "Records", "ReportData", "MemoryStore",
    }


def test_policy_repr_says_what_it_holds() -> None:
    text = repr(OwnershipPolicy(internal_domains=["ourco.io"]))
    assert len(text) <= REPR_LIMIT
    assert "ourco.io" in text
    assert len(repr(PersonalDomains.default())) <= REPR_LIMIT
    assert "items" in repr(PersonalDomains.default())  # a count, not 40,000 domains


def test_hypothesis_prints_policies_and_worlds_short() -> None:
    world = _draw(sst.worlds())
    for value in (OwnershipPolicy(), PersonalDomains.default(), world, world.ownership_policy):
        assert len(pretty(value)) <= REPR_LIMIT, type(value).__name__


def test_shared_contacts_repr_counts() -> None:
    book = _draw(sst.books(min_accounts=3, share_rate=1.0), lambda b: bool(b.shared_people))
    groups = find_shared_contacts(book.contacts)
    assert repr(groups).startswith(f"SharedContacts({len(groups)} group")
    if groups:
        assert "primary=" in repr(groups[0])


@pytest.mark.parametrize("name", ["SharedContactGroup", "SharedContactPlan", "RoutingDecision",
                                  "RoutingIndex", "DomainOwnership", "AccountSyncPlan",
                                  "SharedContacts"])
def test_values_people_look_at_render_html(name: str) -> None:
    assert callable(getattr(getattr(stakeholder, name), "_repr_html_", None)), name


def test_ctas_and_sponsor_updates_render_short_and_as_html() -> None:
    from stakeholder.alerts import CTA, CtaSource
    from stakeholder.sponsors import ProfileUpdate

    cta = CTA.open(account_id="acme", source=CtaSource.rule("renewal"), type="renewal",
                   reason="Renewal <in 30 days>", category="risk", priority="high", at=NOW)
    update = ProfileUpdate(
        "u1", "p1", "acme", "company", "Acme Corp", "Globex <Corp>",
        "https://profiles.example/p1", NOW, NOW,
    )
    for value in (cta, update):
        assert len(repr(value)) <= REPR_LIMIT
        html = value._repr_html_()
        assert "<table" in html or "<div" in html
        assert "&lt;" in html
        assert "<Corp>" not in html
        assert "<in 30" not in html
