"""`DomainOwnership`: the result of resolution, its look-ups, explanations and exports."""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

import attrs

from stakeholder._errors import InvalidDomain, UnknownAccount
from stakeholder._identity import (
    EmailAddress,
    normalize_host,
    registrable_domain,
)
from stakeholder._model import Account, Rejection
from stakeholder._ownership._claims import AccountOwnership, ClaimedDomain, DomainClaim, SyncIssue
from stakeholder._ownership._hosts import (
    _registrable_of_canonical_host,
    labels,
    personal_match,
    subtree_match,
)
from stakeholder._ownership._policy import ClaimKind, DomainStatus, OwnershipPolicy, SyncMode
from stakeholder._ownership._text import _accounts, _contacts, _count, _were

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


def _host_of(value: str) -> str:
    """The canonical host of a host or an email address."""
    if not isinstance(value, str):
        raise InvalidDomain(value, f"expected a string, got {type(value).__name__}")
    if "@" in value:
        return EmailAddress.parse(value).domain
    return normalize_host(value)


_SHOWN: Final = 10


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

    def key(self, domain: str) -> str:
        """The claim key an address or host falls under: the longest claimed host that
        holds it (`gen.pge.com` before `pge.com`), else its registrable domain (else
        the host itself). Raises `InvalidEmail` or `InvalidDomain` for bad input."""
        host = _host_of(domain)
        found = subtree_match(host, self.domains)
        if found is not None:
            return found
        try:
            return _registrable_of_canonical_host(host)
        except InvalidDomain:
            return host

    def entry(self, domain: str) -> ClaimedDomain | None:
        """The `ClaimedDomain` for an address or host (the longest claimed host that
        holds it), or `None` when nobody claims it, or when a more specific personal
        list entry or exclusion covers the host (`alum.mit.edu` under `mit.edu`)."""
        key = self.key(domain)
        found = self.domains.get(key)
        if found is not None and self._shadowed(_host_of(domain), key):
            return None
        return found

    def _shadowed(self, host: str, key: str) -> bool:
        """Whether a personal-list entry or exclusion more specific than the claimed
        `key` covers `host` (exclusions come first)."""
        if host == key:
            return False
        policy = self.policy
        try:
            reg = _registrable_of_canonical_host(host)
        except InvalidDomain:
            reg = host
        personal = personal_match(policy.personal_domains, host, reg)
        if personal is not None and labels(personal) > labels(key):
            return True
        excluded = policy.exclusion(host)
        if excluded is None:
            return False
        return labels(host if "*" in excluded else excluded) > labels(key)

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
        return _by_count(self.domain_usage.get(self.key(domain), {}))

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
        host = _host_of(domain)
        folded = self.key(domain)
        lines: list[str] = []
        head = folded if folded == raw else f"{folded} (from {raw!r})"
        found = self.domains.get(folded)
        policy = self.policy
        internal = policy.internal_match(host)
        if internal is not None:
            count = self.internal_usage.get(internal, 0)
            lines.append(
                f"{head} is under {internal}, one of our internal_domains, so no account "
                f"ever claims it; {_were(count)} skipped (internal people)."
            )
            return "\n".join(lines)
        if found is None:
            listed = self._listed(host, folded)
            if listed is not None:
                return f"{head} {listed}"
        usage = _by_count(self.domain_usage.get(folded, {}))
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
            f"- {self._label(c.account_id)}: {self._claim_text(c)}"
            for c in found.claims[:_SHOWN]
        )
        if len(found.claims) > _SHOWN:
            lines.append(f"- and {len(found.claims) - _SHOWN} more claimants.")
        others = [(a, n) for a, n in usage if a not in found.claimants]
        if others:
            lines.append(
                "Also used, without a claim, by "
                + ", ".join(f"{self._label(a)} ({_contacts(n)})" for a, n in others[:_SHOWN])
                + (f" and {len(others) - _SHOWN} more" if len(others) > _SHOWN else "")
                + "."
            )
        lines.append(f"Rule: {self._rule_text(found)}")
        if found.contact_sync:
            owner = found.hierarchy_owner or found.claimants[0]
            lines.append(
                f"Manual choice: {self._label(owner)} is switched to contact sync "
                "(OwnershipPolicy.contact_sync_accounts), so only its known contacts "
                f"route to it; unknown addresses at {folded} route to no account by domain."
            )
        if found.domain_sync and found.owner is not None:
            lines.append(
                f"Manual choice: {self._label(found.owner)} is put in domain sync for it "
                "(OwnershipPolicy.domain_sync_accounts): unknown addresses there are its."
            )
        if found.too_broad:
            lines.append(
                f"Too broad: more than too_broad_claimants={policy.too_broad_claimants} "
                "accounts claim it; routing decides on it in constant time and lists a "
                "capped set of candidates."
            )
        if found.issue is not None:
            lines.append(f"Sync issue ({found.issue.kind.value}): {found.issue.reason}")
            lines.append(f"Suggested fix: {found.issue.suggestion}")
        lines.append(f"Policy: {policy.describe()}.")
        return "\n".join(lines)

    def _listed(self, host: str, key: str) -> str | None:
        """Why an unclaimed host is never evidence by domain (personal, excluded), or
        None when no list names it."""
        policy = self.policy
        excluded = policy.exclusion(host)
        if excluded is not None:
            return (
                f"is excluded from domain evidence by the policy ({excluded}: forwarders, "
                "relays and the like), so no account claims it and unknown addresses "
                "there route to no account; known contacts there still count."
            )
        if policy.personal_domains.is_personal(host):
            count = self.personal_usage.get(key, 0)
            return (
                "is a personal mail domain (free or disposable mail) under the "
                "policy's personal_domains, so no account ever claims it; "
                f"{_were(count)} skipped (not counted towards any account's domains)."
            )
        return None

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
        elif acc.manual:
            lines.append(
                f"{self._label(account_id)} is in contact sync by a manual choice "
                "(OwnershipPolicy.contact_sync_accounts): only its known contacts count"
                + (
                    f"; its unique domains ({', '.join(unique)}) stay its own in this "
                    "report."
                    if unique
                    else "."
                )
            )
        else:
            lines.append(
                f"{self._label(account_id)} is in contact sync: it owns no unique domain, "
                "so only its known contacts count."
            )
        owned = sorted(d for d, e in self.domains.items() if e.hierarchy_owner == account_id)
        if owned and not acc.manual:
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
                f"one account claims it, so it is unique: {found.claimants[0]} owns every "
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
                    ("domain", "kind", "accounts", "reason", "suggested fix"),
                    (
                        (
                            i.domain,
                            i.kind.value,
                            _some_ids(i.account_ids),
                            i.reason,
                            i.suggestion,
                        )
                        for i in self.issues
                    ),
                    len(self.issues),
                )
            )
        parts.append(f"<p><small>Policy: {e(self.policy.describe())}</small></p></div>")
        return "".join(parts)


def _some_ids(ids: tuple[str, ...]) -> str:
    more = len(ids) - _SHOWN
    return ", ".join(ids[:_SHOWN]) + (f" (+{more} more)" if more > 0 else "")


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
    manual: frozenset[str] = frozenset()
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
            mode=(
                SyncMode.DOMAIN
                if account_id not in self.manual
                and (unique or any(self.domains[c.domain].owner == account_id
                                   and self.domains[c.domain].domain_sync for c in claims))
                else SyncMode.CONTACT
            ),
            contacts=counted + sum(skipped.values()),
            counted=counted,
            domain_contacts=_by_count(counts),
            dominant=self.dominant.get(account_id),
            claims=tuple(claims),
            unique_domains=unique,
            skipped=tuple(sorted(skipped.items())),
            ignored_domains=tuple(sorted(self.ignored.get(account_id, ()))),
            manual=account_id in self.manual,
        )


def _by_count(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """`(key, count)` pairs, most first, then by key."""
    if len(counts) == 1:
        return tuple(counts.items())
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


