"""Domain ownership on real organisations (../shared/data/orgs).

Expected values are never written down: each test derives what the data implies
(which institutions declare which registrable domain, which organisations are linked as
subsidiaries) with its own plain code and checks the library against it.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from functools import cache

import pytest

from conftest import shared_data
from stakeholder import (
    Account,
    ClaimKind,
    Contact,
    DomainOwnership,
    DomainStatus,
    InvalidDomain,
    IssueKind,
    OwnershipPolicy,
    PersonalDomains,
    SkipReason,
    registrable_domain,
    resolve_domain_ownership,
)
from stakeholder._ownership._hosts import is_icann_suffix

# --------------------------------------------------------------------------- universities


@cache
def university_accounts() -> tuple[Account, ...]:
    path = shared_data("orgs", "universities", "world_universities_and_domains.json")
    institutions = json.loads(path.read_text(encoding="utf-8"))
    return tuple(
        Account(id=f"uni-{i}", name=row["name"], domains=row["domains"])
        for i, row in enumerate(institutions)
    )


PERSONAL = PersonalDomains.default()


def declared_groups(accounts: tuple[Account, ...]) -> tuple[dict[str, set[str]], set[str]]:
    """Declared host -> declaring account ids (host level: each host as declared, a
    personal-list one included: a declaration is honoured); and the (account, host)
    pairs whose host nobody can own (an ICANN public suffix)."""
    groups: dict[str, set[str]] = defaultdict(set)
    unownable: set[str] = set()
    for account in accounts:
        for host in account.domains:
            if is_icann_suffix(host):
                unownable.add(f"{account.id} {host}")
                continue
            groups[host].add(account.id)
    return groups, unownable


@cache
def universities_default() -> DomainOwnership:
    return resolve_domain_ownership(university_accounts(), [])


def test_universities_every_declared_domain_is_claimed() -> None:
    accounts = university_accounts()
    result = universities_default()
    groups, unownable = declared_groups(accounts)
    assert groups
    for domain, ids in groups.items():
        assert set(result.claimants(domain)) == ids
    rejected = {
        f"{r.record_id} {r.raw}" for r in result.rejections if r.where == "accounts.domains"
    }
    assert rejected == unownable
    assert len(result.accounts) == len(accounts)


def test_universities_no_declared_domain_is_dropped_silently() -> None:
    """Issue 10: every declared domain has an owner or an explained issue; the ones on
    the free-mail list are honoured and reported; private-section hosts are owned."""
    accounts = university_accounts()
    result = universities_default()
    silent = []
    for account in accounts:
        for host in account.domains:
            if result.owner(host) == account.id:
                continue
            issue = result.issue(host)
            explained = issue is not None and account.id in issue.account_ids
            rejected = any(
                r.record_id == account.id and r.raw == host for r in result.rejections
            )
            if not (explained or rejected):
                silent.append((account.id, host))
    assert silent == []
    # the four declared hosts under free-mail domains (berlin.de, nus.edu.sg, unican.es,
    # vnn.vn): owned as declared, and reported; free mail at berlin.de itself is not
    for host in ("fhvr.berlin.de", "nus.edu.sg", "unican.es", "huflit.vnn.vn"):
        assert PERSONAL.is_personal(host)
        assert result.owner(host) is not None, host
        issue = result.issue(host)
        assert issue is not None
        assert issue.kind in {IssueKind.PERSONAL_DECLARED, IssueKind.CONFLICT}
        assert "personal mail list" in issue.reason
    assert result.owner("berlin.de") is None
    assert result.owner("someone@vnn.vn") is None


def test_universities_sharing_a_domain_conflict_by_default() -> None:
    result = universities_default()
    groups, _ = declared_groups(university_accounts())
    shared = {d for d, ids in groups.items() if len(ids) > 1}
    assert len(shared) == 3, sorted(shared)
    conflicts = {i.domain for i in result.issues if i.kind is IssueKind.CONFLICT}
    assert conflicts == shared
    for domain in shared:
        assert result.status(domain) is DomainStatus.CONFLICT
        issue = result.issue(domain)
        assert issue is not None
        assert issue.account_ids == tuple(sorted(groups[domain]))
    for domain, ids in groups.items():
        if len(ids) == 1:
            assert result.status(domain) is DomainStatus.UNIQUE
            assert result.owner(domain) == next(iter(ids))
    # An institution whose every domain is shared by another is in contact sync.
    sole = {next(iter(ids)) for ids in groups.values() if len(ids) == 1}
    for account_id, account in result.accounts.items():
        assert (account.mode.value == "domain") == (account_id in sole)


@pytest.mark.parametrize("how", ["listed", "all"])
def test_universities_sharing_a_domain_are_shared_when_allowed(how: str) -> None:
    groups, _ = declared_groups(university_accounts())
    shared = {d for d, ids in groups.items() if len(ids) > 1}
    policy = (
        OwnershipPolicy(shared_domains=shared)
        if how == "listed"
        else OwnershipPolicy(allow_all_shared=True)
    )
    result = resolve_domain_ownership(university_accounts(), [], policy)
    assert [i for i in result.issues if i.kind is IssueKind.CONFLICT] == []
    for domain in shared:
        assert result.status(domain) is DomainStatus.SHARED
        assert set(result.claimants(domain)) == groups[domain]
        assert result.hierarchy_owner(domain) is None  # no parent links in this data


def test_universities_contacts_at_their_domains_count_towards_declared_claims() -> None:
    accounts = university_accounts()[:2000]
    contacts = [
        Contact(id=f"{a.id}-{n}", account_id=a.id, email=f"staff{n}@mail.{host}")
        for a in accounts
        for host in sorted(a.domains)
        for n in range(2)
    ]
    result = resolve_domain_ownership(accounts, contacts)
    groups, _ = declared_groups(accounts)
    for claim in result.claims:
        # Each account's contacts are at its own declared hosts, so every claim is
        # DECLARED and counts the contacts at the hosts that fold to that domain.
        assert claim.kind.value == "declared"
        hosts = [
            h for h in result.accounts[claim.account_id].domain_contacts if h[0] == claim.domain
        ]
        assert claim.contacts == (hosts[0][1] if hosts else 0)
    assert set(groups) >= {c.domain for c in result.claims}


def test_universities_order_does_not_matter() -> None:
    accounts = university_accounts()
    assert resolve_domain_ownership(reversed(accounts), []) == universities_default()


# --------------------------------------------------------------------------- bigbang


def _clean(text: str) -> str:
    return " ".join(text.split())


@cache
def bigbang_rows() -> tuple[dict[str, str], ...]:
    path = shared_data("orgs", "bigbang", "organization_categories.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


@cache
def bigbang_accounts() -> tuple[Account, ...]:
    """One account per row. The metadata says column C ("subsidiary of / alias of")
    names the parent company, empty for a top-level one. We link a row to the first row
    (file order) carrying that name; a name that matches no row (or the row itself)
    gives no link."""
    rows = bigbang_rows()
    first_of: dict[str, str] = {}
    for i, row in enumerate(rows):
        first_of.setdefault(_clean(row["name"]), f"bb-{i}")
    accounts = []
    for i, row in enumerate(rows):
        account_id = f"bb-{i}"
        parent = first_of.get(_clean(row["subsidiary of / alias of"]))
        accounts.append(
            Account(
                id=account_id,
                name=_clean(row["name"]) or f"row {i}",
                parent_id=parent if parent != account_id else None,
                domains=[d for d in row["email domain names"].split(",") if d.strip()],
            )
        )
    return tuple(accounts)


def on_a_cycle(parent: dict[str, str]) -> set[str]:
    """Accounts whose parent chain comes back to themselves."""
    found = set()
    for start in parent:
        node, steps = parent.get(start), 0
        while node is not None and node != start and steps <= len(parent):
            node, steps = parent.get(node), steps + 1
        if node == start:
            found.add(start)
    return found


def usable_parents(accounts: tuple[Account, ...]) -> dict[str, str]:
    """Parent links as documented: a link that is part of a cycle is ignored."""
    parent = {a.id: a.parent_id for a in accounts if a.parent_id is not None}
    cyclic = on_a_cycle(parent)
    return {a: p for a, p in parent.items() if a not in cyclic}


def ancestors(account_id: str, parent: dict[str, str]) -> list[str]:
    chain = [account_id]
    while chain[-1] in parent:
        chain.append(parent[chain[-1]])
    return chain


def expected_hierarchy_owner(ids: set[str], parent: dict[str, str]) -> str | None:
    chains = {a: ancestors(a, parent) for a in sorted(ids)}
    common = set.intersection(*(set(c) for c in chains.values()))
    first = chains[min(ids)]
    return next((a for a in first if a in common), None)


@cache
def bigbang_default() -> DomainOwnership:
    return resolve_domain_ownership(bigbang_accounts(), [])


def test_bigbang_parent_links_are_kept_and_cycles_reported() -> None:
    accounts = bigbang_accounts()
    parent = {a.id: a.parent_id for a in accounts if a.parent_id is not None}
    assert parent, "the data links subsidiaries to parents"
    cyclic = on_a_cycle(parent)
    result = bigbang_default()
    reported = {r.record_id for r in result.rejections if r.where == "accounts.parent_id"}
    assert reported == cyclic
    for account_id, parent_id in parent.items():
        expected = None if account_id in cyclic else parent_id
        assert result.account(account_id).parent_id == expected


def test_bigbang_every_declared_domain_is_claimed() -> None:
    groups, unregistrable = declared_groups(bigbang_accounts())
    result = bigbang_default()
    for domain, ids in groups.items():
        assert set(result.claimants(domain)) == ids
    rejected = {
        f"{r.record_id} {r.raw}" for r in result.rejections if r.where == "accounts.domains"
    }
    assert rejected == unregistrable


def test_bigbang_subsidiary_links_give_hierarchy_owners() -> None:
    accounts = bigbang_accounts()
    parent = usable_parents(accounts)
    groups, _ = declared_groups(accounts)
    result = bigbang_default()
    several = {d: ids for d, ids in groups.items() if len(ids) > 1}
    assert several, "the data has domains several organisations use"
    with_owner = 0
    for domain, ids in several.items():
        owner = expected_hierarchy_owner(ids, parent)
        assert result.hierarchy_owner(domain) == owner
        if owner is None:
            assert result.status(domain) is DomainStatus.CONFLICT
            assert result.issue(domain) is not None
        else:
            with_owner += 1
            assert result.status(domain) is DomainStatus.SHARED
            assert result.owner(domain) == owner
            issue = result.issue(domain)
            assert issue is None or issue.kind is not IssueKind.CONFLICT
            assert result.accounts[owner].name in result.explain(domain)
    assert with_owner, "some shared domains sit under one parent company in this data"
    conflicts = [i for i in result.issues if i.kind is IssueKind.CONFLICT]
    assert len(conflicts) == len(several) - with_owner


def test_bigbang_everything_shared_when_allowed() -> None:
    accounts = bigbang_accounts()
    parent = usable_parents(accounts)
    groups, _ = declared_groups(accounts)
    result = resolve_domain_ownership(accounts, [], OwnershipPolicy(allow_all_shared=True))
    assert [i for i in result.issues if i.kind is IssueKind.CONFLICT] == []
    for domain, ids in groups.items():
        if len(ids) > 1:
            assert result.status(domain) is DomainStatus.SHARED
            assert result.hierarchy_owner(domain) == expected_hierarchy_owner(ids, parent)


def test_bigbang_personal_domains_are_never_claimed() -> None:
    """domain_categories.csv labels free-mail domains "generic" / "personal"; contacts at
    the ones our personal list knows never make a claim."""
    path = shared_data("orgs", "bigbang", "domain_categories.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        labelled = [r["domain"].strip() for r in csv.DictReader(handle)]
    known = sorted({d for d in labelled if d and PERSONAL.is_personal(d)})
    assert known
    accounts = bigbang_accounts()
    contacts = [
        Contact(id=f"p-{i}", account_id=accounts[i % len(accounts)].id, email=f"x@{domain}")
        for i, domain in enumerate(known)
    ]
    result = resolve_domain_ownership(accounts, contacts)
    # a host some organisation declares is honoured (and reported); the rest are skipped
    # (when the declared host is at least as specific as the list's entry)
    def listed_as(host: str) -> str:
        return host if host in PERSONAL.free | PERSONAL.disposable else registrable_domain(host)

    honoured = [
        c
        for c in contacts
        if (entry := result.entry(str(c.email))) is not None
        and any(k.kind is ClaimKind.DECLARED for k in entry.claims)
        and entry.domain.count(".") >= listed_as(c.email.domain).count(".")  # type: ignore[union-attr]
    ]
    # (an alumni forwarder among them is skipped as an excluded host)
    skipped = result.skipped[SkipReason.PERSONAL_DOMAIN] + result.skipped.get(
        SkipReason.EXCLUDED_HOST, 0
    )
    assert skipped == len(contacts) - len(honoured)
    for domain in known:
        try:
            folded = registrable_domain(domain)
        except InvalidDomain:
            continue
        # A personal host under a company's domain (a mail service of a big company)
        # skips its contacts; the company's registrable domain itself stays claimable.
        if PERSONAL.is_personal(folded):
            declarers = {a.id for a in accounts if folded in a.domains}
            assert set(result.claimants(folded)) == declarers
    for claim in result.claims:
        if PERSONAL.is_personal(claim.domain):
            assert claim.kind is ClaimKind.DECLARED
            assert result.issue(claim.domain) is not None
