"""Domain ownership: which account owns an email domain, shared domains, sync modes.

Pure: data and a policy in, a `DomainOwnership` out. See docs/ownership.md.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from stakeholder._identity import PersonalDomains, normalize_host

__all__ = [
    "ClaimKind",
    "DomainClaim",
    "DomainStatus",
    "OwnershipPolicy",
    "SyncIssue",
    "SyncMode",
]


class ClaimKind(enum.StrEnum):
    """Why an account claims a domain."""

    DECLARED = "declared"
    DOMINANT = "dominant"
    SECONDARY = "secondary"


class DomainStatus(enum.StrEnum):
    """One claimant (`UNIQUE`), several allowed (`SHARED`), several not allowed (`CONFLICT`)."""

    UNIQUE = "unique"
    SHARED = "shared"
    CONFLICT = "conflict"


class SyncMode(enum.StrEnum):
    """`DOMAIN`: every address at an owned domain counts; `CONTACT`: only known contacts."""

    DOMAIN = "domain"
    CONTACT = "contact"


def _hosts(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = (value,)
    return frozenset(normalize_host(d) for d in value)


def _personal(value: PersonalDomains | None) -> PersonalDomains:
    return PersonalDomains.default() if value is None else value


@attrs.frozen
class OwnershipPolicy:
    """How domains are claimed and when several claimants are allowed.

    - `secondary_min_contacts` (3): contacts an account needs at a non-dominant domain to
      claim it as `SECONDARY`.
    - `shared_domains`: domains allowed on several accounts (status `SHARED`).
    - `allow_all_shared` (False): allow every domain on several accounts.
    - `internal_domains`: our own company's domains; never claimed, their people internal.
    - `personal_domains`: free and disposable mail; never claimed (default:
      `PersonalDomains.default()`).
    """

    secondary_min_contacts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    shared_domains: frozenset[str] = attrs.field(factory=frozenset, converter=_hosts)
    allow_all_shared: bool = False
    internal_domains: frozenset[str] = attrs.field(factory=frozenset, converter=_hosts)
    personal_domains: PersonalDomains = attrs.field(default=None, converter=_personal)


@attrs.frozen(order=True)
class DomainClaim:
    """`account_id` claims `domain` as `kind`, with `contacts` of its contacts there."""

    domain: str
    account_id: str
    kind: ClaimKind
    contacts: int = attrs.field(validator=attrs.validators.ge(0))


@attrs.frozen(order=True)
class SyncIssue:
    """A domain claimed by several accounts without permission to share it."""

    domain: str
    account_ids: tuple[str, ...]
    reason: str
    suggestion: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "account_ids": list(self.account_ids),
            "reason": self.reason,
            "suggestion": self.suggestion,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SyncIssue:
        return cls(
            domain=data["domain"],
            account_ids=tuple(data["account_ids"]),
            reason=data["reason"],
            suggestion=data["suggestion"],
        )
