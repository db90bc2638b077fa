"""Decisions: `route` and `route_many`, rule by rule (see docs/routing.md)."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Final

import attrs

from stakeholder._errors import ConfigurationError, InvalidRecord
from stakeholder._model import (
    Communication,
    Role,
)
from stakeholder._progress import Progress, ProgressTicker
from stakeholder._routing._addresses import (
    _BROAD,
    _CONTACT,
    _INTERNAL,
    _INVALID,
    _NONE,
    _ROLE_RANK,
    _SENDER_RANKS,
    _STRONG,
    _WEAK,
    _evidence_of,
    _Verdict,
)
from stakeholder._routing._index import RoutingIndex, _make_room, _objects
from stakeholder._routing._rules import _EVIDENCE_RULES, ROUTING_CONFIDENCE, RoutingRule
from stakeholder._routing._values import (
    AmbiguityResolution,
    Evidence,
    EvidenceKind,
    Override,
    RouteStatus,
    RoutingDecision,
    Strength,
)

_new = object.__new__
_set = object.__setattr__
_CONFIDENCE: Final = ROUTING_CONFIDENCE
_RANK_OF: Final[Mapping[Role, int]] = {role: _ROLE_RANK[role.value] for role in Role}
_ROLE_AT: Final[tuple[Role, ...]] = tuple(sorted(Role, key=_RANK_OF.__getitem__))
_NOTHING: Final[AbstractSet[str]] = frozenset()
_third: Final = operator.itemgetter(2)


def _rank(accounts: Iterable[str], counts: Mapping[str, int], senders: set[str]) -> list[str]:
    """Most participants first, then the sender's accounts, then id."""
    found = list(accounts)
    if len(found) < 2:
        return found
    return sorted(found, key=lambda a: (-counts.get(a, 0), a not in senders, a))


