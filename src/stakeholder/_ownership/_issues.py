"""Sync issues: what ownership reports for a person to look at, one per domain.

Texts stay short whatever the input: account lists are cut to `_SHOWN` names plus a
count, so no issue (nor an explanation quoting it) grows with the number of claimants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from stakeholder._ownership._claims import DomainClaim, SyncIssue
from stakeholder._ownership._hierarchy import _Hierarchy
from stakeholder._ownership._policy import ClaimKind, IssueKind, OwnershipPolicy
from stakeholder._ownership._text import _accounts, _contacts

_SHOWN: Final = 10
_SEVERITY: Final = (
    IssueKind.CONFLICT,
    IssueKind.TOO_BROAD,
    IssueKind.DECLARED_ELSEWHERE,
    IssueKind.PERSONAL_DECLARED,
    IssueKind.DOMINANT_TIE,
)


def _some(items: Iterable[str]) -> str:
    """The first `_SHOWN` items joined, and how many more there are."""
    shown = list(items)
    text = ", ".join(shown[:_SHOWN])
    if len(shown) > _SHOWN:
        text += f" and {len(shown) - _SHOWN} more"
    return text


def _conflict_issue(
    domain: str,
    claims: tuple[DomainClaim, ...],
    hierarchy: _Hierarchy,
) -> SyncIssue:
    ids = tuple(c.account_id for c in claims)
    parts = []
    for claim in claims:
        detail = claim.kind.value
        if claim.kind is not ClaimKind.DECLARED or claim.contacts:
            detail += f", {_contacts(claim.contacts)}"
        parts.append(f"{claim.account_id}: {detail}")
    roots = {_root(hierarchy, a) for a in ids}
    shown = "; ".join(parts[:_SHOWN]) + (
        f"; and {len(parts) - _SHOWN} more" if len(parts) > _SHOWN else ""
    )
    reason = (
        f"claimed by {_accounts(len(ids))} ({shown}); sharing {domain} is not "
        f"allowed and the accounts have no common parent account ({len(roots)} separate "
        "hierarchies)"
    )
    suggestion = (
        f"allow sharing it (OwnershipPolicy.shared_domains, --shared-domain {domain}), "
        "give the accounts a common parent account (parent_id), or keep it on one account "
        "(remove it from the others' declared domains or move their contacts)"
    )
    return SyncIssue(domain, ids, reason, suggestion, IssueKind.CONFLICT)


def _root(hierarchy: _Hierarchy, account_id: str) -> str:
    node = account_id
    parent = hierarchy.parent
    while node in parent:
        node = parent[node]
    return node


def _declared_elsewhere(
    domain: str, owners: tuple[str, ...], users: Mapping[str, int]
) -> SyncIssue:
    """Contacts of accounts at a host other accounts declare: no claim, reported."""
    declarers = _some(owners)
    parts = [f"{_contacts(n)} of {a}" for a, n in sorted(users.items())]
    reason = (
        f"{_some(parts)} at {domain}, which {declarers} "
        f"{'declares' if len(owners) == 1 else 'declare'}: a declaration outranks "
        "contacts, so these contacts make no claim on it"
    )
    suggestion = (
        f"if these people work for {declarers}, move the contact records there; if "
        f"{domain} is wrong for {declarers}, remove it from its declared domains"
    )
    ids = tuple(sorted({*owners, *users}))
    return SyncIssue(domain, ids, reason, suggestion, IssueKind.DECLARED_ELSEWHERE)


def _personal_declared(domain: str, owners: tuple[str, ...], why: str) -> SyncIssue:
    """A declared host that a personal or exclusion list names: honoured, reported."""
    reason = (
        f"{domain} is declared by {_some(owners)} and is {why}; the declaration is "
        "honoured, so unknown addresses there route by domain"
    )
    suggestion = (
        f"if {domain} is free mail or a forwarder, remove it from the declared domains; "
        f"if it is the organisation's own, take it off the list "
        f"(PersonalDomains.without({domain!r}))"
    )
    return SyncIssue(domain, owners, reason, suggestion, IssueKind.PERSONAL_DECLARED)


def _dominant_tie(account_id: str, tied: tuple[str, ...], contacts: int) -> SyncIssue:
    """An account's most frequent contact domains tie: no dominant domain."""
    reason = (
        f"{account_id} has {_contacts(contacts)} at each of {_some(tied)}: its most "
        "frequent contact domains tie, so it has no dominant domain (a tie is never "
        "broken by the domains' spelling)"
    )
    suggestion = (
        f"declare {account_id}'s own domain in its domains, or add the missing contacts"
    )
    return SyncIssue(tied[0], (account_id,), reason, suggestion, IssueKind.DOMINANT_TIE)


def _too_broad(
    domain: str, claimants: tuple[str, ...], policy: OwnershipPolicy
) -> SyncIssue:
    n = len(claimants)
    reason = (
        f"{domain} is claimed by {_accounts(n)} (first: {_some(claimants)}), "
        f"more than too_broad_claimants={policy.too_broad_claimants}: too broad to tell "
        "them apart; routing lists a capped set of candidates"
    )
    suggestion = (
        "clean the declared domains of these accounts (junk CRM data), or raise "
        "OwnershipPolicy.too_broad_claimants"
    )
    return SyncIssue(domain, claimants, reason, suggestion, IssueKind.TOO_BROAD)


def _merge_issues(found: list[SyncIssue]) -> SyncIssue:
    """One issue for one domain: the most serious kind, the others' texts appended."""
    if len(found) == 1:
        return found[0]
    ordered = sorted(found, key=lambda i: (_SEVERITY.index(i.kind), i.reason))
    first = ordered[0]
    ids = tuple(sorted({a for i in ordered for a in i.account_ids}))
    reason = "; also: ".join(i.reason for i in ordered)
    suggestion = "; ".join(dict.fromkeys(i.suggestion for i in ordered))
    return SyncIssue(first.domain, ids, reason, suggestion, first.kind)
