"""Ownership enums and `OwnershipPolicy`: what may be claimed, and by whom."""

from __future__ import annotations

import enum
from typing import Any

import attrs

from stakeholder._errors import InvalidDomain
from stakeholder._identity import (
    PersonalDomains,
    registrable_domain,
)


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


class SkipReason(enum.StrEnum):
    """Why a contact did not count towards any domain (counted, never an error)."""

    NO_EMAIL = "no email"
    INVALID_EMAIL = "invalid email"
    PERSONAL_DOMAIN = "personal domain"
    INTERNAL_DOMAIN = "internal domain"
    NO_REGISTRABLE_DOMAIN = "no registrable domain"




def _registrable_set(value: Any) -> frozenset[str]:
    """Domains folded to their registrable domain; raises `InvalidDomain` for bad ones."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = (value,)
    return frozenset(registrable_domain(d) for d in value)


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

    `shared_domains` and `internal_domains` are folded to registrable domains
    (`"mail.globex.com"` means `globex.com`); an entry that is not a registrable domain
    (an IP, a bare public suffix such as `co.uk`) raises `InvalidDomain`.
    """

    secondary_min_contacts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    shared_domains: frozenset[str] = attrs.field(factory=frozenset, converter=_registrable_set)
    allow_all_shared: bool = False
    internal_domains: frozenset[str] = attrs.field(
        factory=frozenset, converter=_registrable_set
    )
    personal_domains: PersonalDomains = attrs.field(default=None, converter=_personal)

    @secondary_min_contacts.validator
    def _check_int(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"secondary_min_contacts must be an int, not {value!r}")

    def is_shared(self, domain: str) -> bool:
        """Whether several accounts may claim `domain` (a registrable domain)."""
        return self.allow_all_shared or domain in self.shared_domains

    def is_internal(self, domain: str) -> bool:
        """Whether `domain` (any host) belongs to our own company."""
        try:
            return registrable_domain(domain) in self.internal_domains
        except InvalidDomain:
            return False

    def describe(self) -> str:
        """The policy in one line, for explanations."""
        shared = (
            "every domain may be shared (allow_all_shared)"
            if self.allow_all_shared
            else (
                f"shared_domains: {', '.join(sorted(self.shared_domains))}"
                if self.shared_domains
                else "no domain may be shared"
            )
        )
        internal = (
            f"internal_domains: {', '.join(sorted(self.internal_domains))}"
            if self.internal_domains
            else "no internal domains"
        )
        return f"secondary_min_contacts={self.secondary_min_contacts}; {shared}; {internal}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "secondary_min_contacts": self.secondary_min_contacts,
            "shared_domains": sorted(self.shared_domains),
            "allow_all_shared": self.allow_all_shared,
            "internal_domains": sorted(self.internal_domains),
            "personal_domains": len(self.personal_domains),
        }


