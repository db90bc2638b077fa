"""Domain ownership: which account owns an email domain, shared domains, sync modes.

Pure: data and a policy in, a `DomainOwnership` out. See docs/ownership.md for the rules.

In short, every registrable domain (eTLD+1; subdomains fold to it) may be *claimed* by
accounts:

- `DECLARED`: the account lists it in `Account.domains`;
- `DOMINANT`: it is the account's most frequent contact domain (ties: the domain the
  account declares, then the alphabetically first);
- `SECONDARY`: at least `secondary_min_contacts` of the account's contacts use it and no
  other account declares it or has any contact there.

Personal (free or disposable mail) and internal domains are never claimed. A domain with
one claimant is `UNIQUE`; with several it is `SHARED` when the policy allows it or when
every claimant descends from one account present in the data (that nearest common
ancestor is the *hierarchy owner*), else `CONFLICT` with one `SyncIssue`.
"""

from stakeholder._errors import UnknownAccount
from stakeholder._ownership._claims import (
    AccountOwnership,
    ClaimedDomain,
    DomainClaim,
    SyncIssue,
)
from stakeholder._ownership._hosts import DEFAULT_FORWARDING_PATTERNS
from stakeholder._ownership._hosts import (
    _registrable_of_canonical_host as _registrable_of_canonical_host,
)
from stakeholder._ownership._policy import (
    ClaimKind,
    DomainStatus,
    IssueKind,
    OwnershipPolicy,
    SkipReason,
    SyncMode,
)
from stakeholder._ownership._report import DomainOwnership
from stakeholder._ownership._report import fold_domain as fold_domain
from stakeholder._ownership._resolve import resolve_domain_ownership

__all__ = [
    "DEFAULT_FORWARDING_PATTERNS",
    "AccountOwnership",
    "ClaimKind",
    "ClaimedDomain",
    "DomainClaim",
    "DomainOwnership",
    "DomainStatus",
    "IssueKind",
    "OwnershipPolicy",
    "SkipReason",
    "SyncIssue",
    "SyncMode",
    "UnknownAccount",
    "resolve_domain_ownership",
]

