"""`RoutingIndex`: the look-ups routing needs, precomputed once, and per-address verdicts."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol

import attrs

from stakeholder._display import routing_index_html
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
    Communication,
    Contact,
    Rejection,
    Role,
)
from stakeholder._ownership import (
    DomainStatus,
    OwnershipPolicy,
    _registrable_of_canonical_host,
)
from stakeholder._ownership._hosts import (
    labels,
    personal_match,
    subtree_match,
)
from stakeholder._routing._addresses import (
    _AUTOMATED_ARGS,
    _AUTOMATED_HOST_SUFFIXES,
    _AUTOMATED_HOSTS,
    _AUTOMATED_LOCAL,
    _BROAD,
    _CONTACT,
    _INTERNAL,
    _INVALID,
    _NONE,
    _ROLE_RANK,
    _STRONG,
    _WEAK,
    _evidence_of,
    _Verdict,
    _verdict_args,
    _VerdictArgs,
)
from stakeholder._routing._overrides import _override_key, _Overrides
from stakeholder._routing._values import Evidence, EvidenceKind, Override, RoutingPolicy, Strength
from stakeholder._shared import primary_accounts


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
    too_broad: bool = False  # more claimants than the ownership policy's limit
    contact_sync: bool = False  # its owner was switched to contact sync by hand
    domain_sync: bool = False  # several claimants; `owner` put in domain sync by hand


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


_UNIQUE_CONTACT: Final = EvidenceKind.UNIQUE_CONTACT.value
_STRONG_VALUE: Final = Strength.STRONG.value
# Every local part `_AUTOMATED_LOCAL` matches holds one of these words (both are
# case-sensitive): searching for them first spares most addresses the pattern's
# backtracking alternatives (tests/test_routing_properties.py checks the claim).
_AUTOMATED_WORDS: Final = re.compile(
    "reply|daemon|postmaster|delivery|bounce|calendar|notification|auto|owner|request"
)


_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_HOST_RE: Final = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f]")

DEFAULT_CACHE_SIZE: Final = 1 << 15
"""Addresses (and hosts, and each address's evidence per role) whose verdicts a
`RoutingIndex` keeps (32,768; about 0.4 KB an address with its cache entries, so some
13 MB for a full cache): when full, the older half is forgotten."""


def _make_room(cache: dict[str, Any], size: int) -> None:
    """Forget the older half of a full `cache` (insertion order): an address seen again
    since it was first cached is still classified again, but a working set smaller than
    half the cache stays warm, which starting afresh would not keep."""
    for key in list(itertools.islice(cache, max(1, size // 2))):
        del cache[key]


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
        "_bulk_limit",
        "_by_canonical",
        "_cache_size",
        "_comm_overrides",
        "_contact_details",
        "_contacts",
        "_domains",
        "_evidence",
        "_excluded_addresses",
        "_has_sticky",
        "_hosts",
        "_internal",
        "_internal_suffixes",
        "_memo",
        "_names",
        "_overrides",
        "_own_policy",
        "_partners",
        "_patterns",
        "_personal",
        "_primary",
        "_sticky_evidence",
        "_sticky_memo",
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
    _excluded_addresses: frozenset[str]
    _has_sticky: bool
    _own_policy: OwnershipPolicy | None
    _overrides: _Overrides
    _sticky_memo: dict[tuple[str, int], _Verdict]
    _bulk_limit: int
    # per role rank: canonical address (a sticky reroute's: its verdict) -> evidence
    _evidence: tuple[dict[str, Evidence], ...]
    _sticky_evidence: tuple[dict[_Verdict, Evidence], ...]
    _contacts: dict[str, tuple[str, ...]]
    _contact_details: dict[str, str]
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

    _repr_html_ = routing_index_html

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
        - `cache_size` (`DEFAULT_CACHE_SIZE`, 32,768): how many distinct addresses (and
          hosts) the index remembers the verdict of; when full it forgets the older half
          (bounds memory in long-running processes: about 0.4 KB per address). Raise it
          for a warm index over a larger set of addresses.
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
        self._own_policy = own_policy if isinstance(own_policy, OwnershipPolicy) else None
        self._excluded_addresses = policy.excluded_addresses | getattr(
            own_policy, "excluded_addresses", frozenset()
        )
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
        filed = _Overrides()
        for entry in _objects(overrides):
            if not isinstance(entry, Override):
                rejections.append(Rejection.of("overrides", "not an Override", entry))
                continue
            filed.add(entry)
        self._set_overrides(filed)

        self.policy = policy
        self.rejections = tuple(rejections)
        self.skipped = skipped
        self._memo = {}
        self._by_canonical = {}
        self._hosts = {}
        self._evidence = tuple({} for _ in _ROLE_RANK)
        self._contact_details = {}
        self._cache_size = cache_size
        self._bulk_limit = policy.bulk_account_limit if policy.detect_bulk else -1
        return self

    def _set_overrides(self, filed: _Overrides) -> None:
        self._overrides = filed
        self._comm_overrides = filed.by_comm
        self._thread_overrides = filed.by_thread
        self._sticky_memo = {}
        self._sticky_evidence = tuple({} for _ in _ROLE_RANK)
        self._has_sticky = bool(filed.by_address or filed.by_host)

    def with_overrides(self, overrides: Iterable[Override]) -> RoutingIndex:
        """A copy of this index with `overrides` added to its own (sharing the rest)."""
        other = object.__new__(RoutingIndex)
        for name in RoutingIndex.__slots__:
            object.__setattr__(other, name, getattr(self, name))
        filed = self._overrides.copy()
        for override in overrides:
            if not isinstance(override, Override):
                raise InvalidRecord(override, "expected an Override")
            filed.add(override)
        other._set_overrides(filed)
        return other

    @property
    def has_sticky_overrides(self) -> bool:
        """Whether any override reroutes an address or a host."""
        return self._has_sticky

    def _sticky(self, verdict: _Verdict, at: dt.datetime) -> _Verdict | None:
        """The verdict of a sticky reroute in force for this address at `at`, if any."""
        key, cls, _, _, _, detail = verdict
        if cls == _INVALID:
            return None
        override = self._overrides.sticky(key, at)
        if override is None:
            return None
        memo_key = (key, id(override))
        found = self._sticky_memo.get(memo_key)
        if found is None:
            target = override.address or f"every address at {override.host}"
            found = (
                key,
                _STRONG,
                EvidenceKind.OVERRIDE.value,
                Strength.STRONG.value,
                override.account_ids,
                f"rerouted by {override.author} from {override.at.isoformat()} "
                f"({target}): {override.reason} (routes it to "
                f"{', '.join(override.account_ids)}; before it: {detail})",
            )
            self._sticky_memo[memo_key] = found
        return found

    def _forget(self) -> None:
        """Empty every per-address and per-host cache (benchmarks measure a cold index)."""
        caches: list[dict[Any, Any]] = [
            self._memo, self._by_canonical, self._hosts, self._sticky_memo,
            *self._evidence, *self._sticky_evidence,
        ]
        for cache in caches:
            cache.clear()

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
        return _evidence_of(self._verdict(address), Role(role))

    def __repr__(self) -> str:
        return (
            f"RoutingIndex(accounts={len(self.accounts)}, contact_emails={len(self._contacts)}, "
            f"domains={len(self._domains)}, overrides={len(self._overrides)})"
        )

    # ---------------------------------------------------------------- per address

    def _verdict(self, raw: str) -> _Verdict:
        found = self._memo.get(raw)
        if found is not None:
            return found
        return self._remember(raw)

    def _remember(self, raw: str) -> _Verdict:
        """Classify an address the memo does not hold, and memoise it (bounded)."""
        verdict = self._classify(raw)
        memo = self._memo
        if len(memo) >= self._cache_size:
            _make_room(memo, self._cache_size)
        memo[raw] = verdict
        return verdict

    def _classify(self, raw: str) -> _Verdict:
        parts = _parse_parts(raw)  # uncached: this index keeps its own memo per raw string
        if isinstance(parts, InvalidEmail):
            inside = self._malformed_internal(raw, parts.reason)
            if inside is not None:
                return inside
            return (
                raw,
                _INVALID,
                EvidenceKind.INVALID.value,
                Strength.SET_ASIDE.value,
                (),
                f"not a valid email address ({parts.reason}); set aside",
            )
        local, host = parts
        key = f"{local}@{host}"
        if key == raw:
            # already canonical (most addresses): the memo keeps its verdict under the
            # same string, so the canonical map need not; other spellings look there
            found = self._by_canonical.get(key)
            return found if found is not None else self._classify_valid(raw, local, host)
        found = self._by_canonical.get(key) or self._memo.get(key)
        if found is None:
            found = self._classify_valid(key, local, host)
            by_canonical = self._by_canonical
            if len(by_canonical) >= self._cache_size:
                _make_room(by_canonical, self._cache_size)
            by_canonical[key] = found
        return found

    def _malformed_internal(self, raw: str, reason: str) -> _Verdict | None:
        """The INTERNAL verdict of an address that does not parse but whose host (the
        part after the last `@`) is one of our own domains or in its subtree
        (`m..schmidt@enron.com`): our own people are internal whatever their mail
        system lets through. None for anything else (control characters included)."""
        if not self._internal:
            return None
        text = raw.strip()
        if text.endswith(">") and "<" in text:
            text = text[text.rindex("<") + 1 : -1].strip()
        local, sep, host = text.rpartition("@")
        host = host.lower().rstrip(".")
        if (
            not sep
            or not local
            or _HOST_RE.fullmatch(host) is None
            or _CONTROL_RE.search(text) is not None
            or not self._is_internal(host)
        ):
            return None
        return (
            f"{local}@{host}",
            _INTERNAL,
            EvidenceKind.INTERNAL.value,
            Strength.SET_ASIDE.value,
            (),
            f"internal: {host} is one of our own domains; malformed local part "
            f"({reason}); set aside",
        )

    def _is_internal(self, host: str) -> bool:
        """Whether a canonical host is one of our own domains (or in its subtree)."""
        own = self._own_policy
        if own is not None and own.fold_to_registrable:
            return own.internal_match(host) is not None
        # an entry covers its own subtree
        return bool(self._internal) and (
            host in self._internal or host.endswith(self._internal_suffixes)
        )

    def _host(self, host: str) -> _HostFacts:
        """What routing needs to know about one host, computed once per index."""
        found = self._hosts.get(host)
        if found is None:
            found = self._host_facts(host)
            hosts = self._hosts
            if len(hosts) >= self._cache_size:
                _make_room(hosts, self._cache_size)
            hosts[host] = found
        return found

    def _host_facts(self, host: str) -> _HostFacts:
        """Exclusions come first: a claimed host counts only when it is at least as
        specific as the personal-list entry or exclusion that covers the address's host
        (`alum.mit.edu` on a list beats `mit.edu` claimed; `berlin.de` declared and
        listed stays claimed)."""
        try:
            reg = _registrable_of_canonical_host(host)
        except InvalidDomain:
            reg = host
        internal = self._is_internal(host)
        automated = host in _AUTOMATED_HOSTS or host.endswith(_AUTOMATED_HOST_SUFFIXES)
        key = subtree_match(host, self._domains) if self._domains else None
        info = None if key is None else self._domains[key]
        personal_at = personal_match(self._personal, host, reg)
        excluded = self._exclusion(host)
        excluded_at = None if excluded is None else (host if "*" in excluded else excluded)
        if key is not None and any(
            m is not None and labels(m) > labels(key) for m in (personal_at, excluded_at)
        ):
            info = None  # a more specific list entry or exclusion covers this host
        domain = reg if key is None else key
        personal = None
        if info is None and excluded is None and personal_at is not None:
            personal = _personal_kind(self._personal, host, reg)
        fallback = self._host_verdict(
            domain,
            internal,
            automated,
            info,
            personal,
            excluded=None if info else excluded,
            host=host,
        )
        return _HostFacts(domain, internal, automated, info, personal, fallback)

    def _exclusion(self, host: str) -> str | None:
        """The exclusion (ownership policy's, then routing policy's) covering `host`."""
        own = self._own_policy
        found = None if own is None else own.exclusion(host)
        if found is None:
            found = subtree_match(host, self.policy.excluded_hosts)
        return found

    def _host_verdict(
        self,
        domain: str,
        internal: bool,
        automated: bool,
        info: _DomainInfo | None,
        personal: str | None,
        *,
        excluded: str | None = None,
        host: str = "",
    ) -> _VerdictArgs:
        """The verdict (less the address) of an address at a host when the address is not
        a known contact: internal, automated host, domain owner, shared domain, personal
        mail domain or unknown domain, in the order of the rules."""
        if internal:
            return _verdict_args(
                _INTERNAL,
                EvidenceKind.INTERNAL,
                Strength.SET_ASIDE,
                (),
                f"internal: {domain} is one of our own domains; set aside",
            )
        if automated:
            return _AUTOMATED_ARGS
        if info is not None and info.domain_sync and info.owner is not None:
            return _verdict_args(
                _STRONG,
                EvidenceKind.PARTNER if info.owner in self._partners else (
                    EvidenceKind.DOMAIN_OWNER
                ),
                Strength.STRONG,
                (info.owner,),
                f"not a known contact; {domain} is {info.status.value} between "
                f"{_some(info.claimants)}, and {info.owner} is put in domain sync for it "
                "by hand (OwnershipPolicy.domain_sync_accounts)",
            )
        if info is not None and info.too_broad and info.owner is None:
            cap = self.policy.too_broad_candidates
            return _verdict_args(
                _BROAD,
                EvidenceKind.TOO_BROAD,
                Strength.NONE,
                info.claimants[:cap],
                f"not a known contact; {domain} is claimed by {len(info.claimants)} "
                "accounts, too many to tell apart (OwnershipPolicy.too_broad_claimants); "
                f"the first {min(cap, len(info.claimants))} by id are listed",
            )
        if info is not None and info.contact_sync and info.owner is None and (
            info.status is DomainStatus.UNIQUE
        ):
            return _verdict_args(
                _NONE,
                EvidenceKind.CONTACT_SYNC,
                Strength.NONE,
                (),
                f"not a known contact; {domain} belongs to {info.claimants[0]}, which is "
                "switched to contact sync by hand (OwnershipPolicy.contact_sync_accounts)",
            )
        if info is not None:
            if info.status is DomainStatus.UNIQUE and info.owner is not None:
                owner = info.owner
                if owner in self._partners:
                    return _verdict_args(
                        _STRONG,
                        EvidenceKind.PARTNER,
                        Strength.STRONG,
                        (owner,),
                        f"not a known contact, but {domain} is owned by partner account "
                        f"{owner} alone",
                    )
                return _verdict_args(
                    _STRONG,
                    EvidenceKind.DOMAIN_OWNER,
                    Strength.STRONG,
                    (owner,),
                    f"not a known contact, but {domain} is owned by {owner} alone (domain sync)",
                )
            between = _some(info.claimants)
            if info.owner is not None:
                return _verdict_args(
                    _WEAK,
                    EvidenceKind.HIERARCHY_OWNER,
                    Strength.WEAK,
                    (info.owner,),
                    f"not a known contact; {domain} is {info.status.value} between {between}, "
                    f"whose common parent {info.owner} owns it for unknown addresses",
                )
            if info.claimants:
                return _verdict_args(
                    _WEAK,
                    EvidenceKind.SHARED_DOMAIN,
                    Strength.WEAK,
                    info.claimants,
                    f"not a known contact; {domain} is {info.status.value} between {between}",
                )
        if excluded is not None:
            return _verdict_args(
                _NONE,
                EvidenceKind.EXCLUDED,
                Strength.NONE,
                (),
                f"not a known contact; the host is excluded from domain evidence "
                f"({excluded}: forwarders, relays and the like)",
            )
        if personal is not None:
            return _verdict_args(
                _NONE,
                EvidenceKind.PERSONAL,
                Strength.NONE,
                (),
                f"not a known contact; {domain} is a personal ({personal}) mail domain",
            )
        return _verdict_args(
            _NONE,
            EvidenceKind.UNKNOWN_DOMAIN,
            Strength.NONE,
            (),
            f"not a known contact; no account owns {domain}"
            + ("" if host in ("", domain) else f" or declares {host} or a domain above it"),
        )

    def _classify_valid(self, key: str, local: str, host: str) -> _Verdict:
        facts = self._hosts.get(host) or self._host(host)
        if facts.internal or facts.automated:  # the host decides, whoever the address is
            return (key, *facts.fallback)
        if (
            _AUTOMATED_WORDS.search(local) is not None
            and _AUTOMATED_LOCAL.fullmatch(local) is not None
        ):
            return (key, *_AUTOMATED_ARGS)
        accounts = self._contacts.get(key)
        if accounts is None:
            if self._excluded_addresses and key in self._excluded_addresses:
                return (
                    key,
                    _NONE,
                    EvidenceKind.EXCLUDED.value,
                    Strength.NONE.value,
                    (),
                    "not a known contact; the address is excluded from domain evidence",
                )
            return (key, *facts.fallback)
        if len(accounts) == 1:
            (account_id,) = accounts
            if account_id in self._partners:
                return (
                    key,
                    _STRONG,
                    EvidenceKind.PARTNER.value,
                    Strength.STRONG.value,
                    accounts,
                    f"known contact of partner account {account_id} only",
                )
            detail = self._contact_details.get(account_id)
            if detail is None:  # one string per account, shared by its contacts
                detail = self._contact_details[account_id] = (
                    f"known contact of {account_id} only"
                )
            return (key, _CONTACT, _UNIQUE_CONTACT, _STRONG_VALUE, accounts, detail)
        return (
            key,
            _WEAK,
            EvidenceKind.SHARED_CONTACT.value,
            Strength.WEAK.value,
            accounts,
            f"known contact of several accounts: {', '.join(accounts)}",
        )

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
            manual = bool(getattr(entry, "contact_sync", False))
            forced = bool(getattr(entry, "domain_sync", False))
            found: str | None = (
                entry.owner if status is DomainStatus.UNIQUE else entry.hierarchy_owner
            )
            if manual or forced:
                found = entry.owner
            elif status is DomainStatus.UNIQUE and found is None and len(claimants) == 1:
                found = claimants[0]
            table[domain] = _DomainInfo(
                status, claimants, found, bool(getattr(entry, "too_broad", False)), manual,
                forced,
            )
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




def _some(ids: tuple[str, ...]) -> str:
    shown = ", ".join(ids[:10])
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
