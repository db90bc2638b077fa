"""Shared contacts: properties (order independence, partition, idempotent plans)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from hypothesis import given
from hypothesis import strategies as st

from stakeholder import Account, Contact
from stakeholder._shared import (
    PRIMARY_TAG,
    SECONDARY_TAG,
    MatchOn,
    SharedContacts,
    apply_shared_contact_plan,
    find_shared_contacts,
    plan_shared_contact_sync,
    rank_primary,
)
from stakeholder.testing import strategies as sst

REGION = "GB"
ACCOUNTS = (
    Account("corp", "Acme Group"),
    Account("a1", "Elm Park", parent_id="corp"),
    Account("a2", "Oak Lane", parent_id="corp"),
    Account("a3", "Café Zürich", parent_id="corp"),
    Account("a4", "Annex", parent_id="a1"),
    Account("x1", "Elsewhere"),
)
ACCOUNT_IDS = ("a1", "a2", "a3", "a4", "x1")

# few values, written several ways, so that records collide often
EMAILS = st.sampled_from(
    ("jane@acme.com", "Jane+crm@ACME.com", "bob@acme.com", "BOB@acme.com", "eve@x.org",
     "not an email", None, None)
)
PHONES = st.sampled_from(
    ("+442079460018", "020 7946 0018", "+44 20 7946 0019", "02079460019",
     "+1 212 555 0123", "12", None, None)
)
USER_TAG = "multi-site"
TAGS = st.frozensets(st.sampled_from(("vip", USER_TAG, PRIMARY_TAG, SECONDARY_TAG)), max_size=3)
MODES = st.sampled_from(MatchOn)


@st.composite
def contact_lists(draw: st.DrawFn) -> list[Contact]:
    raw = draw(
        st.lists(
            sst.contacts(
                ids=st.just("tmp"),
                account_ids=st.sampled_from(ACCOUNT_IDS),
                emails=EMAILS,
                phones=PHONES,
                tags=TAGS,
                deal_stages=st.none() | st.integers(0, 3),
                conversions=st.integers(0, 2),
            ),
            max_size=14,
        )
    )
    ids = draw(st.permutations([f"c{i:02d}" for i in range(len(raw))]))
    return [Contact(**{**_fields(c), "id": i}) for c, i in zip(raw, ids, strict=True)]


def _fields(c: Contact) -> dict[str, object]:
    return {
        "account_id": c.account_id, "email": c.email, "phone": c.phone, "name": c.name,
        "title": c.title, "created_at": c.created_at, "conversions": c.conversions,
        "first_conversion_at": c.first_conversion_at, "deal_stage": c.deal_stage,
        "tags": c.tags,
    }


def snapshot(groups: SharedContacts) -> object:
    return [g.to_dict() for g in groups], groups.report


@given(contact_lists(), MODES, st.randoms(use_true_random=False))
def test_groups_do_not_depend_on_input_order(
    contacts: list[Contact], mode: MatchOn, rnd: object
) -> None:
    shuffled = list(contacts)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    first = find_shared_contacts(contacts, mode, default_region=REGION)
    second = find_shared_contacts(shuffled, mode, default_region=REGION)
    assert snapshot(first) == snapshot(second)


@given(contact_lists(), MODES)
def test_groups_partition_records_across_accounts(contacts: list[Contact], mode: MatchOn) -> None:
    groups = find_shared_contacts(contacts, mode, default_region=REGION)
    seen: set[str] = set()
    for group in groups:
        ids = [c.id for c in group.records]
        assert not seen & set(ids), "a record is in two groups"
        seen.update(ids)
        assert len({c.account_id for c in group.records}) >= 2
        assert len(group.account_ids) >= 2
        assert group.primary in group.records
        assert group.ranking.records[0] == group.primary
        assert set(group.ranking.records) == set(group.records)
        assert len(group.ranking.steps) == len(group.records) - 1


def _reference_groups(contacts: list[Contact], mode: MatchOn) -> set[frozenset[str]]:
    """Naive transitive closure: link every pair sharing a key, grow components by BFS."""
    from stakeholder import normalize_phone
    from stakeholder._errors import InvalidPhone

    def keys(c: Contact) -> set[str]:
        email = str(c.email_address) if c.email_address else None
        try:
            phone = normalize_phone(c.phone, REGION) if c.phone else None
        except InvalidPhone:
            phone = None
        if mode is MatchOn.EMAIL:
            return {email} if email else set()
        if mode is MatchOn.PHONE:
            return {phone} if phone else set()
        if mode is MatchOn.EMAIL_AND_PHONE:
            return {f"{email}|{phone}"} if email and phone else set()
        return {k for k in (email, phone) if k}

    key_of = {c.id: keys(c) for c in contacts}
    neighbours: dict[str, set[str]] = defaultdict(set)
    for a in contacts:
        for b in contacts:
            if a.id != b.id and key_of[a.id] & key_of[b.id]:
                neighbours[a.id].add(b.id)
    account = {c.id: c.account_id for c in contacts}
    seen: set[str] = set()
    found: set[frozenset[str]] = set()
    for c in contacts:
        if c.id in seen or not neighbours[c.id]:
            continue
        component, todo = set(), [c.id]
        while todo:
            current = todo.pop()
            if current not in component:
                component.add(current)
                todo.extend(neighbours[current])
        seen |= component
        if len({account[i] for i in component}) >= 2:
            found.add(frozenset(component))
    return found


@given(contact_lists(), MODES)
def test_groups_agree_with_a_naive_reference(contacts: list[Contact], mode: MatchOn) -> None:
    groups = find_shared_contacts(contacts, mode, default_region=REGION)
    assert {frozenset(c.id for c in g.records) for g in groups} == _reference_groups(
        contacts, mode
    )


@given(contact_lists(), st.randoms(use_true_random=False))
def test_ranking_does_not_depend_on_order(contacts: list[Contact], rnd: object) -> None:
    if not contacts:
        return
    shuffled = list(contacts)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert rank_primary(contacts) == rank_primary(shuffled)


def _plan(contacts: list[Contact], mode: MatchOn, copy: bool) -> object:
    return plan_shared_contact_sync(
        ACCOUNTS, contacts, tags=[USER_TAG], corporate_account_id="corp",
        copy_to_corporate=copy, match_on=mode, default_region=REGION,
    )


@given(contact_lists(), MODES, st.booleans())
def test_plan_apply_plan_is_empty(contacts: list[Contact], mode: MatchOn, copy: bool) -> None:
    plan = _plan(contacts, mode, copy)
    applied = apply_shared_contact_plan(contacts, plan)  # type: ignore[arg-type]
    again = _plan(applied, mode, copy)
    assert again.is_empty, again.explain()  # type: ignore[attr-defined]
    # the tags now say exactly who is shared, in scope; out of scope is untouched
    role = {}
    for group in plan.groups:  # type: ignore[attr-defined]
        role[group.primary.id] = PRIMARY_TAG
        role.update({c.id: SECONDARY_TAG for c in group.secondaries})
    before = {c.id: c for c in contacts}
    for c in applied:
        if c.account_id == "corp":
            assert copy
            assert c.id.startswith("shared-contact:corp:")
            continue
        if c.account_id == "x1":
            assert c == before[c.id]
            continue
        system = c.tags & {PRIMARY_TAG, SECONDARY_TAG}
        if c.id in role:
            assert system == {role[c.id]}
            assert USER_TAG in c.tags
        else:
            assert not system
            assert USER_TAG not in c.tags
        assert c.tags - {PRIMARY_TAG, SECONDARY_TAG, USER_TAG} == before[c.id].tags - {
            PRIMARY_TAG, SECONDARY_TAG, USER_TAG
        }


@given(contact_lists(), MODES, st.data())
def test_a_contact_that_stops_being_shared_loses_the_system_tags(
    contacts: list[Contact], mode: MatchOn, data: st.DataObject
) -> None:
    applied = apply_shared_contact_plan(contacts, _plan(contacts, mode, True))  # type: ignore[arg-type]
    children = [c for c in applied if c.account_id != "corp"]
    keep = data.draw(st.sets(st.sampled_from([c.id for c in children])) if children else st.just(set()))
    remaining = [c for c in applied if c.id in keep or c.account_id == "corp"]
    plan = _plan(remaining, mode, True)
    final = apply_shared_contact_plan(remaining, plan)  # type: ignore[arg-type]
    shared_ids = {c.id for g in plan.groups for c in g.records}  # type: ignore[attr-defined]
    for c in final:
        if c.account_id in ("corp", "x1"):
            continue
        if c.id not in shared_ids:
            assert not c.tags & {PRIMARY_TAG, SECONDARY_TAG, USER_TAG}
    copies = [c for c in final if c.account_id == "corp"]
    assert len(copies) == len(plan.groups)  # type: ignore[attr-defined]


@given(
    st.lists(
        sst.contacts(
            ids=st.just("x"), account_ids=st.sampled_from(("a1", "a2")), emails=st.just("p@q.com"),
            phones=st.none(), created_at=st.none() | st.just(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
        ),
        min_size=2, max_size=5,
    )
)
def test_explanations_name_a_criterion_for_every_record(records: list[Contact]) -> None:
    records = [Contact(**{**_fields(c), "id": f"r{i}"}) for i, c in enumerate(records)]
    ranking = rank_primary(records, accounts=ACCOUNTS)
    for step in ranking.steps:
        assert " wins on " in step.explain()
        assert step.winner_id == ranking.primary.id


@given(contact_lists(), MODES, st.booleans(), st.randoms(use_true_random=False))
def test_plan_does_not_depend_on_input_order(
    contacts: list[Contact], mode: MatchOn, copy: bool, rnd: object
) -> None:
    shuffled = list(contacts)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    first = _plan(contacts, mode, copy).to_dict()  # type: ignore[attr-defined]
    second = _plan(shuffled, mode, copy).to_dict()  # type: ignore[attr-defined]
    assert first == second
