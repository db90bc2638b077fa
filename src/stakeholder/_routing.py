"""Routing: which account(s) a communication belongs to, with evidence and explanation.

See docs/routing.md for the decision procedure rule by rule.
"""

from __future__ import annotations

import datetime as dt
import enum
import html
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Protocol

import attrs

from stakeholder._errors import ConfigurationError, InvalidDomain, InvalidEmail, InvalidRecord
from stakeholder._identity import (
    EmailAddress,
    PersonalDomains,
    _parse_parts,
    registrable_domain,
)
from stakeholder._model import (
    Account,
    AccountKind,
    CommKind,
    Communication,
    Contact,
    Rejection,
    Role,
    check_id,
)
from stakeholder._ownership import DomainStatus, _registrable_of_canonical_host
from stakeholder._shared import primary_accounts

_new = object.__new__
_set = object.__setattr__

__all__ = [
    "ROUTING_CONFIDENCE",
    "RULE_DESCRIPTIONS",
    "AmbiguityResolution",
    "Evidence",
    "EvidenceKind",
    "Override",
    "RouteStatus",
    "RoutingDecision",
    "RoutingIndex",
    "RoutingPolicy",
    "RoutingRule",
    "Strength",
    "is_automated_address",
    "route",
    "route_many",
]


class RouteStatus(enum.StrEnum):
    """The outcome of routing one communication."""

    ROUTED = "routed"
    AMBIGUOUS = "ambiguous"
    UNROUTED = "unrouted"
    INTERNAL = "internal"
    REJECTED = "rejected"


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


