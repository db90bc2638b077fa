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

from __future__ import annotations

import enum
import html
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

import attrs

from stakeholder._errors import InvalidDomain, UnknownAccount
from stakeholder._identity import (
    EmailAddress,
    PersonalDomains,
    _public_suffix_length,
    registrable_domain,
)
from stakeholder._model import Account, Contact, Rejection

__all__ = [
    "AccountOwnership",
    "ClaimKind",
    "ClaimedDomain",
    "DomainClaim",
    "DomainOwnership",
    "DomainStatus",
    "OwnershipPolicy",
    "SkipReason",
    "SyncIssue",
    "SyncMode",
    "UnknownAccount",
    "resolve_domain_ownership",
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


class SkipReason(enum.StrEnum):
    """Why a contact did not count towards any domain (counted, never an error)."""

    NO_EMAIL = "no email"
    INVALID_EMAIL = "invalid email"
    PERSONAL_DOMAIN = "personal domain"
    INTERNAL_DOMAIN = "internal domain"
    NO_REGISTRABLE_DOMAIN = "no registrable domain"


# --------------------------------------------------------------------------- policy


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


# --------------------------------------------------------------------------- results


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
    - `issue`: the `SyncIssue` of a `CONFLICT`, else `None`.
    """

    domain: str
    status: DomainStatus
    claimants: tuple[str, ...]
    claims: tuple[DomainClaim, ...]
    owner: str | None
    hierarchy_owner: str | None
    rule: str
    issue: SyncIssue | None = None

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
        }


_HTML_ROWS: Final = 50


class _ReadOnlyDict(Mapping[str, Any]):
    """A read-only view of a dict that, unlike `types.MappingProxyType`, pickles."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _ReadOnlyDict):
            return self._data == other._data
        return self._data == other if isinstance(other, dict) else Mapping.__eq__(self, other)

    def __hash__(self) -> int:
        raise TypeError("unhashable type: a read-only dict")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def __reduce__(self) -> tuple[type[_ReadOnlyDict], tuple[dict[str, Any]]]:
        return (type(self), (self._data,))


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(value, _ReadOnlyDict):
        return value
    return _ReadOnlyDict(dict(value))


def _account_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return value if isinstance(value, _AccountTable) else _frozen_mapping(value)


def fold_domain(value: str) -> str:
    """The registrable domain of a host, a URL-less domain or an email address.

    `"Jane@Mail.Globex.com"`, `"mail.globex.com"` and `"globex.com."` all give
    `"globex.com"`. Raises `InvalidEmail` or `InvalidDomain` (both `StakeholderError`).
    """
    if not isinstance(value, str):
        raise InvalidDomain(value, f"expected a string, got {type(value).__name__}")
    if "@" in value:
        return EmailAddress.parse(value).registrable_domain
    return registrable_domain(value)


@attrs.frozen(repr=False)
class DomainOwnership:
    """The result of `resolve_domain_ownership`.

    Look-ups fold what they are given (`owner("jane@eu.globex.com")` asks about
    `globex.com`). For fast routing, `domains` maps each claimed registrable domain to
    its `ClaimedDomain` (status, claimants, owner, hierarchy owner) and `accounts` maps
    each account id to its `AccountOwnership` (built on first access).

    Also kept, read-only: `skipped` (contacts per `SkipReason` value), `domain_usage`
    (registrable domain -> {account id: counted contacts}, for every domain a counted
    contact uses, claimed or not; `usage()` gives it sorted), `personal_usage` and
    `internal_usage` (skipped contacts per personal / internal domain), and
    `rejected_account_ids` (ids set aside as conflicting duplicates).
    """

    policy: OwnershipPolicy
    domains: Mapping[str, ClaimedDomain] = attrs.field(converter=_frozen_mapping)
    accounts: Mapping[str, AccountOwnership] = attrs.field(converter=_account_mapping)
    claims: tuple[DomainClaim, ...]
    issues: tuple[SyncIssue, ...]
    rejections: tuple[Rejection, ...]
    skipped: Mapping[str, int] = attrs.field(converter=_frozen_mapping)
    domain_usage: Mapping[str, Mapping[str, int]] = attrs.field(converter=_frozen_mapping)
    personal_usage: Mapping[str, int] = attrs.field(converter=_frozen_mapping)
    internal_usage: Mapping[str, int] = attrs.field(converter=_frozen_mapping)
    rejected_account_ids: frozenset[str] = frozenset()

    # ----------------------------------------------------------------- look-ups

    def entry(self, domain: str) -> ClaimedDomain | None:
        """The `ClaimedDomain` for `domain` (folded), or `None` when nobody claims it."""
        return self.domains.get(fold_domain(domain))

    def owner(self, domain: str) -> str | None:
        """The account unknown addresses at `domain` belong to, or `None`.

        The single claimant of a `UNIQUE` domain, else the hierarchy owner of a shared
        or conflicting one, else `None` (unclaimed, or several claimants with no common
        ancestor: see `claimants`).
        """
        found = self.entry(domain)
        return None if found is None else found.owner

    def claimants(self, domain: str) -> tuple[str, ...]:
        """The account ids that claim `domain` (folded), sorted; empty when none."""
        found = self.entry(domain)
        return () if found is None else found.claimants

    def status(self, domain: str) -> DomainStatus | None:
        """`UNIQUE`, `SHARED` or `CONFLICT`; `None` for a domain nobody claims."""
        found = self.entry(domain)
        return None if found is None else found.status

    def hierarchy_owner(self, domain: str) -> str | None:
        """The nearest common ancestor of several claimants of `domain`, or `None`."""
        found = self.entry(domain)
        return None if found is None else found.hierarchy_owner

    def issue(self, domain: str) -> SyncIssue | None:
        """The `SyncIssue` of a conflicting `domain`, or `None`."""
        found = self.entry(domain)
        return None if found is None else found.issue

    def usage(self, domain: str) -> tuple[tuple[str, int], ...]:
        """`(account_id, contacts)` for every account with counted contacts at `domain`
        (folded), most contacts first, claimed or not."""
        return _by_count(self.domain_usage.get(fold_domain(domain), {}))

    def _account(self, account_id: str) -> AccountOwnership:
        found = self.accounts.get(account_id)
        if found is not None:
            return found
        if account_id in self.rejected_account_ids:
            raise UnknownAccount(account_id, "it was set aside (see rejections)")
        raise UnknownAccount(account_id, "not among the accounts given")

    def mode(self, account_id: str) -> SyncMode:
        """`DOMAIN` if the account owns at least one `UNIQUE` domain, else `CONTACT`.

        Raises `UnknownAccount` for an id that was not given or was set aside.
        """
        return self._account(account_id).mode

    def mode_for(self, account_id: str, domain: str) -> SyncMode:
        """Whether unknown addresses at `domain` come to `account_id` (`DOMAIN`: it is the
        domain's `owner`, as sole claimant or hierarchy owner) or only its known contacts
        count there (`CONTACT`)."""
        self._account(account_id)
        return SyncMode.DOMAIN if self.owner(domain) == account_id else SyncMode.CONTACT

    def account(self, account_id: str) -> AccountOwnership:
        """The `AccountOwnership` of `account_id`; raises `UnknownAccount`."""
        return self._account(account_id)

    # ----------------------------------------------------------------- explanations

    def explain(self, domain: str) -> str:
        """Why `domain` belongs where it does, in plain language: the claimants and their
        claims with contact counts, the rule that set the status, and the policy."""
        raw = domain
        folded = fold_domain(domain)
        lines: list[str] = []
        head = folded if folded == raw else f"{folded} (from {raw!r})"
        found = self.domains.get(folded)
        policy = self.policy
        if policy.personal_domains.is_personal(folded):
            count = self.personal_usage.get(folded, 0)
            lines.append(
                f"{head} is a personal mail domain (free or disposable mail) under the "
                f"policy's personal_domains, so no account ever claims it; "
                f"{_were(count)} skipped (not counted towards any account's domains)."
            )
            return "\n".join(lines)
        if folded in policy.internal_domains:
            count = self.internal_usage.get(folded, 0)
            lines.append(
                f"{head} is one of our internal_domains, so no account ever claims it; "
                f"{_were(count)} skipped (internal people)."
            )
            return "\n".join(lines)
        usage = self.usage(folded)
        if found is None:
            lines.append(f"{head} is not claimed by any account.")
            if not usage:
                lines.append("No account declares it and no contact has an address there.")
            else:
                lines.append(
                    f"{_accounts(len(usage))} {'has' if len(usage) == 1 else 'have'} "
                    "contacts there: "
                    + ", ".join(f"{self._label(a)} ({_contacts(n)})" for a, n in usage)
                    + "."
                )
                lines.extend(self._why_not_claimed(folded, usage))
            lines.append(
                "Addresses there count only as known contacts (contact sync). "
                f"Policy: {policy.describe()}."
            )
            return "\n".join(lines)
        lines.append(
            f"{head}: {found.status.value.upper()}, claimed by "
            f"{_accounts(len(found.claimants))}."
        )
        lines.extend(
            f"- {self._label(c.account_id)}: {self._claim_text(c)}" for c in found.claims
        )
        others = [(a, n) for a, n in usage if a not in found.claimants]
        if others:
            lines.append(
                "Also used, without a claim, by "
                + ", ".join(f"{self._label(a)} ({_contacts(n)})" for a, n in others)
                + "."
            )
        lines.append(f"Rule: {self._rule_text(found)}")
        if found.issue is not None:
            lines.append(f"Sync issue: {found.issue.reason}")
            lines.append(f"Suggested fix: {found.issue.suggestion}")
        lines.append(f"Policy: {policy.describe()}.")
        return "\n".join(lines)

    def explain_account(self, account_id: str) -> str:
        """One account's ownership in plain language: its mode and why, its contacts
        (counted and skipped, with reasons), its claims and the domains it did not
        claim. Raises `UnknownAccount`."""
        acc = self._account(account_id)
        lines: list[str] = []
        unique = acc.unique_domains
        if acc.mode is SyncMode.DOMAIN:
            lines.append(
                f"{self._label(account_id)} is in domain sync: it owns "
                f"{_count(len(unique), 'unique domain')} ({', '.join(unique)})."
            )
        else:
            lines.append(
                f"{self._label(account_id)} is in contact sync: it owns no unique domain, "
                "so only its known contacts count."
            )
        owned = sorted(d for d, e in self.domains.items() if e.hierarchy_owner == account_id)
        if owned:
            lines.append(
                f"It is the hierarchy owner of {', '.join(owned)}: addresses there that are "
                "not known contacts come to it (domain sync for those domains)."
            )
        skipped = ", ".join(f"{n} {reason}" for reason, n in acc.skipped)
        lines.append(
            f"Contacts: {acc.contacts} accepted, {acc.counted} counted at company domains"
            + (f", {acc.contacts - acc.counted} skipped ({skipped})." if skipped else ".")
        )
        if acc.dominant is not None:
            top = dict(acc.domain_contacts)[acc.dominant]
            lines.append(
                f"Dominant contact domain: {acc.dominant} ({_contacts(top)} of {acc.counted})."
            )
        if acc.parent_id is not None:
            lines.append(f"Parent account: {self._label(acc.parent_id)}.")
        if acc.claims:
            lines.append("Claims:")
            for claim in acc.claims:
                entry = self.domains[claim.domain]
                state = entry.status.value
                if entry.status is not DomainStatus.UNIQUE:
                    with_ = [a for a in entry.claimants if a != account_id]
                    state += " with " + ", ".join(with_)
                    if entry.hierarchy_owner is not None:
                        state += f"; hierarchy owner {entry.hierarchy_owner}"
                lines.append(f"- {claim.domain}: {self._claim_text(claim)}; {state}")
        else:
            lines.append("Claims: none.")
        claimed = {c.domain for c in acc.claims}
        unclaimed = [(d, n) for d, n in acc.domain_contacts if d not in claimed]
        if unclaimed:
            lines.append("Contact domains not claimed:")
            lines.extend(
                f"- {d}: {_contacts(n)}; {self._unclaimed_reason(account_id, d, n)}"
                for d, n in unclaimed
            )
        if acc.ignored_domains:
            lines.append("Declared domains that cannot be claimed:")
            lines.extend(f"- {d}: {why}" for d, why in acc.ignored_domains)
        lines.append(f"Policy: {self.policy.describe()}.")
        return "\n".join(lines)

    def _label(self, account_id: str) -> str:
        acc = self.accounts.get(account_id)
        return account_id if acc is None else f"{account_id} ({acc.name!r})"

    def _claim_text(self, claim: DomainClaim) -> str:
        acc = self.accounts[claim.account_id]
        if claim.kind is ClaimKind.DECLARED:
            text = "declared in its domains"
            if acc.dominant == claim.domain:
                text += " and its dominant contact domain"
            return f"{text} ({_contacts(claim.contacts)} there)"
        if claim.kind is ClaimKind.DOMINANT:
            return (
                f"dominant: its most frequent contact domain "
                f"({_contacts(claim.contacts)} of {acc.counted})"
            )
        return (
            f"secondary: {_contacts(claim.contacts)} there (at least "
            f"secondary_min_contacts={self.policy.secondary_min_contacts}) and no other "
            "account uses it"
        )

    def _rule_text(self, found: ClaimedDomain) -> str:
        if found.rule == "single claimant":
            return (
                f"one account claims it, so it is unique: {found.owner} owns every "
                "address there (domain sync)."
            )
        if found.hierarchy_owner is not None:
            tail = (
                f" The claimants all descend from {self._label(found.hierarchy_owner)}, "
                "their nearest common ancestor in the data, which owns the addresses there "
                "that are not known contacts (hierarchy owner)."
            )
        else:
            tail = (
                " They have no common ancestor account, so addresses there that are not "
                "known contacts may belong to any of them."
            )
        if found.rule == "allow_all_shared":
            return (
                "several accounts claim it and the policy lets every domain be shared "
                "(allow_all_shared), so it is shared." + tail
            )
        if found.rule == "shared_domains":
            return (
                "several accounts claim it and it is listed in the policy's "
                "shared_domains, so it is shared." + tail
            )
        if found.rule == "hierarchy":
            return (
                "several accounts claim it and the policy does not list it as shared, "
                "but they belong to one hierarchy, so it is shared and no sync issue is "
                "raised." + tail
            )
        return (
            "several accounts claim it, the policy does not allow sharing it and they have "
            "no common ancestor account in the data: a conflict. Each claimant falls back "
            "to contact sync for it."
        )

    def _why_not_claimed(self, domain: str, usage: tuple[tuple[str, int], ...]) -> list[str]:
        return [
            f"- {self._label(a)}: {self._unclaimed_reason(a, domain, n)}." for a, n in usage
        ]

    def _unclaimed_reason(self, account_id: str, domain: str, contacts: int) -> str:
        need = self.policy.secondary_min_contacts
        users = [a for a in sorted(self.domain_usage.get(domain, ())) if a != account_id]
        if contacts < need:
            return (
                f"not its dominant domain and fewer than secondary_min_contacts={need} "
                "contacts, so no secondary claim"
            )
        found = self.domains.get(domain)
        if found is not None:
            return (
                "not its dominant domain, and a secondary claim needs a domain no other "
                f"account claims ({', '.join(found.claimants)} claim it)"
            )
        return (
            "not its dominant domain, and a secondary claim needs a domain no other "
            f"account uses ({', '.join(users)} also have contacts there)"
        )

    # ----------------------------------------------------------------- export

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per claim, sorted by domain then account: `domain`,
        `account_id`, `account_name`, `kind`, `contacts`, `status`, `claimants` (how
        many), `owner`, `hierarchy_owner`, `mode` (of this account for this domain) and
        `sync_issue` (bool). Ready for `pandas.DataFrame(...)`."""
        rows: list[dict[str, Any]] = []
        for claim in self.claims:
            entry = self.domains[claim.domain]
            rows.append(
                {
                    "domain": claim.domain,
                    "account_id": claim.account_id,
                    "account_name": self.accounts[claim.account_id].name,
                    "kind": claim.kind.value,
                    "contacts": claim.contacts,
                    "status": entry.status.value,
                    "claimants": len(entry.claimants),
                    "owner": entry.owner,
                    "hierarchy_owner": entry.hierarchy_owner,
                    "mode": (
                        SyncMode.DOMAIN if entry.owner == claim.account_id else SyncMode.CONTACT
                    ).value,
                    "sync_issue": entry.issue is not None,
                }
            )
        return rows

    def account_records(self) -> list[dict[str, Any]]:
        """One plain dict per account, sorted by id: `account_id`, `name`, `parent_id`,
        `mode`, `unique_domains` (list), `claims`, `contacts`, `counted`, `skipped`
        and `dominant`."""
        return [
            {
                "account_id": a.account_id,
                "name": a.name,
                "parent_id": a.parent_id,
                "mode": a.mode.value,
                "unique_domains": list(a.unique_domains),
                "claims": len(a.claims),
                "contacts": a.contacts,
                "counted": a.counted,
                "skipped": a.contacts - a.counted,
                "dominant": a.dominant,
            }
            for a in self.accounts.values()
        ]

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain data (JSON-ready)."""
        return {
            "policy": self.policy.to_dict(),
            "summary": self.summary(),
            "domains": [d.to_dict() for d in self.domains.values()],
            "issues": [i.to_dict() for i in self.issues],
            "accounts": [a.to_dict() for a in self.accounts.values()],
            "rejections": [r.to_dict() for r in self.rejections],
            "skipped": dict(self.skipped),
        }

    def summary(self) -> dict[str, int]:
        """Counts: accounts, domains per status, claims, issues, rejections, skips."""
        statuses = dict.fromkeys(DomainStatus, 0)
        for entry in self.domains.values():
            statuses[entry.status] += 1
        return {
            "accounts": len(self.accounts),
            "domain_sync_accounts": len(
                {e.owner for e in self.domains.values() if e.status is DomainStatus.UNIQUE}
            ),
            "domains": len(self.domains),
            "unique": statuses[DomainStatus.UNIQUE],
            "shared": statuses[DomainStatus.SHARED],
            "conflict": statuses[DomainStatus.CONFLICT],
            "claims": len(self.claims),
            "issues": len(self.issues),
            "rejections": len(self.rejections),
            "skipped_contacts": sum(self.skipped.values()),
        }

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"<DomainOwnership {s['accounts']} accounts, {s['domains']} domains "
            f"({s['unique']} unique, {s['shared']} shared, {s['conflict']} conflict), "
            f"{s['issues']} sync issues, {s['rejections']} rejections>"
        )

    def _repr_html_(self) -> str:
        e = html.escape
        s = self.summary()
        parts = [
            "<div class='stakeholder-ownership'>",
            f"<p><b>Domain ownership</b>: {s['accounts']} accounts "
            f"({s['domain_sync_accounts']} in domain sync), {s['domains']} claimed domains "
            f"({s['unique']} unique, {s['shared']} shared, {s['conflict']} conflict), "
            f"{s['issues']} sync issues, {s['rejections']} rejections, "
            f"{s['skipped_contacts']} skipped contacts.</p>",
        ]
        # Conflicts first, then shared, then unique domains: what needs attention on top.
        ordered = itertools.chain.from_iterable(
            (d for d in self.domains.values() if d.status is status)
            for status in (DomainStatus.CONFLICT, DomainStatus.SHARED, DomainStatus.UNIQUE)
        )
        parts.append(
            _html_table(
                ("domain", "status", "claimants", "owner", "hierarchy owner"),
                (
                    (
                        d.domain,
                        d.status.value,
                        ", ".join(f"{c.account_id} ({c.kind.value})" for c in d.claims),
                        d.owner or "",
                        d.hierarchy_owner or "",
                    )
                    for d in ordered
                ),
                len(self.domains),
            )
        )
        if self.issues:
            parts.append("<p><b>Sync issues</b></p>")
            parts.append(
                _html_table(
                    ("domain", "accounts", "reason", "suggested fix"),
                    (
                        (i.domain, ", ".join(i.account_ids), i.reason, i.suggestion)
                        for i in self.issues
                    ),
                    len(self.issues),
                )
            )
        parts.append(f"<p><small>Policy: {e(self.policy.describe())}</small></p></div>")
        return "".join(parts)