def _decision(  # noqa: PLR0917 - the hot path's constructor, positional
    comm: Communication,
    status: RouteStatus,
    rule: RoutingRule,
    evidence: tuple[Evidence, ...],
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
    _set(d, "confidence", _CONFIDENCE[value])
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


class _ThreadMemory(OrderedDict[str, tuple[str, ...]]):
    """What evidence decided per thread, for at most `size` threads: the least recently
    updated thread is forgotten first (a bounded memory for endless batches). The
    accounts are kept as the decision's tuple of ids: it costs less than a set, and the
    cycle collector stops tracking a tuple of strings."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def learn(self, thread_id: str, learned: tuple[str, ...]) -> None:
        if self.size <= 0:
            return
        if thread_id in self:
            self.move_to_end(thread_id)
        elif len(self) >= self.size:
            self.popitem(last=False)
        self[thread_id] = learned


def _decide(
    comm: Communication,
    index: RoutingIndex,
    memory: _ThreadMemory | None,
) -> RoutingDecision:
    """Route `comm`; with a batch's `memory`, use and update its thread memory."""
    decision, learned = _judge(comm, index, memory)
    thread_id = comm.thread_id
    if learned and memory is not None and thread_id is not None:
        memory.learn(thread_id, learned)
    by_comm = index._comm_overrides
    by_thread = index._thread_overrides
    if (by_comm and comm.id in by_comm) or (by_thread and thread_id in by_thread):
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
    memory: Mapping[str, tuple[str, ...]] | None,
) -> tuple[RoutingDecision, tuple[str, ...] | None]:
    """The decision, and what evidence alone decided (thread memory learns that)."""
    memo_get = index._memo.get
    caches: tuple[dict[Any, Evidence], ...] = index._evidence
    by_override: AbstractSet[str] = _NOTHING
    if index._has_sticky:
        rerouted, by_override = _rerouted(comm, index)
        if by_override:
            memo_get = rerouted.get
            caches = index._sticky_evidence

    # One pass over the participants: one entry per distinct address (its canonical
    # key) with its most senior role's evidence; each address's class counted once,
    # when it is first seen. Each address's `Evidence` is built once per role and
    # shared by every decision that uses it (it is frozen); a sticky reroute's verdict
    # shares its address's key, so its evidence is cached by the whole verdict instead.
    best: dict[str, tuple[int, str, Evidence]] = {}
    sender_ids: list[str] = []
    strong_ids: list[str] = []  # each strong address's accounts, once per address
    contact_ids: list[str] = []  # the accounts of the strong addresses that are contacts
    weak: list[_Verdict] = []
    broad: list[_Verdict] = []
    external = internal = invalid = 0
    for participant in comm.participants:
        raw = participant.address
        verdict = memo_get(raw)
        if verdict is None:  # (a sticky reroute's verdicts hold every participant)
            verdict = index._remember(raw)
        rank = _RANK_OF[participant.role]
        key, cls, _, _, accounts, _ = verdict
        current = best.get(key)
        if current is None or rank < current[0]:
            cache = caches[rank]
            found = cache.get(verdict if by_override else key)
            if found is None:
                found = _remember_evidence(index, cache, verdict, rank, bool(by_override))
            best[key] = (rank, key, found)
            if current is None:
                if cls <= _STRONG:
                    external += 1
                    strong_ids += accounts
                    if cls == _CONTACT:
                        contact_ids += accounts
                elif cls == _INTERNAL:
                    internal += 1
                elif cls == _NONE:
                    external += 1
                elif cls == _WEAK:
                    external += 1
                    weak.append(verdict)
                elif cls == _BROAD:
                    external += 1
                    broad.append(verdict)
                elif cls == _INVALID:
                    invalid += 1
        if rank <= _SENDER_RANKS and accounts:
            sender_ids += accounts

    count = len(best)
    if not count:
        return _decision(
            comm, RouteStatus.REJECTED, RoutingRule.REJECTED, (), (), (),
            "the communication has no participants",
        ), None
    # (rank, key) is unique per entry: the sort never compares the evidence
    evidence = tuple(map(_third, sorted(best.values()))) if count > 1 else (
        next(iter(best.values()))[2],
    )
    if invalid == count:
        return _decision(
            comm, RouteStatus.REJECTED, RoutingRule.REJECTED, evidence, (), (),
            "no participant has a valid email address",
        ), None

    distinct = set(strong_ids)
    limit = index._bulk_limit
    if limit >= 0 and (distinct or weak):
        headers = comm.headers
        if (headers is not None and headers.is_bulk) or len(distinct) > limit:
            bulk = _bulk(
                comm, index, strong=_counts(strong_ids), weak=weak,
                sender_accounts=set(sender_ids), evidence=evidence,
            )
            if bulk is not None:
                return bulk, None

    if distinct:
        partners = index._partners
        if len(distinct) == 1:  # the common case: one account, nothing to rank
            only = strong_ids[0]
            if only not in partners:
                single: tuple[str, ...] = (only,)
                rule = (
                    RoutingRule.STICKY_OVERRIDE
                    if only in by_override
                    else RoutingRule.UNIQUE_CONTACT
                    if only in contact_ids
                    else RoutingRule.DOMAIN_SYNC
                )
                return _decision(comm, RouteStatus.ROUTED, rule, evidence, single), single
        # most participants first, then the sender's accounts, then id
        senders: AbstractSet[str] = _NOTHING
        if len(strong_ids) == len(distinct):  # one participant each: sender's, then id
            order = sorted(strong_ids)
            if len(sender_ids) == 1:  # the usual sender: one address of one account
                sender = sender_ids[0]
                if order[0] != sender and sender in distinct:
                    order.remove(sender)
                    order.insert(0, sender)
            elif sender_ids:
                senders = set(sender_ids)
                if not senders.isdisjoint(distinct):
                    order = [a for a in order if a in senders] + [
                        a for a in order if a not in senders
                    ]
        else:
            senders = set(sender_ids)
            counts = _counts(strong_ids)
            order = sorted(distinct, key=lambda a: (-counts[a], a not in senders, a))
        if partners.isdisjoint(order):
            customers, associated = order, []
        else:
            customers = [a for a in order if a not in partners]
            associated = [a for a in order if a in partners]
        if customers:
            top = customers[0]
            rule = (
                RoutingRule.STICKY_OVERRIDE
                if top in by_override
                else RoutingRule.UNIQUE_CONTACT
                if top in contact_ids
                else RoutingRule.DOMAIN_SYNC
            )
            account_ids = (*customers, *associated)
            return _decision(
                comm, RouteStatus.ROUTED, rule, evidence, account_ids
            ), account_ids
        # partner-only strong evidence: a customer joins when the weak evidence resolves
        partner_ids = tuple(associated)
        if weak:
            resolved = _resolve_weak(
                comm, index, memory, weak=weak, sender_accounts=set(sender_ids),
                evidence=evidence,
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
                partner_ids, resolved.candidates, note,
            ), partner_ids
        return _decision(
            comm, RouteStatus.ROUTED, RoutingRule.PARTNER, evidence, partner_ids
        ), partner_ids
    if weak:
        resolved = _resolve_weak(
            comm, index, memory, weak=weak, sender_accounts=set(sender_ids),
            evidence=evidence,
        )
        return resolved, resolved.account_ids if resolved.rule in _EVIDENCE_RULES else None
    if broad:
        return _too_broad(comm, broad, evidence), None
    if external:
        return _decision(comm, RouteStatus.UNROUTED, RoutingRule.NO_EVIDENCE, evidence), None
    if internal:
        return _decision(comm, RouteStatus.INTERNAL, RoutingRule.INTERNAL_ONLY, evidence), None
    return _decision(comm, RouteStatus.UNROUTED, RoutingRule.AUTOMATED_ONLY, evidence), None