@attrs.frozen
class Override:
    """A person's decision: communication `comm_id` (or every one in `thread_id`) belongs
    to `account_ids`. Always wins, and is kept in the evidence with author and reason."""

    account_ids: tuple[str, ...] = attrs.field(converter=_ids)
    author: str
    reason: str
    at: dt.datetime = attrs.field(validator=_aware)
    comm_id: str | None = None
    thread_id: str | None = None

    @account_ids.validator
    def _check_ids(self, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
        for account_id in value:
            check_id(self, attribute, account_id)

    def __attrs_post_init__(self) -> None:
        if (self.comm_id is None) == (self.thread_id is None):
            raise ValueError("an Override targets exactly one of comm_id or thread_id")

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_ids": list(self.account_ids),
            "author": self.author,
            "reason": self.reason,
            "at": self.at.isoformat(),
            "comm_id": self.comm_id,
            "thread_id": self.thread_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Override:
        return cls(
            account_ids=tuple(data["account_ids"]),
            author=data["author"],
            reason=data["reason"],
            at=dt.datetime.fromisoformat(data["at"]),
            comm_id=data.get("comm_id"),
            thread_id=data.get("thread_id"),
        )


class AmbiguityResolution(enum.StrEnum):
    """What an unresolved tie gives: `AMBIGUOUS` with candidates, all of them, or the
    first-ranked one."""

    AMBIGUOUS = "ambiguous"
    ALL = "all"
    PRIMARY = "primary"


@attrs.frozen
class RoutingPolicy:
    """Choices for routing. `ambiguous` decides what an unresolved tie gives."""

    ambiguous: AmbiguityResolution = attrs.field(
        default=AmbiguityResolution.AMBIGUOUS, converter=AmbiguityResolution
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
            lines.extend(f"  - {_evidence_line(e)}" for e in self.evidence)
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
            for e in self.evidence
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


# --------------------------------------------------------------------------- rules


class RoutingRule(enum.StrEnum):
    """The rule that decided a communication (`RoutingDecision.rule` holds its value)."""

    OVERRIDE = "override"
    UNIQUE_CONTACT = "unique_contact"
    DOMAIN_SYNC = "domain_sync"
    PARTNER = "partner"
    HIERARCHY_OWNER = "hierarchy_owner"
    WEAK_INTERSECTION = "weak_intersection"
    THREAD_MEMORY = "thread_memory"
    SHARED_PRIMARY = "shared_primary"
    SUBJECT_ALIAS = "subject_alias"
    POLICY_ALL = "policy_all"
    POLICY_PRIMARY = "policy_primary"
    AMBIGUOUS = "ambiguous"
    NO_EVIDENCE = "no_evidence"
    AUTOMATED_ONLY = "automated_only"
    INTERNAL_ONLY = "internal_only"
    REJECTED = "rejected"


ROUTING_CONFIDENCE: Final[Mapping[str, float]] = {
    RoutingRule.OVERRIDE.value: 1.0,
    RoutingRule.UNIQUE_CONTACT.value: 0.95,
    RoutingRule.DOMAIN_SYNC.value: 0.85,
    RoutingRule.PARTNER.value: 0.8,
    RoutingRule.HIERARCHY_OWNER.value: 0.75,
    RoutingRule.WEAK_INTERSECTION.value: 0.7,
    RoutingRule.THREAD_MEMORY.value: 0.65,
    RoutingRule.SHARED_PRIMARY.value: 0.6,
    RoutingRule.SUBJECT_ALIAS.value: 0.5,
    RoutingRule.POLICY_ALL.value: 0.3,
    RoutingRule.POLICY_PRIMARY.value: 0.3,
    RoutingRule.AMBIGUOUS.value: 0.0,
    RoutingRule.NO_EVIDENCE.value: 0.0,
    RoutingRule.AUTOMATED_ONLY.value: 0.0,
    RoutingRule.INTERNAL_ONLY.value: 0.0,
    RoutingRule.REJECTED.value: 0.0,
}
"""Rule -> confidence of the account attribution it makes (0.0 where no account is
given). The table is documented in docs/routing.md."""

RULE_DESCRIPTIONS: Final[Mapping[str, str]] = {
    RoutingRule.OVERRIDE.value: "a person's override always wins",
    RoutingRule.UNIQUE_CONTACT.value: "a participant is a known contact of exactly one account",
    RoutingRule.DOMAIN_SYNC.value: (
        "a participant's address is at a domain that exactly one account owns (domain sync)"
    ),
    RoutingRule.PARTNER.value: "only partner accounts have strong evidence: the partner gets it",
    RoutingRule.HIERARCHY_OWNER.value: (
        "the address is at a shared domain whose claimants have one common parent account"
    ),
    RoutingRule.WEAK_INTERSECTION.value: (
        "the weak evidence of all participants points at exactly one account"
    ),
    RoutingRule.THREAD_MEMORY.value: "an earlier communication of the thread broke the tie",
    RoutingRule.SHARED_PRIMARY.value: "the shared contact's primary account broke the tie",
    RoutingRule.SUBJECT_ALIAS.value: "the subject names one of the tied accounts",
    RoutingRule.POLICY_ALL.value: "unresolved tie: the policy gives it to every candidate",
    RoutingRule.POLICY_PRIMARY.value: (
        "unresolved tie: the policy gives it to the first-ranked candidate"
    ),
    RoutingRule.AMBIGUOUS.value: "no rule could pick one account among the candidates",
    RoutingRule.NO_EVIDENCE.value: (
        "no participant is a known contact or at an owned domain (personal or unknown domains)"
    ),
    RoutingRule.AUTOMATED_ONLY.value: "only automated senders and invalid addresses take part",
    RoutingRule.INTERNAL_ONLY.value: "only our own people take part",
    RoutingRule.REJECTED.value: "the communication cannot be routed at all",
}

_EVIDENCE_RULES: Final = frozenset(
    {
        RoutingRule.HIERARCHY_OWNER.value,
        RoutingRule.WEAK_INTERSECTION.value,
    }
)
"""Weak-evidence rules that decide without a tie-break (thread memory learns from them)."""


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
        return f"Communication {d.comm_id}{subject} is routed to {', '.join(names)}."
    if status is RouteStatus.AMBIGUOUS:
        return (
            f"Communication {d.comm_id}{subject} is ambiguous between "
            f"{', '.join(d.candidates)}."
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


# --------------------------------------------------------------------------- addresses

_AUTOMATED_LOCAL: Final = re.compile(
    r"""
    (?:.*[-_.])?no[-_.]?reply(?:[-_.].*)?
    | (?:.*[-_.])?do[-_.]?not[-_.]?reply(?:[-_.].*)?
    | mailer[-_.]?daemon(?:[-_.].*)? | postmaster | mail[-_.]?delivery[-_.]?subsystem
    | (?:.*[-_.])?bounces?(?:[-_.].*)? | bounce[0-9a-f]*
    | calendar[-_.]?(?:notification|server|invites?)s?
    | notifications? | auto[-_.]?(?:reply|responder|confirm)
    | owner[-_.].+ | .+[-_.](?:owner|request)
    """,
    re.VERBOSE,
)
_AUTOMATED_HOSTS: Final = (
    "resource.calendar.google.com",
    "group.calendar.google.com",
    "bounces.google.com",
)
_AUTOMATED_HOST_SUFFIXES: Final = tuple("." + h for h in _AUTOMATED_HOSTS)


def is_automated_address(address: EmailAddress | str) -> bool:
    """Whether `address` belongs to a machine rather than a person: no-reply and
    do-not-reply senders, mailer daemons and postmasters, bounce addresses, calendar
    notifications (`calendar-notification@google.com`), calendar resources, and list
    robots (`owner-*`, `*-request`, `*-owner`).

    >>> is_automated_address("No-Reply <no-reply@billing.acme.com>")
    True
    >>> is_automated_address("jane@acme.com")
    False
    """
    if isinstance(address, str):
        try:
            address = EmailAddress.parse(address)
        except InvalidEmail:
            return False
    host = address.domain
    if host in _AUTOMATED_HOSTS or host.endswith(_AUTOMATED_HOST_SUFFIXES):
        return True
    return _AUTOMATED_LOCAL.fullmatch(address.local) is not None


# Verdict classes: what one address contributes.
_INVALID, _INTERNAL, _AUTOMATED, _STRONG, _WEAK, _NONE = range(6)

_ROLE_RANK: Final[Mapping[str, int]] = {
    Role.FROM.value: 0,
    Role.ORGANIZER.value: 1,
    Role.TO.value: 2,
    Role.CC.value: 3,
    Role.ATTENDEE.value: 4,
    Role.BCC.value: 5,
}
_SENDER_RANKS: Final = 1  # ranks 0 and 1 (from, organizer) are the sender
_AUTOMATED_ARGS: Final = (
    _AUTOMATED,
    EvidenceKind.AUTOMATED,
    Strength.SET_ASIDE,
    (),
    "automated sender (no-reply, mailer daemon, bounce, list robot or "
    "calendar notification); set aside",
)


_NO_EVIDENCE: Final = (None,) * len(_ROLE_RANK)


class _Verdict(list[Evidence | None]):
    """What one address (canonical, or raw when invalid) contributes to a decision.

    Cached per index; its `Evidence` objects are built once per role and shared by every
    decision that uses them (they are frozen). The verdict *is* the list of those, by
    role rank (`verdict[rank]`, None until first used): one object per address rather
    than two, which matters to the cycle collector when millions of new addresses
    survive a cold batch."""

    __slots__ = ("accounts", "by_contact", "cls", "detail", "key", "kind", "strength")

    def __init__(  # noqa: PLR0917 - private, built in one place per kind of verdict
        self,
        key: str,
        cls: int,
        kind: EvidenceKind,
        strength: Strength,
        accounts: tuple[str, ...],
        detail: str,
    ) -> None:
        self.key = key
        self.cls = cls
        self.kind = kind
        self.strength = strength
        self.accounts = accounts
        self.detail = detail
        self.by_contact = kind is EvidenceKind.UNIQUE_CONTACT
        self.extend(_NO_EVIDENCE)

    def evidence(self, rank: int, role: Role) -> Evidence:
        found = self[rank]
        if found is None:
            # built without converters: every field is already of its declared type
            found = _new(Evidence)
            _set(found, "kind", self.kind)
            _set(found, "strength", self.strength)
            _set(found, "account_ids", self.accounts)
            _set(found, "address", self.key if len(self.key) <= 200 else self.key[:200] + "...")
            _set(found, "role", role)
            _set(found, "detail", self.detail)
            self[rank] = found
        return found


# --------------------------------------------------------------------------- index


class OwnershipView(Protocol):
    """What routing reads from domain ownership (`DomainOwnership` satisfies it):
    the claimed domains, and for each its status, claimants and owner."""

    @property
    def claims(self) -> Any: ...

    def owner(self, domain: str) -> str | None: ...

    def claimants(self, domain: str) -> Any: ...

    def status(self, domain: str) -> Any: ...


@attrs.frozen
class _DomainInfo:
    status: DomainStatus
    claimants: tuple[str, ...]
    owner: str | None  # the unique owner (UNIQUE) or the hierarchy owner (SHARED/CONFLICT)


_VerdictArgs = tuple[int, "EvidenceKind", "Strength", tuple[str, ...], str]


@attrs.frozen
class _HostFacts:
    domain: str  # registrable domain (the host itself when it has none)
    internal: bool
    automated: bool
    info: _DomainInfo | None
    personal: str | None  # "free", "disposable" or None
    # the verdict of any address at this host that is not a known contact (nor an
    # automated local part): everything but the address itself, built once per host
    fallback: _VerdictArgs


DEFAULT_CACHE_SIZE: Final = 1 << 21
"""Addresses (and hosts) whose verdicts a `RoutingIndex` keeps before starting afresh."""


def _neg_age(at: dt.datetime) -> dt.timedelta:
    return _EPOCH - at


_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _override_key(o: Override) -> tuple[Any, ...]:
    """Latest `at` first, then author, then reason, then the rest (total order)."""
    return (_neg_age(o.at), o.author, o.reason, o.account_ids, o.comm_id or "", o.thread_id or "")


def _keep_override(
    by_comm: dict[str, Override], by_thread: dict[str, Override], override: Override
) -> None:
    """File `override` under its communication or thread id, keeping the active one
    (latest `at`, then author, reason) when several target the same id."""
    table, target = (
        (by_comm, override.comm_id)
        if override.comm_id is not None
        else (by_thread, override.thread_id)
    )
    assert target is not None
    current = table.get(target)
    if current is None or _override_key(override) < _override_key(current):
        table[target] = override


class RoutingIndex:
    """Everything routing looks up, precomputed once: canonical email -> accounts of its
    contacts, registrable domain -> status, claimants and owner, internal and personal
    domains, partner accounts, account names and aliases, overrides by communication and
    by thread, and (when given) each shared contact's primary account.

    Build one with `RoutingIndex.build(...)`; it is immutable apart from an internal
    cache of per-address verdicts, and safe to share between calls.
    `rejections` lists the input records it set aside (duplicate account ids, contacts
    of unknown accounts, unparsable emails); `skipped` counts contacts without an email.
    """

    __slots__ = (
        "_by_canonical",
        "_cache_size",
        "_comm_overrides",
        "_contacts",
        "_domains",
        "_hosts",
        "_internal",
        "_internal_suffixes",
        "_memo",
        "_names",
        "_partners",
        "_patterns",
        "_personal",
        "_primary",
        "_thread_overrides",
        "accounts",
        "policy",
        "rejections",
        "skipped",
    )

    accounts: Mapping[str, Account]
    policy: RoutingPolicy
    rejections: tuple[Rejection, ...]
    skipped: Mapping[str, int]
    _by_canonical: dict[str, _Verdict]
    _cache_size: int
    _comm_overrides: dict[str, Override]
    _contacts: dict[str, tuple[str, ...]]
    _domains: dict[str, _DomainInfo]
    _hosts: dict[str, _HostFacts]
    _internal: frozenset[str]
    _internal_suffixes: tuple[str, ...]
    _memo: dict[str, _Verdict]
    _names: dict[str, tuple[str, ...]]
    _partners: frozenset[str]
    _patterns: dict[str, re.Pattern[str] | None]
    _personal: PersonalDomains
    _primary: dict[str, str]
    _thread_overrides: dict[str, Override]

    def __init__(self) -> None:
        raise TypeError("build a RoutingIndex with RoutingIndex.build(...)")

    @classmethod
    def build(
        cls,
        accounts: Iterable[Account],
        contacts: Iterable[Contact],
        ownership: OwnershipView,
        *,
        shared: Any = None,
        overrides: Iterable[Override] = (),
        policy: RoutingPolicy | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> RoutingIndex:
        """Precompute the look-ups routing needs.

        - `accounts`, `contacts`: the CRM's records (any order; duplicates of an account
          id keep one record, chosen deterministically, and reject the others).
        - `ownership`: the result of `resolve_domain_ownership`; its policy's internal and
          personal domains are used too.
        - `shared`: the shared-contacts layer's result (a list of `SharedContactGroup`),
          or a mapping canonical email -> primary account id. Only then does a shared
          contact's primary account break ties.
        - `overrides`: `Override`s by communication id or thread id; per target the
          latest `at` wins, ties broken on author, then reason.
        - `cache_size`: how many distinct addresses (and hosts) the index remembers the
          verdict of before it starts afresh (bounds memory in long-running processes).
        """
        if cache_size < 1:
            raise ConfigurationError(f"cache_size must be at least 1, not {cache_size}")
        if not all(hasattr(ownership, name) for name in ("claims", "owner", "status")):
            raise InvalidRecord(
                ownership, "expected a DomainOwnership (from resolve_domain_ownership)"
            )
        self = object.__new__(cls)
        policy = RoutingPolicy() if policy is None else policy
        rejections: list[Rejection] = []
        skipped: dict[str, int] = {}

        # accounts: one record per id, chosen by a total order over its fields
        by_id: dict[str, list[Account]] = {}
        for item in _objects(accounts):
            if not isinstance(item, Account):
                rejections.append(Rejection.of("accounts", "not an Account", item))
                continue
            account = item
            by_id.setdefault(account.id, []).append(account)
        chosen: dict[str, Account] = {}
        for account_id in sorted(by_id):
            records = sorted(set(by_id[account_id]), key=_account_order)
            chosen[account_id] = records[0]
            rejections.extend(
                Rejection.of("accounts", "duplicate account id; another record kept", a, a.id)
                for a in records[1:]
            )
        self.accounts = chosen
        self._partners = frozenset(a for a, r in chosen.items() if r.kind is AccountKind.PARTNER)
        self._names = {
            a: tuple(sorted({r.name, *r.aliases} - {""}, key=lambda n: (-len(n), n)))
            for a, r in chosen.items()
        }
        self._patterns = {}

        # contacts: canonical email -> sorted distinct account ids
        gathered: dict[str, set[str]] = {}
        for element in _objects(contacts):
            if not isinstance(element, Contact):
                rejections.append(Rejection.of("contacts", "not a Contact", element))
                continue
            contact = element
            if contact.account_id not in chosen:
                rejections.append(
                    Rejection.of(
                        "contacts",
                        f"unknown account id {contact.account_id!r}",
                        contact.email,
                        contact.id,
                    )
                )
                continue
            email = contact.email
            if email is None:
                skipped["contact without email"] = skipped.get("contact without email", 0) + 1
                continue
            if not isinstance(email, EmailAddress):
                rejections.append(
                    Rejection.of(
                        "contacts",
                        f"email is not valid: {contact.email_error}",
                        email,
                        contact.id,
                    )
                )
                continue
            key = f"{email.local}@{email.domain}"
            found = gathered.get(key)
            if found is None:
                gathered[key] = {contact.account_id}
            else:
                found.add(contact.account_id)
        self._contacts = {
            k: (next(iter(v)),) if len(v) == 1 else tuple(sorted(v)) for k, v in gathered.items()
        }

        # domains, from ownership
        self._domains = _domain_table(ownership)
        own_policy = getattr(ownership, "policy", None)
        internal: Iterable[str] = getattr(own_policy, "internal_domains", frozenset())
        self._internal = frozenset(internal)
        self._internal_suffixes = tuple(sorted("." + d for d in self._internal))
        personal = getattr(own_policy, "personal_domains", None)
        self._personal = personal if isinstance(personal, PersonalDomains) else (
            PersonalDomains.default()
        )

        # shared contacts' primary accounts
        self._primary = _primary_table(shared, rejections)

        # overrides
        comm_ov: dict[str, Override] = {}
        thread_ov: dict[str, Override] = {}
        for entry in _objects(overrides):
            if not isinstance(entry, Override):
                rejections.append(Rejection.of("overrides", "not an Override", entry))
                continue
            _keep_override(comm_ov, thread_ov, entry)
        self._comm_overrides = comm_ov
        self._thread_overrides = thread_ov

        self.policy = policy
        self.rejections = tuple(rejections)
        self.skipped = skipped
        self._memo = {}
        self._by_canonical = {}
        self._hosts = {}
        self._cache_size = cache_size
        return self

    def with_overrides(self, overrides: Iterable[Override]) -> RoutingIndex:
        """A copy of this index with `overrides` added to its own (sharing the rest)."""
        other = object.__new__(RoutingIndex)
        for name in RoutingIndex.__slots__:
            object.__setattr__(other, name, getattr(self, name))
        comm_ov = dict(self._comm_overrides)
        thread_ov = dict(self._thread_overrides)
        for override in overrides:
            if not isinstance(override, Override):
                raise InvalidRecord(override, "expected an Override")
            _keep_override(comm_ov, thread_ov, override)
        other._comm_overrides = comm_ov
        other._thread_overrides = thread_ov
        return other

    @property
    def internal_domains(self) -> frozenset[str]:
        """Our own domains (from the ownership policy): their people are internal."""
        return self._internal

    @property
    def partner_ids(self) -> frozenset[str]:
        """Ids of the accounts whose kind is `PARTNER`."""
        return self._partners

    def evidence_for(self, address: str, role: Role | str = Role.TO) -> Evidence:
        """The evidence one address gives on its own (as a participant in `role`)."""
        role = Role(role)
        return self._verdict(address).evidence(_ROLE_RANK[role.value], role)

    def __repr__(self) -> str:
        return (
            f"RoutingIndex(accounts={len(self.accounts)}, contact_emails={len(self._contacts)}, "
            f"domains={len(self._domains)}, overrides="
            f"{len(self._comm_overrides) + len(self._thread_overrides)})"
        )

    # ---------------------------------------------------------------- per address

    def _verdict(self, raw: str) -> _Verdict:
        found = self._memo.get(raw)
        if found is not None:
            return found
        verdict = self._classify(raw)
        memo = self._memo
        if len(memo) >= self._cache_size:
            memo.clear()
        memo[raw] = verdict
        return verdict

    def _classify(self, raw: str) -> _Verdict:
        parts = _parse_parts(raw)  # uncached: this index keeps its own memo per raw string
        if isinstance(parts, InvalidEmail):
            return _Verdict(
                raw,
                _INVALID,
                EvidenceKind.INVALID,
                Strength.SET_ASIDE,
                (),
                f"not a valid email address ({parts.reason}); set aside",
            )
        local, host = parts
        key = f"{local}@{host}"
        found = self._by_canonical.get(key)
        if found is None:
            found = self._classify_valid(key, local, host)
            by_canonical = self._by_canonical
            if len(by_canonical) >= self._cache_size:
                by_canonical.clear()
            by_canonical[key] = found
        return found

    def _host(self, host: str) -> _HostFacts:
        """What routing needs to know about one host, computed once per index."""
        found = self._hosts.get(host)
        if found is None:
            try:
                domain = _registrable_of_canonical_host(host)
            except InvalidDomain:
                domain = host
            internal = bool(self._internal) and (
                host in self._internal or host.endswith(self._internal_suffixes)
            )
            automated = host in _AUTOMATED_HOSTS or host.endswith(_AUTOMATED_HOST_SUFFIXES)
            info = self._domains.get(domain)
            personal = None if info is not None else _personal_kind(self._personal, host, domain)
            fallback = self._host_verdict(domain, internal, automated, info, personal)
            found = _HostFacts(domain, internal, automated, info, personal, fallback)
            hosts = self._hosts
            if len(hosts) >= self._cache_size:
                hosts.clear()
            hosts[host] = found
        return found

    def _host_verdict(
        self,
        domain: str,
        internal: bool,
        automated: bool,
        info: _DomainInfo | None,
        personal: str | None,
    ) -> _VerdictArgs:
        """The verdict (less the address) of an address at a host when the address is not
        a known contact: internal, automated host, domain owner, shared domain, personal
        mail domain or unknown domain, in the order of the rules."""
        if internal:
            return (
                _INTERNAL,
                EvidenceKind.INTERNAL,
                Strength.SET_ASIDE,
                (),
                f"internal: {domain} is one of our own domains; set aside",
            )
        if automated:
            return _AUTOMATED_ARGS
        if info is not None:
            if info.status is DomainStatus.UNIQUE and info.owner is not None:
                owner = info.owner
                if owner in self._partners:
                    return (
                        _STRONG,
                        EvidenceKind.PARTNER,
                        Strength.STRONG,
                        (owner,),
                        f"not a known contact, but {domain} is owned by partner account "
                        f"{owner} alone",
                    )
                return (
                    _STRONG,
                    EvidenceKind.DOMAIN_OWNER,
                    Strength.STRONG,
                    (owner,),
                    f"not a known contact, but {domain} is owned by {owner} alone (domain sync)",
                )
            between = ", ".join(info.claimants)
            if info.owner is not None:
                return (
                    _WEAK,
                    EvidenceKind.HIERARCHY_OWNER,
                    Strength.WEAK,
                    (info.owner,),
                    f"not a known contact; {domain} is {info.status.value} between {between}, "
                    f"whose common parent {info.owner} owns it for unknown addresses",
                )
            if info.claimants:
                return (
                    _WEAK,
                    EvidenceKind.SHARED_DOMAIN,
                    Strength.WEAK,
                    info.claimants,
                    f"not a known contact; {domain} is {info.status.value} between {between}",
                )
        if personal is not None:
            return (
                _NONE,
                EvidenceKind.PERSONAL,
                Strength.NONE,
                (),
                f"not a known contact; {domain} is a personal ({personal}) mail domain",
            )
        return (
            _NONE,
            EvidenceKind.UNKNOWN_DOMAIN,
            Strength.NONE,
            (),
            f"not a known contact; no account owns {domain}",
        )

    def _classify_valid(self, key: str, local: str, host: str) -> _Verdict:
        facts = self._host(host)
        if facts.internal or facts.automated:  # the host decides, whoever the address is
            return _Verdict(key, *facts.fallback)
        if _AUTOMATED_LOCAL.fullmatch(local) is not None:
            return _Verdict(key, *_AUTOMATED_ARGS)
        accounts = self._contacts.get(key)
        if accounts is not None:
            if len(accounts) == 1:
                (account_id,) = accounts
                if account_id in self._partners:
                    return _Verdict(
                        key,
                        _STRONG,
                        EvidenceKind.PARTNER,
                        Strength.STRONG,
                        accounts,
                        f"known contact of partner account {account_id} only",
                    )
                return _Verdict(
                    key,
                    _STRONG,
                    EvidenceKind.UNIQUE_CONTACT,
                    Strength.STRONG,
                    accounts,
                    f"known contact of {account_id} only",
                )
            return _Verdict(
                key,
                _WEAK,
                EvidenceKind.SHARED_CONTACT,
                Strength.WEAK,
                accounts,
                f"known contact of several accounts: {', '.join(accounts)}",
            )
        return _Verdict(key, *facts.fallback)

    # ---------------------------------------------------------------- per account

    def _mention(self, account_id: str, subject: str) -> tuple[int, int, str] | None:
        """The longest account name or alias that `subject` mentions as whole words
        (case-insensitive), as `(start, end, text)`; the leftmost among equals."""
        patterns = self._patterns
        if account_id not in patterns:
            names = self._names.get(account_id, ())
            patterns[account_id] = (
                re.compile(
                    r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)",
                    re.IGNORECASE,
                )
                if names
                else None
            )
        pattern = patterns[account_id]
        if pattern is None:
            return None
        best: tuple[int, int, str] | None = None
        for match in pattern.finditer(subject):
            start, end = match.span()
            if best is None or end - start > best[1] - best[0]:
                best = (start, end, match.group(0))
        return best

    def _override(self, comm: Communication) -> Override | None:
        by_comm = self._comm_overrides.get(comm.id) if self._comm_overrides else None
        by_thread = (
            self._thread_overrides.get(comm.thread_id)
            if self._thread_overrides and comm.thread_id is not None
            else None
        )
        if by_comm is None:
            return by_thread
        if by_thread is None:
            return by_comm
        return min(by_comm, by_thread, key=_override_key)


def _personal_kind(personal: PersonalDomains, host: str, domain: str) -> str | None:
    """`personal.kind(host)` for a canonical host whose registrable domain is `domain`,
    from the two sets directly (a subclass of `PersonalDomains` keeps its own method)."""
    if type(personal) is not PersonalDomains:
        return personal.kind(host)
    for candidate in (host, domain):
        if candidate in personal.free:
            return "free"
        if candidate in personal.disposable:
            return "disposable"
    return None


def _objects(items: Iterable[object]) -> Iterable[object]:
    """The items as plain objects, so that type checks on them stay meaningful."""
    return items


def _account_order(a: Account) -> tuple[Any, ...]:
    return (
        a.name,
        a.kind.value,
        a.status.value,
        a.parent_id or "",
        tuple(sorted(a.domains)),
        tuple(sorted(a.aliases)),
    )


def _claimed_domains(ownership: OwnershipView) -> set[str]:
    claims = ownership.claims
    if isinstance(claims, Mapping):
        return {str(d) for d in claims}
    return {str(getattr(c, "domain", c)) for c in claims}


def _domain_table(ownership: OwnershipView) -> dict[str, _DomainInfo]:
    table: dict[str, _DomainInfo] = {}
    entries = getattr(ownership, "domains", None)
    if isinstance(entries, Mapping):  # DomainOwnership: one entry per registrable domain
        for domain, entry in entries.items():
            status = DomainStatus(entry.status)
            claimants = tuple(sorted(entry.claimants))
            found: str | None = (
                entry.owner if status is DomainStatus.UNIQUE else entry.hierarchy_owner
            )
            if status is DomainStatus.UNIQUE and found is None and len(claimants) == 1:
                found = claimants[0]
            table[domain] = _DomainInfo(status, claimants, found)
        return table
    hierarchy = getattr(ownership, "hierarchy_owner", None)
    for domain in sorted(_claimed_domains(ownership)):
        status = DomainStatus(ownership.status(domain))
        claimants = tuple(sorted(set(ownership.claimants(domain))))
        owner: str | None
        if status is DomainStatus.UNIQUE:
            owner = ownership.owner(domain)
            if owner is None and len(claimants) == 1:
                owner = claimants[0]
        elif callable(hierarchy):
            owner = hierarchy(domain)
        else:
            owner = ownership.owner(domain)
        try:
            key = registrable_domain(domain)
        except InvalidDomain:
            key = domain
        table[key] = _DomainInfo(status, claimants, owner)
    return table


def _primary_table(shared: Any, rejections: list[Rejection]) -> dict[str, str]:
    if shared is None:
        return {}
    mapping: Mapping[Any, Any] = (
        shared if isinstance(shared, Mapping) else primary_accounts(shared)
    )
    table: dict[str, str] = {}
    for email, account_id in sorted(mapping.items(), key=lambda kv: (str(kv[0]), str(kv[1]))):
        try:
            address = email if isinstance(email, EmailAddress) else EmailAddress.parse(email)
        except InvalidEmail as exc:
            rejections.append(Rejection.of("shared", f"email is not valid: {exc.reason}", email))
            continue
        table.setdefault(f"{address.local}@{address.domain}", str(account_id))
    return table


# --------------------------------------------------------------------------- decisions


def _rank(accounts: Iterable[str], counts: Mapping[str, int], senders: set[str]) -> list[str]:
    """Most participants first, then the sender's accounts, then id."""
    found = list(accounts)
    if len(found) < 2:
        return found
    return sorted(found, key=lambda a: (-counts.get(a, 0), a not in senders, a))


def _decision(
    comm: Communication,
    status: RouteStatus,
    rule: RoutingRule,
    evidence: tuple[Evidence, ...],
    *,
    account_ids: tuple[str, ...] = (),
    candidates: tuple[str, ...] = (),
    reason: str = "",
) -> RoutingDecision:
    """A `RoutingDecision` built without its converters and validators: every value here
    comes from a validated `Communication` or from the router itself, already of the
    right type (the hot path; `RoutingDecision(...)` stays the checked constructor)."""
    d = _new(RoutingDecision)
    _set(d, "comm_id", comm.id)
    _set(d, "status", status)
    _set(d, "account_ids", account_ids)
    _set(d, "candidates", candidates)
    _set(d, "evidence", evidence)
    value = rule._value_
    _set(d, "rule", value)
    _set(d, "confidence", ROUTING_CONFIDENCE[value])
    _set(d, "occurred_at", comm.occurred_at)
    _set(d, "thread_id", comm.thread_id)
    _set(d, "kind", comm.kind)
    _set(d, "subject", comm.subject)
    _set(d, "reason", reason)
    return d


def _override_evidence(o: Override) -> Evidence:
    target = f"communication {o.comm_id}" if o.comm_id is not None else f"thread {o.thread_id}"
    return Evidence(
        kind=EvidenceKind.OVERRIDE,
        strength=Strength.STRONG,
        account_ids=o.account_ids,
        detail=(
            f"override of {target} by {o.author} at {o.at.isoformat()}: {o.reason} "
            f"(routes it to {', '.join(o.account_ids)})"
        ),
    )


def _decide(
    comm: Communication,
    index: RoutingIndex,
    memory: dict[str, frozenset[str]] | None,
) -> RoutingDecision:
    """Route `comm`; with a batch's `memory`, use and update its thread memory."""
    decision, learned = _judge(comm, index, memory)
    if memory is not None and learned and comm.thread_id is not None:
        memory[comm.thread_id] = frozenset(learned)
    if index._comm_overrides or index._thread_overrides:
        override = index._override(comm)
        if override is not None:
            # the override decides; thread memory still learns what the evidence said,
            # so an override by id changes no other decision (override the thread id
            # to correct a whole thread)
            return _decision(
                comm,
                RouteStatus.ROUTED,
                RoutingRule.OVERRIDE,
                (_override_evidence(override), *_participant_evidence(decision.evidence)),
                account_ids=override.account_ids,
            )
    return decision


def _participant_evidence(evidence: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    """The evidence of the participants alone (without tie-breaks)."""
    return tuple(e for e in evidence if e.strength is not Strength.TIEBREAK)


def _judge(
    comm: Communication,
    index: RoutingIndex,
    memory: Mapping[str, frozenset[str]] | None,
) -> tuple[RoutingDecision, tuple[str, ...] | None]:
    """The decision, and what evidence alone decided (thread memory learns that)."""
    # one entry per distinct address, keeping its most senior role; each address's
    # class is counted once, when it is first seen
    best: dict[str, tuple[int, str, _Verdict, Role]] = {}
    sender_accounts: set[str] = set()
    strong: dict[str, int] = {}
    by_contact: set[str] = set()
    weak: list[_Verdict] = []
    external = internal = invalid = 0
    memo_get = index._memo.get
    for participant in comm.participants:
        role = participant.role
        rank = _ROLE_RANK[role._value_]
        raw = participant.address
        verdict = memo_get(raw)
        if verdict is None:
            verdict = index._verdict(raw)
        key = verdict.key
        current = best.get(key)
        if current is None:
            best[key] = (rank, key, verdict, role)
            cls = verdict.cls
            if cls == _STRONG:
                external += 1
                for account_id in verdict.accounts:
                    strong[account_id] = strong.get(account_id, 0) + 1
                if verdict.by_contact:
                    by_contact.update(verdict.accounts)
            elif cls == _WEAK:
                external += 1
                weak.append(verdict)
            elif cls == _NONE:
                external += 1
            elif cls == _INTERNAL:
                internal += 1
            elif cls == _INVALID:
                invalid += 1
        elif rank < current[0]:
            best[key] = (rank, key, verdict, role)
        if rank <= _SENDER_RANKS and verdict.accounts:
            sender_accounts.update(verdict.accounts)
    # (rank, key) is unique per entry: the sort never compares verdicts
    entries = sorted(best.values()) if len(best) > 1 else list(best.values())
    evidence = tuple([v[r] or v.evidence(r, role) for r, _, v, role in entries])

    if not entries:
        return _decision(
            comm, RouteStatus.REJECTED, RoutingRule.REJECTED, evidence,
            reason="the communication has no participants",
        ), None

    if invalid == len(entries):
        return _decision(
            comm, RouteStatus.REJECTED, RoutingRule.REJECTED, evidence,
            reason="no participant has a valid email address",
        ), None

    if strong:
        partners = index._partners
        if len(strong) == 1:  # the common case: one account, nothing to rank
            (only,) = strong
            if only not in partners:
                single: tuple[str, ...] = (only,)
                rule = (
                    RoutingRule.UNIQUE_CONTACT if only in by_contact else RoutingRule.DOMAIN_SYNC
                )
                return _decision(
                    comm, RouteStatus.ROUTED, rule, evidence, account_ids=single
                ), single
        if partners:
            customers = [a for a in strong if a not in partners]
            associated = _rank([a for a in strong if a in partners], strong, sender_accounts)
        else:
            customers, associated = list(strong), []
        if customers:
            ranked = _rank(customers, strong, sender_accounts)
            rule = (
                RoutingRule.UNIQUE_CONTACT if ranked[0] in by_contact else RoutingRule.DOMAIN_SYNC
            )
            account_ids = (*ranked, *associated)
            return _decision(
                comm, RouteStatus.ROUTED, rule, evidence, account_ids=account_ids
            ), account_ids
        # partner-only strong evidence: a customer joins when the weak evidence resolves
        partner_ids = tuple(associated)
        if weak:
            resolved = _resolve_weak(
                comm, index, memory, weak=weak, sender_accounts=sender_accounts, evidence=evidence
            )
            if resolved.account_ids and resolved.account_ids[0] not in partners:
                account_ids = (resolved.account_ids[0], *partner_ids)
                by_evidence = resolved.rule in _EVIDENCE_RULES
                return attrs.evolve(resolved, account_ids=account_ids), (
                    account_ids if by_evidence else partner_ids
                )
            note = (
                "the customer candidates "
                + ", ".join(resolved.candidates)
                + " could not be told apart"
                if resolved.candidates
                else ""
            )
            return _decision(
                comm, RouteStatus.ROUTED, RoutingRule.PARTNER, resolved.evidence,
                account_ids=partner_ids,
                candidates=resolved.candidates,
                reason=note,
            ), partner_ids
        return _decision(
            comm, RouteStatus.ROUTED, RoutingRule.PARTNER, evidence, account_ids=partner_ids
        ), partner_ids
    if weak:
        resolved = _resolve_weak(
            comm, index, memory, weak=weak, sender_accounts=sender_accounts, evidence=evidence
        )
        return resolved, resolved.account_ids if resolved.rule in _EVIDENCE_RULES else None
    if external:
        return _decision(comm, RouteStatus.UNROUTED, RoutingRule.NO_EVIDENCE, evidence), None
    if internal:
        return _decision(comm, RouteStatus.INTERNAL, RoutingRule.INTERNAL_ONLY, evidence), None
    return _decision(comm, RouteStatus.UNROUTED, RoutingRule.AUTOMATED_ONLY, evidence), None


def _verdict_key(verdict: _Verdict) -> str:
    return verdict.key


def _resolve_weak(
    comm: Communication,
    index: RoutingIndex,
    memory: Mapping[str, frozenset[str]] | None,
    *,
    weak: list[_Verdict],
    sender_accounts: set[str],
    evidence: tuple[Evidence, ...],
) -> RoutingDecision:
    """Intersect the weak candidate sets, then break ties: thread memory, the shared
    contact's primary account, account names in the subject; else the policy."""
    weak = sorted(weak, key=_verdict_key)  # participants' order must not matter
    counts: dict[str, int] = {}
    candidates = set(weak[0].accounts)
    union = set(candidates)
    for verdict in weak:
        for account_id in verdict.accounts:
            counts[account_id] = counts.get(account_id, 0) + 1
    for verdict in weak[1:]:
        candidates.intersection_update(verdict.accounts)
        union.update(verdict.accounts)
    if len(candidates) == 1:
        rule = (
            RoutingRule.HIERARCHY_OWNER
            if all(v.kind is EvidenceKind.HIERARCHY_OWNER for v in weak)
            else RoutingRule.WEAK_INTERSECTION
        )
        return _decision(
            comm, RouteStatus.ROUTED, rule, evidence, account_ids=tuple(candidates)
        )
    if not candidates:
        candidates = union
    extra: list[Evidence] = []

    # 1. thread memory
    remembered = memory.get(comm.thread_id) if memory and comm.thread_id is not None else None
    if remembered:
        hit = candidates & remembered
        if hit:
            extra.append(
                Evidence(
                    kind=EvidenceKind.THREAD_MEMORY,
                    strength=Strength.TIEBREAK,
                    account_ids=tuple(sorted(hit)),
                    detail=f"an earlier communication of thread {comm.thread_id} went to "
                    + ", ".join(sorted(remembered)),
                )
            )
            if len(hit) == 1:
                return _decision(
                    comm, RouteStatus.ROUTED, RoutingRule.THREAD_MEMORY, (*evidence, *extra),
                    account_ids=tuple(hit),
                )
            candidates = hit

    # 2. the shared contact's primary account (only when `shared=` was given)
    primary_of = index._primary
    if primary_of:
        hit = set()
        for verdict in weak:
            if verdict.kind is EvidenceKind.SHARED_CONTACT:
                primary = primary_of.get(verdict.key)
                if primary is not None and primary in candidates:
                    account_id = primary
                    hit.add(account_id)
                    extra.append(
                        Evidence(
                            kind=EvidenceKind.PRIMARY_ACCOUNT,
                            strength=Strength.TIEBREAK,
                            account_ids=(account_id,),
                            address=verdict.key,
                            detail=f"{account_id} is the primary account of this shared contact",
                        )
                    )
        if hit:
            if len(hit) == 1:
                return _decision(
                    comm, RouteStatus.ROUTED, RoutingRule.SHARED_PRIMARY, (*evidence, *extra),
                    account_ids=tuple(hit),
                )
            candidates = hit

    # 3. account names and aliases in the subject
    subject = comm.subject
    if subject:
        spans: dict[str, tuple[int, int, str]] = {}
        for account_id in sorted(candidates):
            found = index._mention(account_id, subject)
            if found is not None:
                spans[account_id] = found
        # a name inside a longer name of another candidate ("Initech" in "Initech 2") drops
        mentioned = {
            account_id: text
            for account_id, (start, end, text) in spans.items()
            if not any(
                s2 <= start and end <= e2 and e2 - s2 > end - start
                for other, (s2, e2, _) in spans.items()
                if other != account_id
            )
        }
        if mentioned:
            extra.extend(
                Evidence(
                    kind=EvidenceKind.SUBJECT_ALIAS,
                    strength=Strength.TIEBREAK,
                    account_ids=(account_id,),
                    detail=f"the subject mentions {name!r}, a name of {account_id}",
                )
                for account_id, name in mentioned.items()
            )
            if len(mentioned) == 1:
                return _decision(
                    comm, RouteStatus.ROUTED, RoutingRule.SUBJECT_ALIAS, (*evidence, *extra),
                    account_ids=tuple(mentioned),
                )
            candidates = set(mentioned)

    ranked = tuple(_rank(candidates, counts, sender_accounts))
    ambiguous = index.policy.ambiguous
    if ambiguous is AmbiguityResolution.AMBIGUOUS:
        return _decision(
            comm, RouteStatus.AMBIGUOUS, RoutingRule.AMBIGUOUS, (*evidence, *extra),
            candidates=ranked,
        )
    chosen = ranked if ambiguous is AmbiguityResolution.ALL else ranked[:1]
    rule = RoutingRule.POLICY_ALL if ambiguous is AmbiguityResolution.ALL else (
        RoutingRule.POLICY_PRIMARY
    )
    extra.append(
        Evidence(
            kind=EvidenceKind.POLICY,
            strength=Strength.TIEBREAK,
            account_ids=chosen,
            detail=f"unresolved tie between {', '.join(ranked)}; RoutingPolicy(ambiguous="
            f"{ambiguous.value!r}) gives it to {', '.join(chosen)}",
        )
    )
    return _decision(
        comm, RouteStatus.ROUTED, rule, (*evidence, *extra),
        account_ids=chosen, candidates=ranked,
    )


def _rejected_item(position: int, item: object, reason: str) -> RoutingDecision:
    comm_id = getattr(item, "id", None)
    if not isinstance(comm_id, str) or not comm_id:
        comm_id = f"#{position}"
    return RoutingDecision(
        comm_id=comm_id,
        status=RouteStatus.REJECTED,
        rule=RoutingRule.REJECTED.value,
        confidence=0.0,
        reason=reason,
    )


def route(comm: Communication, index: RoutingIndex) -> RoutingDecision:
    """Decide which account(s) `comm` belongs to, with evidence (see docs/routing.md).

    A communication that cannot be routed at all (no participants, no valid address)
    gives a `REJECTED` decision with a reason; anything that is not a `Communication`
    raises `InvalidRecord`. No thread memory: use `route_many` for a batch.
    """
    if not isinstance(comm, Communication):
        raise InvalidRecord(comm, "expected a Communication")
    if not isinstance(index, RoutingIndex):
        raise InvalidRecord(index, "expected a RoutingIndex (RoutingIndex.build(...))")
    return _decide(comm, index, None)


def route_many(comms: Iterable[Communication], index: RoutingIndex) -> Iterator[RoutingDecision]:
    """Route a batch lazily, one decision per item, in input order; never raises for an
    item (a bad one gives a `REJECTED` decision with a reason).

    Thread memory: for each thread id, the batch remembers what *evidence alone*
    decided for the latest communication of the thread (in input order) that evidence
    decided: the accounts of strong evidence (customers and associated partners; the
    partners alone when only they had strong evidence), or of weak evidence that pointed
    at one account (`weak_intersection`, `hierarchy_owner`). Tie-breaks and policy
    fallbacks teach it nothing, so a guess never propagates; an overridden communication
    teaches it what its evidence said, so an override changes only the decisions it
    targets (override the thread id to correct a whole thread). A later tie in the
    thread is broken towards the remembered accounts. Feed communications in time order.
    """
    if not isinstance(index, RoutingIndex):
        raise InvalidRecord(index, "expected a RoutingIndex (RoutingIndex.build(...))")
    memory: dict[str, frozenset[str]] = {}
    for position, item in enumerate(_objects(comms)):
        if not isinstance(item, Communication):
            yield _rejected_item(position, item, f"not a Communication: {type(item).__name__}")
            continue
        comm = item
        try:
            decision = _decide(comm, index, memory)
        except Exception as exc:  # noqa: BLE001 - a batch never stops on one item
            decision = _rejected_item(position, comm, f"could not be routed: {exc}")
        yield decision
