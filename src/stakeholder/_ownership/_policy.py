"""Ownership enums and `OwnershipPolicy`: what may be claimed, and by whom."""

from __future__ import annotations

import enum
import fnmatch
import re
from collections.abc import Iterable
from typing import Any, Final

import attrs

from stakeholder._display import attrs_repr, repr_pretty
from stakeholder._errors import InvalidDomain
from stakeholder._identity import (
    EmailAddress,
    PersonalDomains,
    normalize_host,
    registrable_domain,
)
from stakeholder._ownership._hosts import (
    DEFAULT_FORWARDING_PATTERNS,
    is_icann_suffix,
    subtree_match,
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
    EXCLUDED_HOST = "excluded host"
    EXCLUDED_ADDRESS = "excluded address"


class IssueKind(enum.StrEnum):
    """What a `SyncIssue` reports (one issue per domain; see docs/ownership.md)."""

    CONFLICT = "conflict"
    DECLARED_ELSEWHERE = "declared_elsewhere"
    PERSONAL_DECLARED = "personal_declared"
    DOMINANT_TIE = "dominant_tie"
    TOO_BROAD = "too_broad"




def _host_set(value: Any) -> frozenset[str]:
    """Hosts in canonical form, kept as written (a host stands for itself and its
    subdomains); raises `InvalidDomain` for an IP, an empty host or an ICANN public
    suffix (`co.uk`), which nobody can own."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = (value,)
    hosts = set()
    for raw in value:
        host = normalize_host(raw)
        if is_icann_suffix(host):
            raise InvalidDomain(raw, f"{host!r} is a public suffix; nobody can register it")
        hosts.add(host)
    return frozenset(hosts)


def _address_set(value: Any) -> frozenset[str]:
    """Email addresses in canonical form; raises `InvalidEmail` for a bad one."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = (value,)
    return frozenset(str(EmailAddress.parse(v)) for v in value)


def _ids(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = (value,)
    return frozenset(str(v) for v in value)


def _patterns(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    return tuple(sorted({str(v).strip().lower() for v in value}))


def _personal(value: PersonalDomains | None) -> PersonalDomains:
    return PersonalDomains.default() if value is None else value


def _folded(hosts: frozenset[str]) -> frozenset[str]:
    out = set()
    for host in hosts:
        try:
            out.add(registrable_domain(host))
        except InvalidDomain:
            out.add(host)
    return frozenset(out)


_SHOWN: Final = 10


def _listed(name: str, values: Iterable[str]) -> str:
    items = sorted(values)
    shown = ", ".join(items[:_SHOWN])
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return f"{name}: {shown}{more}"


@attrs.frozen
class OwnershipPolicy:
    """How domains are claimed and when several claimants are allowed.

    - `secondary_min_contacts` (3): contacts an account needs at a non-dominant domain to
      claim it as `SECONDARY`.
    - `shared_domains`: hosts allowed on several accounts (status `SHARED`); an entry
      covers its subdomains.
    - `allow_all_shared` (False): allow every domain on several accounts.
    - `internal_domains`: our own company's hosts; never claimed, their people internal.
      An entry covers its own subtree only (`stat.math.ethz.ch` leaves `ethz.ch` alone).
    - `personal_domains`: free and disposable mail; never claimed from contacts (default:
      `PersonalDomains.default()`); a host an account *declares* is honoured even when
      listed, and reported as an issue.
    - `fold_to_registrable` (False): the old behaviour: declared, shared and internal
      hosts fold to their registrable domain (`gen.pge.com` means `pge.com`).
    - `contact_sync_accounts`: account ids switched to contact sync by hand: only their
      known contacts route to them; their domains stay theirs in ownership reports.
    - `domain_sync_accounts`: the inverse, for hosts several accounts claim: where
      exactly one claimant is listed, unknown addresses there are its (domain sync by
      hand); the status (and a conflict's issue) stays as it is.
    - `excluded_hosts`, `excluded_host_patterns` (default `DEFAULT_FORWARDING_PATTERNS`:
      `alum.*`, `alumni.*`) and `excluded_addresses`: hosts and addresses that are never
      evidence by domain (forwarders, list and bug-tracker relays, role addresses). A
      contact there does not count towards a domain claim; a *known* contact there still
      routes as a contact.
    - `too_broad_claimants` (50): a host claimed by more accounts than this is "too
      broad": it is reported, and routing decides on it in constant time.

    Host entries are canonical host names (IDNA ASCII, lower-case); an entry that is an
    IP or an ICANN public suffix such as `co.uk` raises `InvalidDomain`.
    """

    secondary_min_contacts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    shared_domains: frozenset[str] = attrs.field(factory=frozenset, converter=_host_set)
    allow_all_shared: bool = False
    internal_domains: frozenset[str] = attrs.field(factory=frozenset, converter=_host_set)
    personal_domains: PersonalDomains = attrs.field(default=None, converter=_personal)
    fold_to_registrable: bool = False
    contact_sync_accounts: frozenset[str] = attrs.field(factory=frozenset, converter=_ids)
    domain_sync_accounts: frozenset[str] = attrs.field(factory=frozenset, converter=_ids)
    excluded_hosts: frozenset[str] = attrs.field(factory=frozenset, converter=_host_set)
    excluded_host_patterns: tuple[str, ...] = attrs.field(
        default=DEFAULT_FORWARDING_PATTERNS, converter=_patterns
    )
    excluded_addresses: frozenset[str] = attrs.field(
        factory=frozenset, converter=_address_set
    )
    too_broad_claimants: int = attrs.field(default=50, validator=attrs.validators.ge(1))
    _shared_folded: frozenset[str] = attrs.field(init=False, repr=False, eq=False)
    _internal_folded: frozenset[str] = attrs.field(init=False, repr=False, eq=False)
    _patterns_re: re.Pattern[str] | None = attrs.field(init=False, repr=False, eq=False)

    __repr__ = attrs_repr
    _repr_pretty_ = repr_pretty

    def __attrs_post_init__(self) -> None:
        patterns = self.excluded_host_patterns
        object.__setattr__(
            self,
            "_patterns_re",
            re.compile("|".join(fnmatch.translate(p) for p in patterns)) if patterns else None,
        )
        fold = self.fold_to_registrable
        object.__setattr__(
            self, "_shared_folded", _folded(self.shared_domains) if fold else frozenset()
        )
        object.__setattr__(
            self, "_internal_folded", _folded(self.internal_domains) if fold else frozenset()
        )

    @secondary_min_contacts.validator
    def _check_int(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"secondary_min_contacts must be an int, not {value!r}")

    def is_shared(self, domain: str) -> bool:
        """Whether several accounts may claim `domain` (a claimed host)."""
        if self.allow_all_shared:
            return True
        if self.fold_to_registrable:
            return _fold_or_self(domain) in self._shared_folded
        return subtree_match(domain, self.shared_domains) is not None

    def internal_match(self, host: str) -> str | None:
        """The `internal_domains` entry whose subtree holds `host` (canonical), or None."""
        if not self.internal_domains:
            return None
        if self.fold_to_registrable:
            reg = _fold_or_self(host)
            return reg if reg in self._internal_folded else None
        return subtree_match(host, self.internal_domains)

    def is_internal(self, domain: str) -> bool:
        """Whether `domain` (any host) belongs to our own company."""
        try:
            host = normalize_host(domain)
        except InvalidDomain:
            return False
        return self.internal_match(host) is not None

    @property
    def exclusion_patterns(self) -> re.Pattern[str] | None:
        """`excluded_host_patterns` as one compiled expression (None when empty)."""
        return self._patterns_re

    def exclusion(self, host: str) -> str | None:
        """The `excluded_hosts` entry or `excluded_host_patterns` pattern that makes
        `host` (canonical) never evidence by domain, or None."""
        found = subtree_match(host, self.excluded_hosts)
        if found is not None:
            return found
        if self._patterns_re is None or self._patterns_re.match(host) is None:
            return None  # one regular expression for all patterns: the common case
        return next(p for p in self.excluded_host_patterns if fnmatch.fnmatchcase(host, p))

    def describe(self) -> str:
        """The policy in one line, for explanations (long lists are cut short)."""
        shared = (
            "every domain may be shared (allow_all_shared)"
            if self.allow_all_shared
            else (
                _listed("shared_domains", self.shared_domains)
                if self.shared_domains
                else "no domain may be shared"
            )
        )
        internal = (
            _listed("internal_domains", self.internal_domains)
            if self.internal_domains
            else "no internal domains"
        )
        parts = [f"secondary_min_contacts={self.secondary_min_contacts}", shared, internal]
        if self.fold_to_registrable:
            parts.append("hosts fold to registrable domains (fold_to_registrable)")
        if self.contact_sync_accounts:
            parts.append(_listed("contact_sync_accounts", self.contact_sync_accounts))
        if self.domain_sync_accounts:
            parts.append(_listed("domain_sync_accounts", self.domain_sync_accounts))
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "secondary_min_contacts": self.secondary_min_contacts,
            "shared_domains": sorted(self.shared_domains),
            "allow_all_shared": self.allow_all_shared,
            "internal_domains": sorted(self.internal_domains),
            "personal_domains": len(self.personal_domains),
            "fold_to_registrable": self.fold_to_registrable,
            "contact_sync_accounts": sorted(self.contact_sync_accounts),
            "domain_sync_accounts": sorted(self.domain_sync_accounts),
            "excluded_hosts": sorted(self.excluded_hosts),
            "excluded_host_patterns": list(self.excluded_host_patterns),
            "excluded_addresses": sorted(self.excluded_addresses),
            "too_broad_claimants": self.too_broad_claimants,
        }


def _fold_or_self(host: str) -> str:
    try:
        return registrable_domain(host)
    except InvalidDomain:
        return host
