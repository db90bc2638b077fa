"""Property tests for domain ownership (issue 3).

The worlds are built from small pools of ids and domains so that the interesting cases
(several claimants, shared contacts' domains, parents, cycles, personal and internal
domains, bad emails, duplicate and dangling ids) come up often.
"""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from stakeholder import (
    Account,
    ClaimKind,
    Contact,
    DomainOwnership,
    DomainStatus,
    IssueKind,
    OwnershipPolicy,
    SyncMode,
    registrable_domain,
    resolve_domain_ownership,
)
from stakeholder.testing import strategies as sst

ACCOUNT_IDS = [f"acc-{i}" for i in range(7)]
COMPANY_HOSTS = [
    "globex.com",
    "eu.globex.com",
    "initech.com",
    "hooli.io",
    "mail.hooli.io",
    "acme.co.uk",
    "labs.acme.co.uk",
    "bücher.de",
    "vendor.net",
    "jane.github.io",
]
PERSONAL_HOSTS = ["gmail.com", "yahoo.com", "mailinator.com"]
INTERNAL = "ourco.com"
INTERNAL_HOSTS = [INTERNAL, "eu.ourco.com"]
ALL_HOSTS = COMPANY_HOSTS + PERSONAL_HOSTS + INTERNAL_HOSTS
BAD_EMAILS = ["", "   ", "no-at-sign", "x@", "@globex.com", "a b@globex.com", "x@co.uk"]


@st.composite
def worlds_(draw: st.DrawFn) -> tuple[list[Account], list[Contact], OwnershipPolicy]:
    """Accounts, contacts and a policy over a small pool of hosts: some fixed (subdomains,
    IDN, private suffixes, personal, internal), some drawn by `sst.domains()`."""
    drawn = draw(st.lists(sst.domains(max_subdomains=1), max_size=3))
    hosts = ALL_HOSTS + drawn
    parents = st.none() | st.sampled_from([*ACCOUNT_IDS, "missing-parent"])
    account_list = []
    for account in draw(
        st.lists(
            sst.accounts(
                ids=st.sampled_from(ACCOUNT_IDS),
                domains=st.frozensets(st.sampled_from(hosts), max_size=3),
            ),
            max_size=9,
        )
    ):
        parent = draw(parents)
        if parent is not None and parent != account.id:
            account = attrs.evolve(account, parent_id=parent)
        account_list.append(account)
    emails = st.one_of(
        st.none(),
        st.sampled_from(BAD_EMAILS),
        sst.emails(domains=st.sampled_from(hosts)),
        sst.emails(domains=st.sampled_from(hosts)),
        sst.emails(domains=st.sampled_from(hosts)),
    )
    contact_list = draw(
        st.lists(
            sst.contacts(
                ids=st.integers(0, 40).map(lambda i: f"c-{i}"),
                account_ids=st.sampled_from([*ACCOUNT_IDS, "ghost"]),
                emails=emails,
                phones=st.none(),  # irrelevant to ownership; keeps examples fast
                created_at=st.none(),
                first_conversion_at=st.none(),
            ),
            max_size=40,
        )
    )
    policy = OwnershipPolicy(
        secondary_min_contacts=draw(st.integers(1, 4)),
        shared_domains=draw(st.frozensets(st.sampled_from(COMPANY_HOSTS + drawn), max_size=2)),
        allow_all_shared=draw(st.booleans()),
        internal_domains=draw(st.sampled_from([frozenset(), frozenset({INTERNAL})])),
    )
    return account_list, contact_list, policy


worlds = worlds_()


def fingerprint(result: DomainOwnership) -> dict[str, Any]:
    data = result.to_dict()
    data["rejections"] = [r.to_dict() for r in result.rejections]
    data["explanations"] = {d: result.explain(d) for d in result.domains}
    return data


@given(world=worlds, data=st.data())
def test_result_does_not_depend_on_input_order(
    world: tuple[list[Account], list[Contact], OwnershipPolicy], data: st.DataObject
) -> None:
    accs, cons, policy = world
    expected = resolve_domain_ownership(accs, cons, policy)
    shuffled_accounts = data.draw(st.permutations(accs))
    shuffled_contacts = data.draw(st.permutations(cons))
    again = resolve_domain_ownership(shuffled_accounts, shuffled_contacts, policy)
    assert again == expected
    assert fingerprint(again) == fingerprint(expected)