def _html_table(headers: tuple[str, ...], rows: Iterable[tuple[str, ...]], total: int) -> str:
    """An escaped HTML table of the first `_HTML_ROWS` rows, and how many are not shown."""
    e = html.escape
    out = ["<table><thead><tr>"]
    out.extend(f"<th>{e(h)}</th>" for h in headers)
    out.append("</tr></thead><tbody>")
    out.extend(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
        for row in itertools.islice(rows, _HTML_ROWS)
    )
    out.append("</tbody></table>")
    if total > _HTML_ROWS:
        out.append(f"<p><small>{total - _HTML_ROWS} more rows not shown.</small></p>")
    return "".join(out)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _contacts(n: int) -> str:
    return _count(n, "contact")


def _were(n: int) -> str:
    return f"{_contacts(n)} there " + ("was" if n == 1 else "were")


def _accounts(n: int) -> str:
    return _count(n, "account")


# --------------------------------------------------------------------------- resolve


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_EMAIL_HOST: Final = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


def _registrable_of_canonical_host(host: str) -> str:
    """`registrable_domain(host)` for a canonical host: the domain of a parsed
    `EmailAddress` or one of `Account.domains`.

    Those are canonical already (lower-case IDNA ASCII, checked when built), so a host
    of plain LDH labels goes straight to the Public Suffix List look-up, skipping the
    re-normalisation `registrable_domain` does for arbitrary input (a differential test
    keeps the two in agreement). Anything else takes the general path.
    """
    if len(host) > 253 or _EMAIL_HOST.fullmatch(host) is None:
        return registrable_domain(host)
    labels = host.split(".")
    suffix = _public_suffix_length(labels)
    if suffix >= len(labels):
        return registrable_domain(host)  # raises InvalidDomain with the usual reason
    return ".".join(labels[-(suffix + 1) :])


