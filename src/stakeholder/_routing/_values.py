"""Routing values: statuses, evidence, overrides, the policy and the decision."""

from __future__ import annotations

import datetime as dt
import enum
import html
from collections.abc import Iterable
from typing import Any, Final

import attrs

from stakeholder._display import attrs_repr, repr_pretty
from stakeholder._identity import EmailAddress, normalize_host
from stakeholder._model import (
    CommKind,
    Role,
    check_id,
)
from stakeholder._routing._rules import RULE_DESCRIPTIONS, RoutingRule


class RouteStatus(enum.StrEnum):
    """The outcome of routing one communication."""

    ROUTED = "routed"
    AMBIGUOUS = "ambiguous"
    UNROUTED = "unrouted"
    INTERNAL = "internal"
    REJECTED = "rejected"
    BULK = "bulk"


class Strength(enum.StrEnum):
    """How much a piece of evidence weighs."""

    STRONG = "strong"
    WEAK = "weak"
    TIEBREAK = "tiebreak"
    NONE = "none"
    SET_ASIDE = "set_aside"


class EvidenceKind(enum.StrEnum):
    """What a piece of evidence is."""

    OVERRIDE = "override"
    UNIQUE_CONTACT = "unique_contact"
    DOMAIN_OWNER = "domain_owner"
    SHARED_CONTACT = "shared_contact"
    SHARED_DOMAIN = "shared_domain"
    HIERARCHY_OWNER = "hierarchy_owner"
    PARTNER = "partner"
    THREAD_MEMORY = "thread_memory"
    PRIMARY_ACCOUNT = "primary_account"
    SUBJECT_ALIAS = "subject_alias"
    PERSONAL = "personal"
    UNKNOWN_DOMAIN = "unknown_domain"
    INTERNAL = "internal"
    AUTOMATED = "automated"
    INVALID = "invalid"
    POLICY = "policy"
    EXCLUDED = "excluded"
    CONTACT_SYNC = "contact_sync"
    TOO_BROAD = "too_broad"
    BULK = "bulk"


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (
        not isinstance(value, dt.datetime) or value.utcoffset() is None
    ):
        raise ValueError(f"{attribute.name} must be a timezone-aware datetime")


def _optional_role(value: object) -> Role | None:
    return None if value is None else Role(str(value))


def _strs(value: Iterable[str]) -> tuple[str, ...]:
    return value if type(value) is tuple else tuple(value)


def _evidences(value: Iterable[Evidence]) -> tuple[Evidence, ...]:
    return value if type(value) is tuple else tuple(value)


@attrs.frozen
class Evidence:
    """One fact that points a communication at accounts (or sets an address aside)."""

    kind: EvidenceKind = attrs.field(converter=EvidenceKind)
    strength: Strength = attrs.field(converter=Strength)
    account_ids: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    address: str | None = None
    role: Role | None = attrs.field(default=None, converter=_optional_role)
    detail: str = ""

    __repr__ = attrs_repr

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "strength": self.strength.value,
            "account_ids": list(self.account_ids),
            "address": self.address,
            "role": None if self.role is None else self.role.value,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        return cls(
            kind=data["kind"],
            strength=data["strength"],
            account_ids=tuple(data.get("account_ids", ())),
            address=data.get("address"),
            role=data.get("role"),
            detail=data.get("detail", ""),
        )