@given(world=worlds)
def test_statuses_owners_and_issues_agree(
    world: tuple[list[Account], list[Contact], OwnershipPolicy],
) -> None:
    result = resolve_domain_ownership(*world)
    conflicts = set()
    for domain, entry in result.domains.items():
        assert entry.claimants == tuple(sorted({c.account_id for c in entry.claims}))
        if entry.status is DomainStatus.UNIQUE:
            assert len(entry.claimants) == 1
            assert result.owner(domain) == entry.claimants[0]
            assert entry.issue is None or entry.issue.kind is not IssueKind.CONFLICT
        else:
            assert len(entry.claimants) >= 2
            assert result.owner(domain) == entry.hierarchy_owner
        if entry.status is DomainStatus.CONFLICT:
            conflicts.add(domain)
            assert entry.issue is not None
            assert entry.issue.account_ids == entry.claimants
            assert entry.hierarchy_owner is None
            assert entry.issue.reason
            assert entry.issue.suggestion
    assert {i.domain for i in result.issues if i.kind is IssueKind.CONFLICT} == conflicts
    # one issue per domain, and a claimed domain's entry carries its issue
    assert len({i.domain for i in result.issues}) == len(result.issues)
    for issue in result.issues:
        entry = result.domains.get(issue.domain)
        assert entry is None or entry.issue == issue
    for account_id, account in result.accounts.items():
        owns_unique = any(
            result.domains[c.domain].status is DomainStatus.UNIQUE for c in account.claims
        )
        assert (result.mode(account_id) is SyncMode.DOMAIN) == owns_unique
        assert account.contacts == account.counted + sum(n for _r, n in account.skipped)


@given(world=worlds, domain=st.sampled_from(COMPANY_HOSTS) | sst.domains())
def test_allowing_a_domain_as_shared_never_adds_a_sync_issue(
    world: tuple[list[Account], list[Contact], OwnershipPolicy], domain: str
) -> None:
    accs, cons, policy = world
    before = resolve_domain_ownership(accs, cons, policy)
    wider = attrs.evolve(policy, shared_domains=policy.shared_domains | {domain})
    after = resolve_domain_ownership(accs, cons, wider)

    def conflicts(result: DomainOwnership) -> set[str]:
        return {i.domain for i in result.issues if i.kind is IssueKind.CONFLICT}

    assert conflicts(after) <= conflicts(before)
    assert domain not in conflicts(after)
    assert after.claims == before.claims
    everything = resolve_domain_ownership(accs, cons, attrs.evolve(policy, allow_all_shared=True))
    assert conflicts(everything) == set()


@given(world=worlds, more=st.integers(1, 3))
def test_raising_secondary_min_contacts_never_adds_a_claim(
    world: tuple[list[Account], list[Contact], OwnershipPolicy], more: int
) -> None:
    accs, cons, policy = world
    before = resolve_domain_ownership(accs, cons, policy)
    stricter = attrs.evolve(
        policy, secondary_min_contacts=policy.secondary_min_contacts + more
    )
    after = resolve_domain_ownership(accs, cons, stricter)
    assert set(after.claims) <= set(before.claims)


@given(world=worlds)
def test_personal_and_internal_domains_are_never_claimed(
    world: tuple[list[Account], list[Contact], OwnershipPolicy],
) -> None:
    accs, cons, policy = world
    result = resolve_domain_ownership(accs, cons, policy)
    declared = {h for a in accs for h in a.domains}
    for claim in result.claims:
        if policy.personal_domains.is_personal(claim.domain):
            # only a declaration makes a personal host claimed, and it is reported
            assert claim.domain in declared
            assert claim.kind is ClaimKind.DECLARED
            assert result.issue(claim.domain) is not None
        assert policy.internal_match(claim.domain) is None
    for host in PERSONAL_HOSTS:
        if host not in declared:
            assert result.owner(host) is None
            assert result.claimants(host) == ()
    for host in policy.internal_domains:
        assert result.owner(host) is None