def _personal_test(personal: PersonalDomains) -> Callable[[str, str], bool]:
    """`(host, registrable) -> bool`: whether addresses at `host` are personal mail.

    Same answer as `personal.is_personal(host)`, from the two sets directly when
    `personal` is a plain `PersonalDomains` (a subclass keeps its own method).
    """
    if type(personal) is not PersonalDomains:
        return lambda host, _reg: personal.is_personal(host)
    sets = (personal.free, personal.disposable)

    def test(host: str, reg: str) -> bool:
        return any(host in s or reg in s for s in sets)

    return test


class _Hierarchy:
    """Parent links cleaned of dangling ids and cycles, with depths for ancestor walks."""

    def __init__(
        self,
        accounts: Mapping[str, Account],
        rejected_ids: frozenset[str],
        rejections: list[Rejection],
    ) -> None:
        parent: dict[str, str] = {}
        for account_id, account in accounts.items():
            pid = account.parent_id
            if pid is None:
                continue
            if pid not in accounts:
                why = (
                    "the parent account was set aside (see its rejection)"
                    if pid in rejected_ids
                    else "no account has that id"
                )
                rejections.append(
                    Rejection.of(
                        "accounts.parent_id",
                        f"parent_id {_shown(pid)} is ignored: {why}",
                        pid,
                        account_id,
                    )
                )
                continue
            parent[account_id] = pid
        # Cycles: walk each chain once; a chain that meets itself is a cycle, and every
        # link of every cycle is dropped (the same set whatever the walking order).
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        in_cycle: list[list[str]] = []
        for start in sorted(parent):
            path: list[str] = []
            node: str | None = start
            while node is not None and state.get(node) is None:
                state[node] = 1
                path.append(node)
                node = parent.get(node)
            if node is not None and state.get(node) == 1:
                in_cycle.append(path[path.index(node) :])
            for member in path:
                state[member] = 2
        for cycle in in_cycle:
            first = cycle.index(min(cycle))
            ordered = cycle[first:] + cycle[:first]
            loop = " -> ".join(_shown(a) for a in [*ordered, ordered[0]])
            rejections.extend(
                Rejection.of(
                    "accounts.parent_id",
                    f"parent_id {_shown(parent[member])} is ignored: it is part of "
                    f"the cycle {loop}",
                    parent[member],
                    member,
                )
                for member in ordered
            )
            for member in ordered:
                del parent[member]
        self.parent = parent
        self._depth: dict[str, int] = {}

    def depth(self, account_id: str) -> int:
        depth = self._depth
        path: list[str] = []
        node: str | None = account_id
        while node is not None and node not in depth:
            path.append(node)
            node = self.parent.get(node)
        base = -1 if node is None else depth[node]
        for member in reversed(path):
            base += 1
            depth[member] = base
        return depth[account_id]

    def common_ancestor(self, account_ids: Iterable[str]) -> str | None:
        """The nearest account that is (or is an ancestor of) every one given."""
        found: str | None = None
        for account_id in account_ids:
            if found is None:
                found = account_id
                continue
            a, b = found, account_id
            da, db = self.depth(a), self.depth(b)
            while da > db:
                a, da = self.parent[a], da - 1
            while db > da:
                b, db = self.parent[b], db - 1
            while a != b:
                pa, pb = self.parent.get(a), self.parent.get(b)
                if pa is None or pb is None:
                    return None
                a, b = pa, pb
            found = a
        return found