def _rerouted(
    comm: Communication, index: RoutingIndex
) -> tuple[dict[str, _Verdict], set[str]]:
    """Each participant's verdict with the sticky reroutes in force at the time of `comm`
    applied, and the accounts the reroutes point at (empty when none applies)."""
    verdicts: dict[str, _Verdict] = {}
    by_override: set[str] = set()
    at = comm.occurred_at
    for participant in comm.participants:
        raw = participant.address
        verdict = index._verdict(raw)
        rerouted = index._sticky(verdict, at)
        if rerouted is not None:
            verdict = rerouted
            by_override.update(rerouted[4])
        verdicts[raw] = verdict
    return verdicts, by_override


def _remember_evidence(
    index: RoutingIndex,
    cache: dict[Any, Evidence],
    verdict: _Verdict,
    rank: int,
    by_value: bool,
) -> Evidence:
    """Build a verdict's evidence for the role of `rank` and cache it (bounded)."""
    found = _evidence_of(verdict, _ROLE_AT[rank])
    limit = index._cache_size
    if len(cache) >= limit:
        _make_room(cache, limit)
    cache[verdict if by_value else verdict[0]] = found
    return found


def _counts(ids: list[str]) -> dict[str, int]:
    """How many addresses point at each account."""
    counts: dict[str, int] = {}
    for account_id in ids:
        counts[account_id] = counts.get(account_id, 0) + 1
    return counts


def _bulk(
    comm: Communication,
    index: RoutingIndex,
    *,
    strong: dict[str, int],
    weak: list[_Verdict],
    sender_accounts: set[str],
    evidence: tuple[Evidence, ...],
) -> RoutingDecision | None:
    """A `BULK` decision for list or bulk mail, or for participants whose strong evidence
    points at more accounts than `RoutingPolicy.bulk_account_limit`; None for an
    ordinary message. The candidates: the strong accounts (most participants first),
    then the weak evidence's."""
    policy = index.policy
    limit = policy.bulk_account_limit
    headers = comm.headers
    is_list = headers is not None and headers.is_bulk
    if not is_list and len(strong) <= limit:
        return None
    spanned: dict[str, int] = dict(strong)
    for verdict in weak:
        for account_id in verdict[4]:
            spanned.setdefault(account_id, 0)
    if is_list:
        assert headers is not None
        shown = [
            f"{name}: {value}"
            for name, value in (
                ("List-Id", headers.list_id),
                ("Precedence", headers.precedence),
                ("Auto-Submitted", headers.auto_submitted),
            )
            if value is not None
        ] or ["list or bulk headers"]
        detail = f"list or bulk mail ({'; '.join(shown)[:200]})"
    else:
        detail = (
            f"its participants are strong evidence for {len(strong)} accounts, more than "
            f"RoutingPolicy.bulk_account_limit={limit}"
        )
    ranked = _rank(spanned, spanned, sender_accounts)
    cap = policy.too_broad_candidates
    fact = Evidence(
        kind=EvidenceKind.BULK,
        strength=Strength.NONE,
        account_ids=(),
        detail=detail + "; not attributed to any account",
    )
    reason = f"{len(ranked)} candidate accounts" + (
        f", the first {cap} listed" if len(ranked) > cap else ""
    )
    return _decision(
        comm, RouteStatus.BULK, RoutingRule.BULK, (*evidence, fact),
        candidates=tuple(ranked[:cap]), reason=reason,
    )


