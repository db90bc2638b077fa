"""`resolve_domain_ownership`: claims from declarations and contacts, statuses, issues.

The order of precedence (docs/ownership.md, "Contract additions"): declared hosts
first, kept as declared (the longest declared host that holds an address wins); then
contact-derived claims on registrable domains that nobody declares. Contacts of an
account at a host another account declares make no claim: they are reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from stakeholder._errors import InvalidDomain
from stakeholder._model import Account, Contact, Rejection
from stakeholder._ownership._claims import ClaimedDomain, DomainClaim, SyncIssue
from stakeholder._ownership._hierarchy import _Hierarchy
from stakeholder._ownership._hosts import (
    _registrable_of_canonical_host,
    declared_host,
    labels,
    personal_match,
)
from stakeholder._ownership._inputs import _ContactCounter, _dedupe
from stakeholder._ownership._issues import (
    _conflict_issue,
    _declared_elsewhere,
    _dominant_tie,
    _merge_issues,
    _personal_declared,
    _too_broad,
)
from stakeholder._ownership._policy import (
    ClaimKind,
    DomainStatus,
    OwnershipPolicy,
)
from stakeholder._ownership._report import DomainOwnership, _AccountTable
from stakeholder._ownership._text import _shown
from stakeholder._progress import Progress, ProgressTicker


def resolve_domain_ownership(
    accounts: Iterable[Account],
    contacts: Iterable[Contact],
    policy: OwnershipPolicy | None = None,
    *,
    progress: Progress | None = None,
) -> DomainOwnership:
    """Which account owns each email domain, and each account's sync mode.

    Batch call: it never raises for a bad item. Contacts without a usable email, or at a
    personal, internal or excluded host, are counted in `skipped` by reason. Items that
    cannot be used are listed in `rejections`: non-`Account`/`Contact` items; several
    *different* records with one id (all set aside; exact repeats are counted once);
    contacts whose `account_id` is not among the accounts; declared hosts nobody can
    own (ICANN public suffixes); parent links that are dangling or form a cycle (the
    link is ignored, the account kept). Findings a person should look at are in
    `issues` (one per domain). The result does not depend on the order of its inputs.

    `progress(done, None)` is called as contacts are counted (see `stakeholder._progress`).
    """
    policy = OwnershipPolicy() if policy is None else policy
    by_account, rejected_accounts, rejections = _dedupe(accounts, Account, "accounts")
    declared = _Declarations(by_account, policy, rejections)
    counter = _ContactCounter(by_account, policy, declared.by_host)
    ticker = ProgressTicker(progress)
    counter.count(contacts if progress is None else _ticking(contacts, ticker))
    ticker.close()
    rejections.extend(counter.finish(rejected_accounts))
    claims = _Claims(counter.per_account, declared, policy)
    hierarchy = _Hierarchy(by_account, rejected_accounts, rejections)
    domains, issues = _statuses(claims, declared, hierarchy, policy)

    account_table = _AccountTable(
        accounts=by_account,
        per_account=counter.per_account,
        skipped_by_account=counter.skipped_by_account,
        dominant=claims.dominant,
        declared=declared.by_account,
        ignored=declared.ignored,
        domains=domains,
        parent=hierarchy.parent,
        manual=policy.contact_sync_accounts,
    )
    return DomainOwnership(
        policy=policy,
        domains=domains,
        accounts=account_table,
        claims=tuple(c for entry in domains.values() for c in entry.claims),
        issues=issues,
        rejections=tuple(
            sorted(rejections, key=lambda r: (r.where, r.record_id or "", r.reason, r.raw))
        ),
        skipped=dict(sorted(counter.skipped.items())),
        domain_usage=claims.usage,
        personal_usage=dict(sorted(counter.personal_usage.items())),
        internal_usage=dict(sorted(counter.internal_usage.items())),
        rejected_account_ids=rejected_accounts,
    )


def _ticking(items: Iterable[Contact], ticker: ProgressTicker) -> Iterator[Contact]:
    for item in items:
        yield item
        ticker.advance()


class _Declarations:
    """Each account's declared hosts as claim keys, who declares each, and what could not
    be claimed (internal or unownable hosts) or is honoured against a list."""

    def __init__(
        self, by_account: dict[str, Account], policy: OwnershipPolicy, rejections: list[Rejection]
    ) -> None:
        # (Tuples and str->int dicts: the garbage collector stops tracking those, which
        # keeps full collections rare on large inputs.)
        self.by_account: dict[str, tuple[str, ...]] = {}
        self.by_host: dict[str, tuple[str, ...]] = {}
        building: dict[str, list[str]] = {}
        self.ignored: dict[str, list[tuple[str, str]]] = {}
        self.listed: dict[str, str] = {}  # declared key -> why a list names it
        fold = policy.fold_to_registrable
        for account_id, account in by_account.items():
            if not account.domains:
                self.by_account[account_id] = ()
                continue
            mine: set[str] = set()
            for host in account.domains:
                key = self._key(account_id, host, fold, policy, rejections)
                if key is not None:
                    mine.add(key)
                    building.setdefault(key, []).append(account_id)
            self.by_account[account_id] = tuple(sorted(mine))
        # sorted tuples of strings: the garbage collector stops tracking them
        self.by_host = {key: tuple(sorted(set(ids))) for key, ids in building.items()}

    def _key(
        self,
        account_id: str,
        host: str,
        fold: bool,
        policy: OwnershipPolicy,
        rejections: list[Rejection],
    ) -> str | None:
        try:
            key = declared_host(host, fold)
        except InvalidDomain as exc:
            rejections.append(
                Rejection.of(
                    "accounts.domains",
                    f"declared domain {_shown(host)} cannot be claimed: {exc.reason}",
                    host,
                    account_id,
                )
            )
            self.ignored.setdefault(account_id, []).append((host, exc.reason))
            return None
        folds = "" if key == host else f"folds to {key}, "
        if policy.internal_domains and policy.internal_match(key) is not None:
            self.ignored.setdefault(account_id, []).append(
                (host, f"{folds}an internal domain (policy.internal_domains): never claimed")
            )
            return None
        why = self._listed_why(key, policy)
        if why is not None:
            self.listed[key] = why
        return key

    @staticmethod
    def _listed_why(key: str, policy: OwnershipPolicy) -> str | None:
        try:
            reg = _registrable_of_canonical_host(key) if "." in key else key
        except InvalidDomain:
            reg = key
        personal = personal_match(policy.personal_domains, key, reg)
        if personal is not None and labels(personal) <= labels(key):
            return f"on the personal mail list (policy.personal_domains, as {personal})"
        excluded = policy.exclusion(key)
        if excluded is not None and ("*" in excluded or labels(excluded) <= labels(key)):
            return f"excluded from domain evidence (policy exclusions, as {excluded})"
        return None


class _Claims:
    """Usage per claim key, each account's dominant domain, and the claims themselves.

    Precedence: a key another account declares is never a contact-derived claim of this
    one (its contacts there are `strays`, reported when they would have made a dominant
    or secondary claim); the dominant domain is the account's
    most frequent other key, a tie going to a key it declares itself, else no dominant
    domain (`ties`, reported) — never the spelling of the domain.
    """

    def __init__(
        self,
        per_account: dict[str, dict[str, int]],
        declared: _Declarations,
        policy: OwnershipPolicy,
    ) -> None:
        self.usage: dict[str, dict[str, int]] = {}
        self.dominant: dict[str, str] = {}
        self.strays: dict[str, dict[str, int]] = {}  # key -> {account: contacts}
        self.ties: dict[str, tuple[str, ...]] = {}  # account -> tied keys
        self.by_domain: dict[str, list[DomainClaim]] = {}
        by_host = declared.by_host
        usage = self.usage
        need = policy.secondary_min_contacts
        for account_id, counts in per_account.items():
            mine = declared.by_account[account_id]
            top = max(counts.values()) if counts else 0
            for key, n in counts.items():
                users = usage.get(key)
                if users is None:
                    usage[key] = {account_id: n}
                else:
                    users[account_id] = n
                # a stray is reported when it would have been a claim (dominant, tied
                # for dominant, or secondary); one consultant among ten is not
                if key in by_host and key not in mine and (n >= need or n >= top):
                    self.strays.setdefault(key, {})[account_id] = n
            self._dominant(account_id, counts, mine, by_host)
        for account_id, counts in per_account.items():
            self._claim(account_id, counts, declared.by_account[account_id], by_host, need)

    def _dominant(
        self,
        account_id: str,
        counts: dict[str, int],
        mine: tuple[str, ...],
        by_host: dict[str, tuple[str, ...]],
    ) -> None:
        best_n = 0
        best: list[str] = []
        for key, n in counts.items():
            if n < best_n or (key in by_host and key not in mine):
                continue
            if n > best_n:
                best_n, best = n, [key]
            else:
                best.append(key)
        if not best:
            return
        if len(best) > 1:
            own = [k for k in best if k in mine]
            if len(own) != 1:
                self.ties[account_id] = tuple(sorted(best))
                return
            best = own
        self.dominant[account_id] = best[0]

    def _claim(
        self,
        account_id: str,
        counts: dict[str, int],
        mine: tuple[str, ...],
        by_host: dict[str, tuple[str, ...]],
        need: int,
    ) -> None:
        for key in mine:
            self._add(key, account_id, ClaimKind.DECLARED, counts.get(key, 0))
        top = self.dominant.get(account_id)
        if top is not None and top not in mine:
            self._add(top, account_id, ClaimKind.DOMINANT, counts[top])
        if len(counts) < 2:
            return
        usage = self.usage
        for key, n in counts.items():
            if n < need or key == top or key in mine:
                continue
            # Exclusive: nobody else has a contact there (so nobody else has it as
            # dominant) and nobody declares it. See docs for why "any contact".
            if len(usage[key]) == 1 and key not in by_host:
                self._add(key, account_id, ClaimKind.SECONDARY, n)

    def _add(self, key: str, account_id: str, kind: ClaimKind, n: int) -> None:
        claim = DomainClaim(key, account_id, kind, n)
        found = self.by_domain.get(key)
        if found is None:
            self.by_domain[key] = [claim]
        else:
            found.append(claim)


def _statuses(
    claims: _Claims,
    declared: _Declarations,
    hierarchy: _Hierarchy,
    policy: OwnershipPolicy,
) -> tuple[dict[str, ClaimedDomain], tuple[SyncIssue, ...]]:
    """Each claimed key's status, owner and issue; the issues, one per domain. The
    findings come first, so that each `ClaimedDomain` is built once."""
    findings = _findings(claims, declared, hierarchy)
    domains: dict[str, ClaimedDomain] = {}
    manual = policy.contact_sync_accounts
    limit = policy.too_broad_claimants
    for key in sorted(claims.by_domain):
        status, claimants, ordered, owner, ancestor, rule = _status(
            key, claims.by_domain[key], hierarchy, policy
        )
        found = findings.get(key)
        if status is DomainStatus.CONFLICT:
            conflict = _conflict_issue(key, ordered, hierarchy)
            found = findings[key] = [conflict, *(found or ())]
        too_broad = len(claimants) > limit
        if too_broad:
            found = findings[key] = [*(found or ()), _too_broad(key, claimants, policy)]
        domain_sync = False
        if status is not DomainStatus.UNIQUE and policy.domain_sync_accounts:
            chosen = [a for a in claimants if a in policy.domain_sync_accounts]
            if len(chosen) == 1:
                owner, domain_sync = chosen[0], True
        contact_sync = owner is not None and owner in manual
        domains[key] = ClaimedDomain(
            key,
            status,
            claimants,
            ordered,
            None if contact_sync else owner,
            ancestor,
            rule,
            None if found is None else _merge_issues(found),
            too_broad,
            contact_sync,
            domain_sync and not contact_sync,
        )
    issues = []
    for key in sorted(findings):
        entry = domains.get(key)
        issues.append(entry.issue if entry is not None and entry.issue is not None
                      else _merge_issues(findings[key]))
    return domains, tuple(issues)


def _findings(
    claims: _Claims, declared: _Declarations, hierarchy: _Hierarchy
) -> dict[str, list[SyncIssue]]:
    """What ownership reports besides conflicts and too-broad hosts, per domain."""
    findings: dict[str, list[SyncIssue]] = {}
    for key, users in claims.strays.items():
        owners = declared.by_host[key]
        # contacts of a declarer's descendants at its host are expected: no issue
        strangers = {
            a: n
            for a, n in users.items()
            if not any(hierarchy.common_ancestor((o, a)) == o for o in owners)
        }
        if strangers:
            findings.setdefault(key, []).append(_declared_elsewhere(key, owners, strangers))
    for key, why in declared.listed.items():
        findings.setdefault(key, []).append(
            _personal_declared(key, declared.by_host[key], why)
        )
    for account_id, tied in claims.ties.items():
        n = claims.usage[tied[0]][account_id]
        findings.setdefault(tied[0], []).append(_dominant_tie(account_id, tied, n))
    return findings


def _status(
    key: str, found: list[DomainClaim], hierarchy: _Hierarchy, policy: OwnershipPolicy
) -> tuple[
    DomainStatus, tuple[str, ...], tuple[DomainClaim, ...], str | None, str | None, str
]:
    """(status, claimants, claims, owner, hierarchy owner, rule) of one claimed key."""
    if len(found) == 1:
        claim = found[0]
        return (
            DomainStatus.UNIQUE, (claim.account_id,), (claim,), claim.account_id, None,
            "single claimant",
        )
    ordered = tuple(sorted(found))
    claimants = tuple(c.account_id for c in ordered)
    ancestor = hierarchy.common_ancestor(claimants)
    if policy.is_shared(key):
        rule = "allow_all_shared" if policy.allow_all_shared else "shared_domains"
        return DomainStatus.SHARED, claimants, ordered, ancestor, ancestor, rule
    if ancestor is not None:
        return DomainStatus.SHARED, claimants, ordered, ancestor, ancestor, "hierarchy"
    return DomainStatus.CONFLICT, claimants, ordered, None, None, "not allowed"