def _dedupe(
    items: Iterable[Any], kind: type[Any], where: str
) -> tuple[dict[str, Any], frozenset[str], list[Rejection]]:
    """Items by id. Exact repeats are kept once (each extra copy is a rejection); an id
    carried by different records is set aside entirely, since keeping one would depend
    on input order."""
    by_id: dict[str, Any] = {}
    extra: dict[str, list[Any]] = {}
    rejections: list[Rejection] = []
    name = kind.__name__
    for item in items:
        if not isinstance(item, kind):
            rejections.append(
                Rejection.of(where, f"not {_article(name)} (got {type(item).__name__})", item)
            )
            continue
        item_id = item.id
        if item_id in by_id:
            extra.setdefault(item_id, []).append(item)
        else:
            by_id[item_id] = item
    conflicting: set[str] = set()
    for item_id, copies in extra.items():
        first = by_id[item_id]
        if all(copy == first for copy in copies):
            reason = f"exact duplicate of another {name} with id {_shown(item_id)}; counted once"
            rejections.extend(Rejection.of(where, reason, item_id, item_id) for _ in copies)
            continue
        conflicting.add(item_id)
        del by_id[item_id]
        total = len(copies) + 1
        reason = (
            f"{total} {name} records share the id {_shown(item_id)} and differ; all are "
            "set aside (which one is right is unknown)"
        )
        rejections.extend(Rejection.of(where, reason, item_id, item_id) for _ in range(total))
    return by_id, frozenset(conflicting), rejections