def _too_broad(
    comm: Communication, broad: list[_Verdict], evidence: tuple[Evidence, ...]
) -> RoutingDecision:
    """Only too-broad hosts point anywhere: ambiguous between a capped list of their
    claimants (constant time whatever the number of claimants)."""
    candidates = sorted({a for verdict in broad for a in verdict[4]})
    cap = max(len(v[4]) for v in broad)
    return _decision(
        comm, RouteStatus.AMBIGUOUS, RoutingRule.TOO_BROAD, evidence,
        candidates=tuple(candidates[:cap]),
        reason="the hosts are claimed by too many accounts to tell apart; see the evidence",
    )




def _resolve_weak(
    comm: Communication,
    index: RoutingIndex,
    memory: Mapping[str, tuple[str, ...]] | None,
    *,
    weak: list[_Verdict],
    sender_accounts: set[str],
    evidence: tuple[Evidence, ...],
) -> RoutingDecision:
    """Intersect the weak candidate sets, then break ties: thread memory, the shared
    contact's primary account, account names in the subject; else the policy."""
    weak = sorted(weak)  # by key (unique per entry): participants' order must not matter
    counts = _counts([account_id for verdict in weak for account_id in verdict[4]])
    candidates = set(weak[0][4])
    union = set(candidates)
    for verdict in weak[1:]:
        candidates.intersection_update(verdict[4])
        union.update(verdict[4])
    if len(candidates) == 1:
        rule = (
            RoutingRule.HIERARCHY_OWNER
            if all(v[2] == EvidenceKind.HIERARCHY_OWNER for v in weak)
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
        hit = candidates.intersection(remembered)
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
            if verdict[2] == EvidenceKind.SHARED_CONTACT:
                primary = primary_of.get(verdict[0])
                if primary is not None and primary in candidates:
                    account_id = primary
                    hit.add(account_id)
                    extra.append(
                        Evidence(
                            kind=EvidenceKind.PRIMARY_ACCOUNT,
                            strength=Strength.TIEBREAK,
                            account_ids=(account_id,),
                            address=verdict[0],
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


def route_many(
    comms: Iterable[Communication],
    index: RoutingIndex,
    *,
    thread_memory: int | None = None,
    progress: Progress | None = None,
) -> Iterator[RoutingDecision]:
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

    The memory is bounded: it keeps `thread_memory` threads (default
    `RoutingPolicy.thread_memory`, 50,000; 0 turns it off) and forgets the least
    recently updated thread first. `progress(done, None)` is called as decisions are
    made (see `stakeholder._progress`).
    """
    if not isinstance(index, RoutingIndex):
        raise InvalidRecord(index, "expected a RoutingIndex (RoutingIndex.build(...))")
    size = index.policy.thread_memory if thread_memory is None else thread_memory
    if size < 0:
        raise ConfigurationError(f"thread_memory must be at least 0, not {size}")
    ticker = None if progress is None else ProgressTicker(progress)
    return _route_many(comms, index, _ThreadMemory(size), ticker)


def _route_many(
    comms: Iterable[Communication],
    index: RoutingIndex,
    memory: _ThreadMemory,
    ticker: ProgressTicker | None,
) -> Iterator[RoutingDecision]:
    for position, item in enumerate(_objects(comms)):
        if not isinstance(item, Communication):
            yield _rejected_item(position, item, f"not a Communication: {type(item).__name__}")
        else:
            try:
                decision = _decide(item, index, memory)
            except Exception as exc:  # noqa: BLE001 - a batch never stops on one item
                decision = _rejected_item(position, item, f"could not be routed: {exc}")
            yield decision
        if ticker is not None:
            ticker.advance()
    if ticker is not None:
        ticker.close()