@given(world=worlds)
def test_explain_mentions_the_domain_and_every_claimant(
    world: tuple[list[Account], list[Contact], OwnershipPolicy],
) -> None:
    result = resolve_domain_ownership(*world)
    for domain, entry in result.domains.items():
        text = result.explain(domain)
        assert domain in text
        for account_id in entry.claimants:
            assert account_id in text
    for account_id in result.accounts:
        assert account_id in result.explain_account(account_id)


@given(world=worlds)
def test_every_declared_company_domain_is_claimed_by_its_account(
    world: tuple[list[Account], list[Contact], OwnershipPolicy],
) -> None:
    accs, cons, policy = world
    result = resolve_domain_ownership(accs, cons, policy)
    for account_id, account in result.accounts.items():
        source = next(a for a in accs if a.id == account_id)
        for host in source.domains:
            # host level: the declared host itself, personal or not; never an internal one
            if policy.internal_match(host) is not None:
                assert account_id not in result.claimants(host)
            else:
                assert account_id in result.claimants(host)
                assert result.key(host) == host
        claimed = {c.domain for c in account.claims}
        assert account.dominant is None or account.dominant in claimed


@given(world=worlds)
def test_nothing_is_dropped_silently(
    world: tuple[list[Account], list[Contact], OwnershipPolicy],
) -> None:
    accs, cons, policy = world
    result = resolve_domain_ownership(accs, cons, policy)
    contact_rejections = [r for r in result.rejections if r.where == "contacts"]
    accepted = sum(a.contacts for a in result.accounts.values())
    assert accepted + len(contact_rejections) == len(cons)
    account_rejections = [r for r in result.rejections if r.where == "accounts"]
    assert len(result.accounts) + len(account_rejections) == len(accs)


@given(host=sst.domains(idn=True, max_subdomains=3))
def test_the_fast_fold_agrees_with_registrable_domain(host: str) -> None:
    from stakeholder._ownership import _registrable_of_canonical_host

    assert _registrable_of_canonical_host(host) == registrable_domain(host)


# --------------------------------------------------------------------------- issue 10


@settings(max_examples=40)
@given(world=worlds, data=st.data())
def test_a_contact_of_another_account_at_a_declared_host_never_changes_its_owner(
    world: tuple[list[Account], list[Contact], OwnershipPolicy], data: st.DataObject
) -> None:
    accs, cons, policy = world
    before = resolve_domain_ownership(accs, cons, policy)
    sources = {a.id: a for a in accs if a.id in before.accounts}
    declared = sorted(
        (h, account_id)
        for account_id, source in sources.items()
        for h in source.domains
        if policy.internal_match(h) is None
    )
    if not declared or len(before.accounts) < 2:
        return
    host, declarer = data.draw(st.sampled_from(declared))
    other = data.draw(st.sampled_from(sorted(a for a in before.accounts if a != declarer)))
    local = data.draw(st.sampled_from(["stray", "x.y", "z9"]))
    stray = Contact(id="stray-contact", account_id=other, email=f"{local}@{host}")
    after = resolve_domain_ownership(accs, [*cons, stray], policy)
    assert after.owner(host) == before.owner(host)
    assert after.claimants(host) == before.claimants(host)
    assert after.status(host) == before.status(host)


@settings(max_examples=40)
@given(world=worlds, data=st.data())
def test_longest_declared_host_wins_whatever_the_input_order(
    world: tuple[list[Account], list[Contact], OwnershipPolicy], data: st.DataObject
) -> None:
    accs, cons, policy = world
    expected = resolve_domain_ownership(accs, cons, policy)
    again = resolve_domain_ownership(
        data.draw(st.permutations(accs)), data.draw(st.permutations(cons)), policy
    )
    for host in ALL_HOSTS:
        probe = f"someone@deep.{host}"
        assert again.key(probe) == expected.key(probe)
        assert again.owner(probe) == expected.owner(probe)
        # the key is the longest claimed host that holds the address
        key = expected.key(probe)
        holders = [d for d in expected.domains if f"deep.{host}".endswith("." + d)]
        if holders:
            assert key == max(holders, key=len)