def _article(name: str) -> str:
    return ("an " if name[:1] in "AEIOU" else "a ") + name


class _ContactCounter:
    """Counts each account's contacts per registrable domain, and skipped ones by reason.

    `count()` is the hot loop (one pass, ids checked on the way); `finish()` settles
    repeated ids order-independently, undoing the first copy of an id whose copies
    differ, and turns what is left into rejections.
    """

    def __init__(self, account_ids: Iterable[str], policy: OwnershipPolicy) -> None:
        self.per_account: dict[str, dict[str, int]] = {aid: {} for aid in account_ids}
        self.skipped: dict[str, int] = {}
        self.skipped_by_account: dict[str, dict[str, int]] = {}
        self.personal_usage: dict[str, int] = {}
        self.internal_usage: dict[str, int] = {}
        self.good: dict[str, str] = {}  # host -> registrable domain
        self.skip_of: dict[str, tuple[str, str]] = {}  # host -> (reason, usage key)
        self.internal = policy.internal_domains
        self.personal = policy.personal_domains
        self.is_personal = _personal_test(policy.personal_domains)
        self.by_id: dict[str, Contact] = {}
        self.extra: dict[str, list[Contact]] = {}
        self.orphans: list[Contact] = []
        self.not_contacts: list[object] = []

    def fold(self, host: str) -> str | None:
        """The registrable domain of an email host, or None (the reason in `skip_of`)."""
        try:
            reg = _registrable_of_canonical_host(host)
        except InvalidDomain:
            # Some mail providers sit on a public suffix (dyndns.org): still personal.
            reason = (
                SkipReason.PERSONAL_DOMAIN
                if self.personal.is_personal(host)
                else SkipReason.NO_REGISTRABLE_DOMAIN
            )
            self.skip_of[host] = (reason.value, host)
            return None
        if reg in self.internal:
            self.skip_of[host] = (SkipReason.INTERNAL_DOMAIN.value, reg)
            return None
        if self.is_personal(host, reg):
            self.skip_of[host] = (SkipReason.PERSONAL_DOMAIN.value, reg)
            return None
        self.good[host] = reg
        return reg

    def skip(self, account_id: str, reason: str, key: str, step: int = 1) -> None:
        _bump(self.skipped, reason, step)
        mine = self.skipped_by_account.get(account_id)
        if mine is None:
            mine = self.skipped_by_account[account_id] = {}
        _bump(mine, reason, step)
        if not mine:
            del self.skipped_by_account[account_id]
        if reason == _PERSONAL:
            _bump(self.personal_usage, key, step)
        elif reason == _INTERNAL:
            _bump(self.internal_usage, key, step)

    def count(self, contacts: Iterable[object]) -> None:
        by_id = self.by_id
        extra = self.extra
        accounts_get = self.per_account.get
        good_get = self.good.get
        skip_of_get = self.skip_of.get
        email_type = EmailAddress
        contact_type = Contact
        skip = self.skip
        for contact in contacts:
            if not isinstance(contact, contact_type):
                self.not_contacts.append(contact)
                continue
            contact_id = contact.id
            if contact_id in by_id:
                copies = extra.get(contact_id)
                if copies is None:
                    extra[contact_id] = [contact]
                else:
                    copies.append(contact)
                continue
            by_id[contact_id] = contact
            counts = accounts_get(contact.account_id)
            if counts is None:
                self.orphans.append(contact)
                continue
            email = contact.email
            if isinstance(email, email_type):
                host = email.domain
                reg = good_get(host)
                if reg is None:
                    skipped_as = skip_of_get(host)
                    if skipped_as is None:
                        reg = self.fold(host)
                    if reg is None:
                        reason, key = self.skip_of[host]
                        skip(contact.account_id, reason, key)
                        continue
                counts[reg] = counts.get(reg, 0) + 1
            elif email is None:
                skip(contact.account_id, _NO_EMAIL, "")
            else:
                skip(contact.account_id, _INVALID_EMAIL, "")

    def uncount(self, contact: Contact) -> None:
        """Undo `count` for one contact (that was counted, not an orphan)."""
        account_id = contact.account_id
        email = contact.email
        if isinstance(email, EmailAddress):
            reg = self.good.get(email.domain)
            if reg is not None:
                _bump(self.per_account[account_id], reg, -1)
            else:
                reason, key = self.skip_of[email.domain]
                self.skip(account_id, reason, key, -1)
        elif email is None:
            self.skip(account_id, _NO_EMAIL, "", -1)
        else:
            self.skip(account_id, _INVALID_EMAIL, "", -1)

    def finish(self, rejected_accounts: frozenset[str]) -> list[Rejection]:
        rejections = [
            Rejection.of(
                "contacts", f"not a Contact (got {type(item).__name__})", item
            )
            for item in self.not_contacts
        ]
        set_aside: set[str] = set()
        for contact_id, copies in self.extra.items():
            first = self.by_id[contact_id]
            if all(copy == first for copy in copies):
                reason = (
                    f"exact duplicate of another Contact with id {_shown(contact_id)}; "
                    "counted once"
                )
                rejections.extend(
                    Rejection.of("contacts", reason, contact_id, contact_id) for _ in copies
                )
                continue
            set_aside.add(contact_id)
            if first.account_id in self.per_account:
                self.uncount(first)
            total = len(copies) + 1
            reason = (
                f"{total} Contact records share the id {_shown(contact_id)} and differ; all "
                "are set aside (which one is right is unknown)"
            )
            rejections.extend(
                Rejection.of("contacts", reason, contact_id, contact_id) for _ in range(total)
            )
        for contact in self.orphans:
            if contact.id in set_aside:
                continue
            account_id = contact.account_id
            why = (
                "was set aside (see its rejection)"
                if account_id in rejected_accounts
                else "is not among the accounts"
            )
            rejections.append(
                Rejection.of(
                    "contacts", f"its account {_shown(account_id)} {why}", account_id, contact.id
                )
            )
        return rejections