def _ids(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    return tuple(value)


def _canonical_address(value: str | None) -> str | None:
    """`jane@acme.com` for any spelling of it; raises `InvalidEmail`."""
    return None if value is None else str(EmailAddress.parse(value))


def _canonical_host(value: str | None) -> str | None:
    """A host in canonical form; raises `InvalidDomain`."""
    return None if value is None else normalize_host(value)


def _host_set(value: Iterable[str] | str | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = (value,)
    return frozenset(normalize_host(v) for v in value)


def _address_set(value: Iterable[str] | str | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = (value,)
    return frozenset(str(EmailAddress.parse(v)) for v in value)


@attrs.frozen
class Override:
    """A person's decision: some communications belong to `account_ids`. Always wins,
    and is kept in the evidence with author and reason.

    It targets exactly one of: `comm_id` (one communication), `thread_id` (every one of
    the thread), `address` (a *sticky reroute*: that participant, in every
    communication from `at` on, counts as evidence for `account_ids` before any other
    evidence) or `host` (the same for every address at that host and its subdomains).
    Per target the latest `at` wins; an address override outranks a host override, a
    longer host a shorter one.
    """

    account_ids: tuple[str, ...] = attrs.field(converter=_ids)
    author: str
    reason: str
    at: dt.datetime = attrs.field(validator=_aware)
    comm_id: str | None = None
    thread_id: str | None = None
    address: str | None = attrs.field(default=None, converter=_canonical_address)
    host: str | None = attrs.field(default=None, converter=_canonical_host)

    @account_ids.validator
    def _check_ids(self, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
        for account_id in value:
            check_id(self, attribute, account_id)

    def __attrs_post_init__(self) -> None:
        targets = (self.comm_id, self.thread_id, self.address, self.host)
        if sum(target is not None for target in targets) != 1:
            raise ValueError(
                "an Override targets exactly one of comm_id, thread_id, address or host"
            )

    @property
    def sticky(self) -> bool:
        """Whether it reroutes a person or a host (rather than a communication or thread)."""
        return self.address is not None or self.host is not None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "account_ids": list(self.account_ids),
            "author": self.author,
            "reason": self.reason,
            "at": self.at.isoformat(),
            "comm_id": self.comm_id,
            "thread_id": self.thread_id,
        }
        if self.address is not None:
            data["address"] = self.address
        if self.host is not None:
            data["host"] = self.host
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Override:
        return cls(
            account_ids=tuple(data["account_ids"]),
            author=data["author"],
            reason=data["reason"],
            at=dt.datetime.fromisoformat(data["at"]),
            comm_id=data.get("comm_id"),
            thread_id=data.get("thread_id"),
            address=data.get("address"),
            host=data.get("host"),
        )


DEFAULT_THREAD_MEMORY: Final = 50_000
"""Threads `route_many` remembers at most (the least recently updated is forgotten);
about 0.2 KB each, some 10 MB at most."""


class AmbiguityResolution(enum.StrEnum):
    """What an unresolved tie gives: `AMBIGUOUS` with candidates, all of them, or the
    first-ranked one."""

    AMBIGUOUS = "ambiguous"
    ALL = "all"
    PRIMARY = "primary"


@attrs.frozen
class RoutingPolicy:
    """Choices for routing.

    - `ambiguous`: what an unresolved tie gives (`AmbiguityResolution`).
    - `detect_bulk` (True) and `bulk_account_limit` (10): a message that is list or
      bulk mail (`Communication.headers`), or whose participants are strong evidence for
      more than `bulk_account_limit` accounts, is not attributed to them: status `BULK`,
      rule `bulk`, the accounts listed as candidates.
    - `excluded_hosts`, `excluded_addresses`: added to the ownership policy's
      exclusions: never evidence by domain (a known contact there still counts).
    - `too_broad_candidates` (20): how many candidates a decision on a too-broad host
      (`OwnershipPolicy.too_broad_claimants`) lists; the evidence says how many there are.
    - `thread_memory` (`DEFAULT_THREAD_MEMORY`): threads `route_many` remembers.
    """

    ambiguous: AmbiguityResolution = attrs.field(
        default=AmbiguityResolution.AMBIGUOUS, converter=AmbiguityResolution
    )
    detect_bulk: bool = True
    bulk_account_limit: int = attrs.field(default=10, validator=attrs.validators.ge(1))
    excluded_hosts: frozenset[str] = attrs.field(factory=frozenset, converter=_host_set)
    excluded_addresses: frozenset[str] = attrs.field(
        factory=frozenset, converter=_address_set
    )
    too_broad_candidates: int = attrs.field(default=20, validator=attrs.validators.ge(1))
    thread_memory: int = attrs.field(
        default=DEFAULT_THREAD_MEMORY, validator=attrs.validators.ge(0)
    )


def _optional_dt(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


@attrs.frozen
class RoutingDecision:
    """Where one communication belongs, and why.

    `account_ids` lists the accounts it belongs to, primary first; `candidates` the
    accounts that were considered when no single answer was found; `evidence` every
    fact used (and every address set aside); `rule` the deciding rule's name.
    """

    comm_id: str
    status: RouteStatus = attrs.field(converter=RouteStatus)
    account_ids: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    candidates: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    evidence: tuple[Evidence, ...] = attrs.field(default=(), converter=_evidences)
    rule: str = ""
    confidence: float = 0.0
    occurred_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    thread_id: str | None = None
    kind: CommKind = attrs.field(default=CommKind.EMAIL, converter=CommKind)
    subject: str = ""
    reason: str = ""

    __repr__ = attrs_repr
    _repr_pretty_ = repr_pretty

    @property
    def primary_account_id(self) -> str | None:
        return self.account_ids[0] if self.account_ids else None

    def explain(self) -> str:
        """The decision in plain language: the outcome, the deciding rule and its
        confidence, then one line per piece of evidence (each participant, overrides with
        their author and reason, tie-breaks)."""
        lines = [_headline(self)]
        if self.rule:
            description = RULE_DESCRIPTIONS.get(self.rule, "")
            tail = f": {description}" if description else ""
            lines.append(f"Rule: {self.rule} (confidence {self.confidence:.2f}){tail}.")
        if self.reason and self.status is not RouteStatus.REJECTED:
            lines.append(f"Note: {self.reason}.")
        if self.evidence:
            lines.append("Evidence:")
            lines.extend(f"  - {_evidence_line(e)}" for e in self.evidence[:_EXPLAINED])
            hidden = len(self.evidence) - _EXPLAINED
            if hidden > 0:
                lines.append(f"  - and {hidden} more pieces of evidence (see .evidence)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """An HTML table for notebooks: the outcome, then one row per piece of evidence."""
        esc = html.escape
        head = esc(_headline(self))
        rule = (
            f"<p>Rule: <code>{esc(self.rule)}</code> (confidence {self.confidence:.2f})</p>"
            if self.rule
            else ""
        )
        rows = "".join(
            "<tr>"
            f"<td>{esc(e.address or '')}</td><td>{esc(e.role.value if e.role else '')}</td>"
            f"<td>{esc(e.kind.value)}</td><td>{esc(e.strength.value)}</td>"
            f"<td>{esc(', '.join(e.account_ids))}</td><td>{esc(e.detail)}</td>"
            "</tr>"
            for e in self.evidence[:_EXPLAINED]
        )
        table = (
            "<table><thead><tr><th>address</th><th>role</th><th>evidence</th>"
            "<th>strength</th><th>accounts</th><th>detail</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            if rows
            else ""
        )
        return f"<div class=\"stakeholder-routing-decision\"><p>{head}</p>{rule}{table}</div>"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; `RoutingDecision.from_dict` reads it back equal."""
        return {
            "comm_id": self.comm_id,
            "status": self.status.value,
            "account_ids": list(self.account_ids),
            "candidates": list(self.candidates),
            "evidence": [e.to_dict() for e in self.evidence],
            "rule": self.rule,
            "confidence": self.confidence,
            "occurred_at": None if self.occurred_at is None else self.occurred_at.isoformat(),
            "thread_id": self.thread_id,
            "kind": self.kind.value,
            "subject": self.subject,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoutingDecision:
        return cls(
            comm_id=data["comm_id"],
            status=data["status"],
            account_ids=tuple(data.get("account_ids", ())),
            candidates=tuple(data.get("candidates", ())),
            evidence=tuple(Evidence.from_dict(e) for e in data.get("evidence", ())),
            rule=data.get("rule", ""),
            confidence=float(data.get("confidence", 0.0)),
            occurred_at=_optional_dt(data.get("occurred_at")),
            thread_id=data.get("thread_id"),
            kind=data.get("kind", CommKind.EMAIL.value),
            subject=data.get("subject", ""),
            reason=data.get("reason", ""),
        )


_EXPLAINED: Final = 25
"""Evidence lines `explain()` and `_repr_html_()` show: the text stays a few kilobytes
whatever the number of participants (`.evidence` keeps everything)."""


def _some(names: Iterable[str]) -> str:
    shown = list(names)
    text = ", ".join(shown[:_EXPLAINED])
    return text + (f" and {len(shown) - _EXPLAINED} more" if len(shown) > _EXPLAINED else "")


def _headline(d: RoutingDecision) -> str:
    subject = f" ({d.subject!r})" if d.subject else ""
    status = d.status
    if status is RouteStatus.ROUTED:
        partners = {a for e in d.evidence if e.kind is EvidenceKind.PARTNER for a in e.account_ids}
        names = []
        for i, account_id in enumerate(d.account_ids):
            if i == 0:
                names.append(f"{account_id} (primary)")
            elif account_id in partners and d.rule != RoutingRule.PARTNER:
                names.append(f"{account_id} (partner, associated)")
            else:
                names.append(account_id)
        return f"Communication {d.comm_id}{subject} is routed to {_some(names)}."
    if status is RouteStatus.AMBIGUOUS:
        return (
            f"Communication {d.comm_id}{subject} is ambiguous between "
            f"{_some(d.candidates)}."
        )
    if status is RouteStatus.BULK:
        among = f" (candidates: {_some(d.candidates)})" if d.candidates else ""
        return (
            f"Communication {d.comm_id}{subject} is list or bulk mail: not attributed to "
            f"any account{among}."
        )
    if status is RouteStatus.INTERNAL:
        return f"Communication {d.comm_id}{subject} is internal: only our own people take part."
    if status is RouteStatus.UNROUTED:
        return f"Communication {d.comm_id}{subject} is not routed to any account."
    return f"Communication {d.comm_id}{subject} was rejected: {d.reason}."


_LABELS: Final = {
    EvidenceKind.OVERRIDE: "override",
    EvidenceKind.THREAD_MEMORY: "thread",
    EvidenceKind.SUBJECT_ALIAS: "subject",
    EvidenceKind.POLICY: "policy",
}


def _evidence_line(e: Evidence) -> str:
    who = e.address or _LABELS.get(e.kind, "communication")
    role = f" ({e.role.value})" if e.role is not None else ""
    return f"{who}{role}: {e.detail} [{e.strength.value}]"


