"""What the report shows, computed from plain values (pure: no I/O, no clock)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

import attrs

from stakeholder import (
    Account,
    Contact,
    EvidenceKind,
    InvalidDomain,
    InvalidEmail,
    RouteStatus,
    RoutingDecision,
    SyncIssue,
    find_shared_contacts,
)
from stakeholder._display import count, short_repr
from stakeholder._identity import EmailAddress

__all__ = ["DomainFinding", "ReportData", "summarize"]

_AMBIGUOUS_KINDS = {
    EvidenceKind.SHARED_DOMAIN: "declare the domain on one account, or list it in "
    "OwnershipPolicy.shared_domains under a parent account (hierarchy owner)",
    EvidenceKind.SHARED_CONTACT: "find shared contacts and pass them to routing "
    "(RoutingIndex.build(shared=...)) so the person's primary account breaks the tie",
    EvidenceKind.HIERARCHY_OWNER: "add the parent account to the data or an override "
    "for the thread",
}
_UNROUTED_KINDS = {EvidenceKind.PERSONAL, EvidenceKind.UNKNOWN_DOMAIN}


@attrs.frozen
class DomainFinding:
    """One domain that needs a person: `kind` (`ambiguous` or a sync-issue kind),
    the `accounts` involved, how many decisions it touched and the `fix`."""

    domain: str
    kind: str
    accounts: tuple[str, ...]
    decisions: int
    fix: str


@attrs.frozen(repr=False)
class ReportData:
    """The numbers behind the report for one tenant, as of `generated_at`."""

    tenant: str
    generated_at: dt.datetime
    totals: Mapping[str, int]
    """decisions per status"""
    by_day_status: Mapping[str, Mapping[str, int]]
    """day (ISO date) -> status -> decisions"""
    by_day_rule: Mapping[str, Mapping[str, int]]
    """day (ISO date) -> rule -> decisions"""
    findings: tuple[DomainFinding, ...]
    """ambiguous and sync-issue domains, most decisions first"""
    issues: tuple[SyncIssue, ...]
    shared_by_account: Mapping[str, int]
    """account name (id) -> people it shares with another account"""
    unrouted_by_domain: Mapping[str, int]
    """domain -> unrouted decisions with an address there"""
    accounts: int = 0
    contacts: int = 0

    @property
    def decisions(self) -> int:
        return sum(self.totals.values())

    def __repr__(self) -> str:
        return short_repr(
            "ReportData", repr(self.tenant), count(self.decisions, "decision"),
            count(len(self.findings), "domain finding"), count(len(self.issues), "sync issue"),
            count(len(self.shared_by_account), "account") + " with shared contacts",
        )


def issue_kind(issue: SyncIssue) -> str:
    """The issue's kind (`conflict` for stores written before issues had kinds)."""
    kind = getattr(issue, "kind", None)
    return "conflict" if kind is None else str(kind)


def _domain(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return EmailAddress.parse(address).registrable_domain
    except (InvalidEmail, InvalidDomain):
        return None


def _ambiguous(
    decisions: Iterable[RoutingDecision], issues: Mapping[str, SyncIssue]
) -> list[DomainFinding]:
    touched: Counter[str] = Counter()
    accounts: dict[str, set[str]] = defaultdict(set)
    fixes: dict[str, str] = {}
    for d in decisions:
        if d.status is not RouteStatus.AMBIGUOUS:
            continue
        for e in d.evidence:
            domain = _domain(e.address)
            if domain is None or e.kind not in _AMBIGUOUS_KINDS:
                continue
            touched[domain] += 1
            accounts[domain].update(d.candidates or e.account_ids)
            fixes.setdefault(domain, _AMBIGUOUS_KINDS[e.kind])
    findings = [
        DomainFinding(domain, "ambiguous", tuple(sorted(accounts[domain])), n,
                      issues[domain].suggestion if domain in issues else fixes[domain])
        for domain, n in touched.items()
    ]
    findings += [
        DomainFinding(i.domain, issue_kind(i), tuple(i.account_ids), 0, i.suggestion)
        for i in issues.values()
        if i.domain not in touched
    ]
    return sorted(findings, key=lambda f: (-f.decisions, f.domain, f.kind))


def _shared_by_account(accounts: Iterable[Account], contacts: Iterable[Contact]) -> dict[str, int]:
    names = {a.id: a.name for a in accounts}
    per_account: Counter[str] = Counter()
    for group in find_shared_contacts(contacts):
        for account_id in group.account_ids:
            per_account[f"{names.get(account_id, account_id)} ({account_id})"] += 1
    return dict(sorted(per_account.items(), key=lambda kv: (-kv[1], kv[0])))


def summarize(
    decisions: Iterable[RoutingDecision],
    *,
    tenant: str,
    generated_at: dt.datetime,
    accounts: Iterable[Account] = (),
    contacts: Iterable[Contact] = (),
    issues: Iterable[SyncIssue] = (),
    top: int = 15,
) -> ReportData:
    """The report's numbers. `top` bounds the domain findings and unrouted domains."""
    decisions = list(decisions)
    accounts, contacts = list(accounts), list(contacts)
    issue_map = {i.domain: i for i in issues}
    by_status: dict[str, Counter[str]] = defaultdict(Counter)
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    unrouted: Counter[str] = Counter()
    for d in decisions:
        at = d.occurred_at
        day = "undated" if at is None else at.astimezone(dt.UTC).date().isoformat()
        by_status[day][d.status.value] += 1
        by_rule[day][d.rule or d.status.value] += 1
        if d.status is RouteStatus.UNROUTED:
            for domain in {_domain(e.address) for e in d.evidence if e.kind in _UNROUTED_KINDS}:
                if domain is not None:
                    unrouted[domain] += 1
    return ReportData(
        tenant=tenant,
        generated_at=generated_at,
        totals=dict(Counter(d.status.value for d in decisions)),
        by_day_status={day: dict(c) for day, c in sorted(by_status.items())},
        by_day_rule={day: dict(c) for day, c in sorted(by_rule.items())},
        findings=tuple(_ambiguous(decisions, issue_map)[:top]),
        issues=tuple(sorted(issue_map.values(), key=lambda i: i.domain)),
        shared_by_account=_shared_by_account(accounts, contacts),
        unrouted_by_domain=dict(sorted(unrouted.items(), key=lambda kv: (-kv[1], kv[0]))[:top]),
        accounts=len(accounts),
        contacts=len(contacts),
    )