_NO_EMAIL: Final = SkipReason.NO_EMAIL.value
_INVALID_EMAIL: Final = SkipReason.INVALID_EMAIL.value
_PERSONAL: Final = SkipReason.PERSONAL_DOMAIN.value
_INTERNAL: Final = SkipReason.INTERNAL_DOMAIN.value


def _bump(counter: dict[str, int], key: str, step: int) -> None:
    n = counter.get(key, 0) + step
    if n:
        counter[key] = n
    else:
        del counter[key]


@attrs.frozen(eq=False, repr=False)
class _AccountTable(Mapping[str, AccountOwnership]):
    """The per-account results, each built on first access and kept: callers that look
    at a few accounts (routing, `mode()`) do not pay for all of them. Iterates in id
    order; compares equal to any mapping with the same items."""

    accounts: Mapping[str, Account]
    per_account: Mapping[str, Mapping[str, int]]
    skipped_by_account: Mapping[str, Mapping[str, int]]
    dominant: Mapping[str, str]
    declared: Mapping[str, tuple[str, ...]]
    ignored: Mapping[str, list[tuple[str, str]]]
    domains: Mapping[str, ClaimedDomain]
    parent: Mapping[str, str]
    _built: dict[str, AccountOwnership] = attrs.field(factory=dict)
    _order: list[str] = attrs.field(factory=list)

    def __getitem__(self, account_id: str) -> AccountOwnership:
        found = self._built.get(account_id)
        if found is None:
            found = self._build(account_id)  # raises KeyError for an unknown id
            self._built[account_id] = found
        return found

    def __contains__(self, account_id: object) -> bool:
        return account_id in self.accounts

    def __iter__(self) -> Iterator[str]:
        if len(self._order) != len(self.accounts):
            self._order[:] = sorted(self.accounts)
        return iter(self._order)

    def __len__(self) -> int:
        return len(self.accounts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return len(self) == len(other) and all(
            key in other and self[key] == other[key] for key in self
        )

    def __hash__(self) -> int:
        raise TypeError("unhashable type: '_AccountTable'")

    def __repr__(self) -> str:
        return f"<{len(self)} accounts>"

    def _build(self, account_id: str) -> AccountOwnership:
        account = self.accounts[account_id]
        counts = self.per_account[account_id]
        declared = self.declared[account_id]
        claims: list[DomainClaim] = []
        for reg in sorted(set(declared).union(counts)):
            entry = self.domains.get(reg)
            if entry is not None:
                claims.extend(c for c in entry.claims if c.account_id == account_id)
        unique = tuple(
            c.domain for c in claims if self.domains[c.domain].status is DomainStatus.UNIQUE
        )
        skipped = self.skipped_by_account.get(account_id, {})
        counted = sum(counts.values())
        return AccountOwnership(
            account_id=account_id,
            name=account.name,
            parent_id=self.parent.get(account_id),
            mode=SyncMode.DOMAIN if unique else SyncMode.CONTACT,
            contacts=counted + sum(skipped.values()),
            counted=counted,
            domain_contacts=_by_count(counts),
            dominant=self.dominant.get(account_id),
            claims=tuple(claims),
            unique_domains=unique,
            skipped=tuple(sorted(skipped.items())),
            ignored_domains=tuple(sorted(self.ignored.get(account_id, ()))),
        )


def resolve_domain_ownership(
    accounts: Iterable[Account],
    contacts: Iterable[Contact],
    policy: OwnershipPolicy | None = None,
) -> DomainOwnership:
    """Which account owns each email domain, and each account's sync mode.

    Batch call: it never raises for a bad item. Contacts without a usable email, or at a
    personal or internal domain, are counted in `skipped` by reason. Items that cannot
    be used are listed in `rejections`: non-`Account`/`Contact` items; several
    *different* records with one id (all set aside; exact repeats are counted once);
    contacts whose `account_id` is not among the accounts; declared domains that are not
    registrable; parent links that are dangling or form a cycle (the link is ignored,
    the account kept). The result does not depend on the order of its inputs.
    """
    policy = OwnershipPolicy() if policy is None else policy
    by_account, rejected_accounts, rejections = _dedupe(accounts, Account, "accounts")
    counter = _ContactCounter(by_account, policy)
    counter.count(contacts)
    rejections.extend(counter.finish(rejected_accounts))
    per_account = counter.per_account
    internal = policy.internal_domains
    is_personal = counter.is_personal
    need = policy.secondary_min_contacts

    # Declared domains, folded; personal/internal/unregistrable ones are not claimable.
    # (Tuples and str->int dicts below: the garbage collector stops tracking those,
    # which keeps full collections rare on large inputs.)
    declared: dict[str, tuple[str, ...]] = {}
    declared_anywhere: set[str] = set()
    ignored: dict[str, list[tuple[str, str]]] = {}
    for account_id, account in by_account.items():
        if not account.domains:
            declared[account_id] = ()
            continue
        mine: set[str] = set()
        for host in account.domains:
            try:
                reg = _registrable_of_canonical_host(host)
            except InvalidDomain as exc:
                rejections.append(
                    Rejection.of(
                        "accounts.domains",
                        f"declared domain {_shown(host)} cannot be claimed: {exc.reason}",
                        host,
                        account_id,
                    )
                )
                ignored.setdefault(account_id, []).append((host, exc.reason))
                continue
            folds = "" if reg == host else f"folds to {reg}, "
            if reg in internal:
                ignored.setdefault(account_id, []).append(
                    (host, f"{folds}an internal domain (policy.internal_domains): never claimed")
                )
                continue
            if is_personal(host, reg):
                ignored.setdefault(account_id, []).append(
                    (
                        host,
                        f"{folds}a personal mail domain (policy.personal_domains): never claimed",
                    )
                )
                continue
            mine.add(reg)
        declared[account_id] = tuple(sorted(mine))
        declared_anywhere.update(mine)

    # Usage per domain (which accounts have contacts where, how many) and each account's
    # dominant domain: most contacts, then one it declares, then alphabetically first.
    usage: dict[str, dict[str, int]] = {}
    usage_get = usage.get
    dominant: dict[str, str] = {}
    for account_id, counts in per_account.items():
        best = ""
        best_n = 0
        best_declared = False
        mine_declared = declared[account_id]
        for reg, n in counts.items():
            users = usage_get(reg)
            if users is None:
                usage[reg] = {account_id: n}
            else:
                users[account_id] = n
            if n < best_n:
                continue
            is_declared = reg in mine_declared
            if (
                n > best_n
                or (is_declared and not best_declared)
                or (is_declared == best_declared and reg < best)
            ):
                best, best_n, best_declared = reg, n, is_declared
        if best_n:
            dominant[account_id] = best

    # Claims: one per (account, domain), strongest kind first.
    claims_by_domain: dict[str, list[DomainClaim]] = {}

    def add_claim(reg: str, account_id: str, kind: ClaimKind, n: int) -> None:
        found = claims_by_domain.get(reg)
        claim = DomainClaim(reg, account_id, kind, n)
        if found is None:
            claims_by_domain[reg] = [claim]
        else:
            found.append(claim)

    for account_id, counts in per_account.items():
        mine_declared = declared[account_id]
        for reg in mine_declared:
            add_claim(reg, account_id, ClaimKind.DECLARED, counts.get(reg, 0))
        top = dominant.get(account_id)
        if top is not None and top not in mine_declared:
            add_claim(top, account_id, ClaimKind.DOMINANT, counts[top])
        if len(counts) < 2:
            continue
        for reg, n in counts.items():
            if n < need or reg == top or reg in mine_declared:
                continue
            # Exclusive: nobody else has a contact there (so nobody else has it as
            # dominant) and nobody else declares it. See docs for why "any contact".
            if len(usage[reg]) == 1 and reg not in declared_anywhere:
                add_claim(reg, account_id, ClaimKind.SECONDARY, n)

    hierarchy = _Hierarchy(by_account, rejected_accounts, rejections)

    domains: dict[str, ClaimedDomain] = {}
    issues: list[SyncIssue] = []
    for reg in sorted(claims_by_domain):
        found_claims = claims_by_domain[reg]
        if len(found_claims) == 1:
            claim = found_claims[0]
            domains[reg] = ClaimedDomain(
                reg,
                DomainStatus.UNIQUE,
                (claim.account_id,),
                (claim,),
                claim.account_id,
                None,
                "single claimant",
            )
            continue
        claims = tuple(sorted(found_claims))
        claimants = tuple(c.account_id for c in claims)
        ancestor = hierarchy.common_ancestor(claimants)
        if policy.allow_all_shared or reg in policy.shared_domains:
            rule = "allow_all_shared" if policy.allow_all_shared else "shared_domains"
            domains[reg] = ClaimedDomain(
                reg, DomainStatus.SHARED, claimants, claims, ancestor, ancestor, rule
            )
            continue
        if ancestor is not None:
            domains[reg] = ClaimedDomain(
                reg, DomainStatus.SHARED, claimants, claims, ancestor, ancestor, "hierarchy"
            )
            continue
        issue = _conflict_issue(reg, claims, hierarchy)
        issues.append(issue)
        domains[reg] = ClaimedDomain(
            reg, DomainStatus.CONFLICT, claimants, claims, None, None, "not allowed", issue
        )

    account_table = _AccountTable(
        accounts=by_account,
        per_account=per_account,
        skipped_by_account=counter.skipped_by_account,
        dominant=dominant,
        declared=declared,
        ignored=ignored,
        domains=domains,
        parent=hierarchy.parent,
    )
    return DomainOwnership(
        policy=policy,
        domains=domains,
        accounts=account_table,
        claims=tuple(c for entry in domains.values() for c in entry.claims),
        issues=tuple(issues),
        rejections=tuple(
            sorted(rejections, key=lambda r: (r.where, r.record_id or "", r.reason, r.raw))
        ),
        skipped=dict(sorted(counter.skipped.items())),
        domain_usage=usage,
        personal_usage=dict(sorted(counter.personal_usage.items())),
        internal_usage=dict(sorted(counter.internal_usage.items())),
        rejected_account_ids=rejected_accounts,
    )


def _by_count(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """`(key, count)` pairs, most first, then by key."""
    if len(counts) == 1:
        return tuple(counts.items())
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


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
    reason = (
        f"claimed by {_accounts(len(ids))} ({'; '.join(parts)}); sharing {domain} is not "
        f"allowed and the accounts have no common parent account ({len(roots)} separate "
        "hierarchies)"
    )
    suggestion = (
        f"allow sharing it (OwnershipPolicy.shared_domains, --shared-domain {domain}), "
        "give the accounts a common parent account (parent_id), or keep it on one account "
        "(remove it from the others' declared domains or move their contacts)"
    )
    return SyncIssue(domain, ids, reason, suggestion)


def _root(hierarchy: _Hierarchy, account_id: str) -> str:
    node = account_id
    parent = hierarchy.parent
    while node in parent:
        node = parent[node]
    return node
