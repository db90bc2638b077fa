"""`resolve_domain_ownership`: claims from declarations and contacts, statuses, issues."""

from __future__ import annotations

from collections.abc import Iterable

from stakeholder._errors import InvalidDomain
from stakeholder._model import Account, Contact, Rejection
from stakeholder._ownership._claims import ClaimedDomain, DomainClaim, SyncIssue
from stakeholder._ownership._hierarchy import _Hierarchy
from stakeholder._ownership._hosts import _registrable_of_canonical_host
from stakeholder._ownership._inputs import _ContactCounter, _dedupe
from stakeholder._ownership._policy import ClaimKind, DomainStatus, OwnershipPolicy
from stakeholder._ownership._report import DomainOwnership, _AccountTable
from stakeholder._ownership._text import _accounts, _contacts, _shown


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
