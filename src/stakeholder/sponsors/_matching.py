"""Matching a person to candidate profiles, with evidence.

Each candidate is scored on five pieces of evidence, each a similarity in [0, 1] with
a weight: the name; the company against the account's name and aliases; the company's
web domain against the domains the account owns (declared, or claimed in the
`DomainOwnership` result); the person's email domain against the company's domain; the
title. The score is the weighted mean. A person whose best candidate reaches the
policy's threshold (and whose name is similar enough) is Match Found with every such
candidate as a ranked suggestion (best first, ties by url); otherwise No Match Found.
Pure and deterministic.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from stakeholder._errors import InvalidDomain, InvalidRecord
from stakeholder._identity import registrable_domain
from stakeholder._model import Account, Contact
from stakeholder._ownership import DomainOwnership
from stakeholder.sponsors._profiles import Profile, normalise
from stakeholder.sponsors._status import TrackingStatus

__all__ = [
    "MatchEvidence",
    "MatchPolicy",
    "MatchResult",
    "Suggestion",
    "company_domain",
    "company_key",
    "match_person",
    "score_profile",
]

_SUFFIXES: Final = frozenset(
    {"inc", "incorporated", "ltd", "limited", "llc", "llp", "plc", "gmbh", "ag", "sa",
     "sas", "bv", "nv", "corp", "corporation", "co", "company", "group", "holdings", "the"}
)
_PUNCT: Final = re.compile(r"[^\w\s]")


def company_key(name: str | None) -> str:
    """A company name as compared: normalised, punctuation and legal suffixes removed
    ("ACME, Inc." and "Acme" compare equal)."""
    tokens = _PUNCT.sub(" ", normalise(name)).split()
    kept = [t for t in tokens if t not in _SUFFIXES]
    return " ".join(kept or tokens)


def company_domain(value: str | None) -> str | None:
    """A company web domain as its registrable domain (`www.acme.com/` -> `acme.com`);
    `None` when absent or not a domain."""
    if not value:
        return None
    host = value.strip().lower()
    for prefix in ("https://", "http://"):
        if host.startswith(prefix):
            host = host[len(prefix):]
    host = host.split("/", 1)[0]
    try:
        return registrable_domain(host)
    except (InvalidDomain, ValueError):
        return None


def _similar(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    ta, tb = set(a.split()), set(b.split())
    jaccard = len(ta & tb) / len(ta | tb)
    return round(max(ratio, jaccard), 4)


def _name_key(name: str | None) -> str:
    return " ".join(_PUNCT.sub(" ", normalise(name)).split())


def _name_similarity(a: str, b: str) -> float:
    """Names compared as wholes and, when both have a first and a last name, as the
    weaker of the first-name and last-name similarities (so that "Eli Moreau" is not
    "Ivo Moreau", while "Jane A. Doe" is "Jane Doe")."""
    whole = _similar(a, b)
    ta, tb = a.split(), b.split()
    if len(ta) < 2 or len(tb) < 2:
        return whole
    parts = min(_similar(ta[0], tb[0]), _similar(ta[-1], tb[-1]))
    return round(min(whole, parts) if parts < whole else max(whole, parts), 4)


@attrs.frozen
class MatchPolicy:
    """Weights of the evidence, the score a suggestion needs (`threshold`), and the
    name similarity below which a candidate is never a match (`min_name`)."""

    threshold: float = 0.6
    min_name: float = 0.75
    name: float = 0.40
    company: float = 0.20
    domain: float = 0.20
    email: float = 0.10
    title: float = 0.10
    max_suggestions: int = 5

    def __attrs_post_init__(self) -> None:
        weights = (self.name, self.company, self.domain, self.email, self.title)
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise InvalidRecord(weights, "weights must be >= 0 and not all 0")
        if not 0 <= self.threshold <= 1 or not 0 <= self.min_name <= 1:
            raise InvalidRecord(self.threshold, "threshold and min_name must be in [0, 1]")

    def weight(self, kind: str) -> float:
        value: float = getattr(self, kind)
        return value


@attrs.frozen
class MatchEvidence:
    """One piece of evidence: its `kind` (name, company, domain, email, title), the
    similarity found, its weight, and what was compared."""

    kind: str
    similarity: float
    weight: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "similarity": self.similarity, "weight": self.weight,
                "detail": self.detail}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MatchEvidence:
        return cls(data["kind"], float(data["similarity"]), float(data["weight"]),
                   data["detail"])


@attrs.frozen
class Suggestion:
    """A candidate profile for a person, its score and the evidence behind it."""

    person_id: str
    profile: Profile
    score: float
    evidence: tuple[MatchEvidence, ...]
    rank: int = 0

    def explain(self) -> str:
        parts = [f"{e.kind} {e.similarity:.2f} ({e.detail})" for e in self.evidence]
        return f"#{self.rank} {self.profile.url} score {self.score:.3f}: " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "profile": self.profile.to_dict(),
            "score": self.score,
            "evidence": [e.to_dict() for e in self.evidence],
            "rank": self.rank,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Suggestion:
        return cls(
            person_id=data["person_id"],
            profile=Profile.from_dict(data["profile"]),
            score=float(data["score"]),
            evidence=tuple(MatchEvidence.from_dict(e) for e in data["evidence"]),
            rank=int(data.get("rank", 0)),
        )


def _owned_domains(account: Account, ownership: DomainOwnership | None) -> frozenset[str]:
    owned = set(account.domains)
    if ownership is not None and account.id in ownership.accounts:
        owned.update(c.domain for c in ownership.account(account.id).claims)
    return frozenset(owned)


def _company_evidence(account: Account, profile: Profile) -> tuple[float, str]:
    got = company_key(profile.company)
    best, against = 0.0, account.name
    for name in sorted({account.name, *account.aliases}):
        value = _similar(got, company_key(name))
        if value > best:
            best, against = value, name
    return best, f"{profile.company or '-'!s} vs {against}"


def _domain_evidence(
    account: Account, profile: Profile, ownership: DomainOwnership | None
) -> tuple[float, str]:
    domain = company_domain(profile.company_domain)
    if domain is None:
        return 0.0, "no company domain"
    if domain in _owned_domains(account, ownership):
        return 1.0, f"{domain} is owned by {account.id}"
    if ownership is not None and account.id in ownership.claimants(domain):
        return 1.0, f"{domain} is claimed by {account.id}"
    return 0.0, f"{domain} is not a domain of {account.id}"


def score_profile(
    contact: Contact,
    account: Account,
    profile: Profile,
    *,
    ownership: DomainOwnership | None = None,
    policy: MatchPolicy = MatchPolicy(),
) -> Suggestion:
    """Score one candidate profile for `contact` of `account`, with the evidence."""
    name = _name_similarity(_name_key(contact.name), _name_key(profile.name))
    company, company_detail = _company_evidence(account, profile)
    domain, domain_detail = _domain_evidence(account, profile, ownership)
    email_domain = None if contact.email_address is None else (
        contact.email_address.registrable_domain
    )
    theirs = company_domain(profile.company_domain)
    email = 1.0 if email_domain is not None and email_domain == theirs else 0.0
    title = _similar(normalise(contact.title), normalise(profile.title))
    evidence = (
        MatchEvidence("name", name, policy.name, f"{contact.name or '-'} vs {profile.name}"),
        MatchEvidence("company", company, policy.company, company_detail),
        MatchEvidence("domain", domain, policy.domain, domain_detail),
        MatchEvidence("email", email, policy.email,
                      f"{email_domain or 'no email'} vs {theirs or 'no company domain'}"),
        MatchEvidence("title", title, policy.title,
                      f"{contact.title or '-'} vs {profile.title or '-'}"),
    )
    total = sum(e.weight for e in evidence)
    score = round(sum(e.similarity * e.weight for e in evidence) / total, 4)
    return Suggestion(contact.id, profile, score, evidence)


@attrs.frozen(repr=False)
class MatchResult:
    """The outcome of matching one person: Match Found with ranked `suggestions`, or No
    Match Found (`suggestions` empty; `best` the closest candidate, for the reason)."""

    person_id: str
    status: TrackingStatus
    suggestions: tuple[Suggestion, ...]
    best: Suggestion | None
    reason: str

    def __repr__(self) -> str:
        best = None if self.best is None else self.best.profile.url
        return (f"MatchResult({self.person_id!r}, {self.status.value!r}, "
                f"suggestions={len(self.suggestions)}, best={best!r})")

    def explain(self) -> str:
        lines = [f"{self.person_id}: {self.status.value} ({self.reason})"]
        lines += ["  " + s.explain() for s in self.suggestions]
        return "\n".join(lines)


def match_person(
    contact: Contact,
    account: Account,
    candidates: Iterable[Profile],
    *,
    ownership: DomainOwnership | None = None,
    policy: MatchPolicy = MatchPolicy(),
) -> MatchResult:
    """Score every candidate and decide Match Found / No Match Found; deterministic and
    independent of the candidates' order (ties break on the profile url)."""
    by_url: dict[str, Profile] = {}
    for profile in candidates:
        held = by_url.get(profile.url)
        if held is None or profile.observed_at > held.observed_at:
            by_url[profile.url] = profile
    scored = [
        score_profile(contact, account, by_url[url], ownership=ownership, policy=policy)
        for url in sorted(by_url)
    ]
    scored.sort(key=lambda s: (-s.score, s.profile.url))
    best = scored[0] if scored else None
    good = [
        s for s in scored
        if s.score >= policy.threshold and s.evidence[0].similarity >= policy.min_name
    ][: policy.max_suggestions]
    if good:
        ranked = tuple(attrs.evolve(s, rank=i) for i, s in enumerate(good, 1))
        reason = f"{len(ranked)} candidate(s) at or above {policy.threshold}"
        return MatchResult(contact.id, TrackingStatus.MATCH_FOUND, ranked, ranked[0], reason)
    if best is None:
        reason = "the source found no candidate"
    else:
        reason = f"best candidate {best.profile.url} scored {best.score:.3f} < {policy.threshold}"
        if best.evidence[0].similarity < policy.min_name:
            reason = f"no candidate's name is similar enough (best {best.profile.url})"
    return MatchResult(contact.id, TrackingStatus.NO_MATCH_FOUND, (), best, reason)
