"""Ownership values: claims, sync issues, claimed domains, one account's side."""

from __future__ import annotations

from typing import Any

import attrs

from stakeholder._display import attrs_repr
from stakeholder._ownership._policy import ClaimKind, DomainStatus, IssueKind, SyncMode


@attrs.frozen(order=True)
class DomainClaim:
    """`account_id` claims `domain` as `kind`, with `contacts` of its contacts there.

    One claim per (account, domain), of the strongest kind: `DECLARED` over `DOMINANT`
    over `SECONDARY`.
    """

    domain: str
    account_id: str
    kind: ClaimKind
    contacts: int = attrs.field(validator=attrs.validators.ge(0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "account_id": self.account_id,
            "kind": self.kind.value,
            "contacts": self.contacts,
        }


@attrs.frozen(order=True)
class SyncIssue:
    """Something about one domain that a person should look at, with a suggested fix.

    `kind` says what: `CONFLICT` (claimed by several accounts without permission to
    share it), `DECLARED_ELSEWHERE` (contacts of an account at a host another account
    declares: not a claim), `PERSONAL_DECLARED` (a declared host that the personal or
    exclusion lists name: honoured), `DOMINANT_TIE` (an account's most frequent contact
    domains tie: no dominant domain) or `TOO_BROAD` (more claimants than
    `OwnershipPolicy.too_broad_claimants`). One issue per domain: findings on one domain
    are merged into one issue of the most serious kind, in that order.
    """

    domain: str
    account_ids: tuple[str, ...]
    reason: str
    suggestion: str
    kind: IssueKind = attrs.field(default=IssueKind.CONFLICT, converter=IssueKind)

    __repr__ = attrs_repr

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "account_ids": list(self.account_ids),
            "reason": self.reason,
            "suggestion": self.suggestion,
            "kind": self.kind.value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SyncIssue:
        return cls(
            domain=data["domain"],
            account_ids=tuple(data["account_ids"]),
            reason=data["reason"],
            suggestion=data["suggestion"],
            kind=data.get("kind", IssueKind.CONFLICT.value),
        )


@attrs.frozen
class ClaimedDomain:
    """Everything known about one claimed registrable domain: the routing look-up entry.

    - `status`: `UNIQUE`, `SHARED` or `CONFLICT`.
    - `claimants`: the claiming account ids, sorted; `claims` the claims themselves.
    - `owner`: the account that unknown addresses at the domain belong to: the single
      claimant of a `UNIQUE` domain, else the `hierarchy_owner`, else `None`.
    - `hierarchy_owner`: for several claimants, their nearest common ancestor account
      (through `Account.parent_id`, the claimant itself included) when it exists.
    - `rule`: which rule set the status: `"single claimant"`, `"shared_domains"`,
      `"allow_all_shared"`, `"hierarchy"` or `"not allowed"`.
    - `issue`: the `SyncIssue` of the domain (a `CONFLICT`'s, or another kind), else
      `None`.
    - `too_broad`: more claimants than `OwnershipPolicy.too_broad_claimants`.
    - `contact_sync`: the account that would own it was switched to contact sync by
      hand (`OwnershipPolicy.contact_sync_accounts`), so `owner` is `None`.
    - `domain_sync`: several accounts claim it and `owner` is the one put in domain
      sync by hand (`OwnershipPolicy.domain_sync_accounts`).
    """

    domain: str
    status: DomainStatus
    claimants: tuple[str, ...]
    claims: tuple[DomainClaim, ...]
    owner: str | None
    hierarchy_owner: str | None
    rule: str
    issue: SyncIssue | None = None
    too_broad: bool = False
    contact_sync: bool = False
    domain_sync: bool = False

    __repr__ = attrs_repr

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "status": self.status.value,
            "claimants": list(self.claimants),
            "claims": [c.to_dict() for c in self.claims],
            "owner": self.owner,
            "hierarchy_owner": self.hierarchy_owner,
            "rule": self.rule,
            "issue": None if self.issue is None else self.issue.to_dict(),
            "too_broad": self.too_broad,
            "contact_sync": self.contact_sync,
            "domain_sync": self.domain_sync,
        }


@attrs.frozen
class AccountOwnership:
    """One account's side of the result.

    - `mode`: `DOMAIN` when it owns at least one `UNIQUE` domain, else `CONTACT`.
    - `parent_id`: its parent as used for the hierarchy (`None` when the link was
      dangling or part of a cycle; see `DomainOwnership.rejections`).
    - `contacts`: its accepted contacts; `counted`: those with a company domain.
    - `domain_contacts`: `(domain, contacts)` pairs, most contacts first.
    - `dominant`: its dominant contact domain, or `None` without counted contacts.
    - `claims`: its claims; `unique_domains`: the `UNIQUE` domains it owns.
    - `skipped`: `(reason, contacts)` pairs for contacts that did not count.
    - `ignored_domains`: `(domain, reason)` for declared domains that cannot be claimed.
    - `manual`: switched to contact sync by hand (`OwnershipPolicy.contact_sync_accounts`).
    """

    account_id: str
    name: str
    parent_id: str | None
    mode: SyncMode
    contacts: int
    counted: int
    domain_contacts: tuple[tuple[str, int], ...]
    dominant: str | None
    claims: tuple[DomainClaim, ...]
    unique_domains: tuple[str, ...]
    skipped: tuple[tuple[str, int], ...]
    ignored_domains: tuple[tuple[str, str], ...]
    manual: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "name": self.name,
            "parent_id": self.parent_id,
            "mode": self.mode.value,
            "contacts": self.contacts,
            "counted": self.counted,
            "domain_contacts": dict(self.domain_contacts),
            "dominant": self.dominant,
            "claims": [c.to_dict() for c in self.claims],
            "unique_domains": list(self.unique_domains),
            "skipped": dict(self.skipped),
            "ignored_domains": dict(self.ignored_domains),
            "manual": self.manual,
        }


