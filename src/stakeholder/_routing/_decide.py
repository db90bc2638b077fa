"""Decisions: `route` and `route_many`, rule by rule (see docs/routing.md)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

import attrs

from stakeholder._errors import ConfigurationError, InvalidRecord
from stakeholder._model import (
    Communication,
    Role,
)
from stakeholder._progress import Progress, ProgressTicker
from stakeholder._routing._addresses import (
    _BROAD,
    _INTERNAL,
    _INVALID,
    _NONE,
    _ROLE_RANK,
    _SENDER_RANKS,
    _STRONG,
    _WEAK,
    _Verdict,
)
from stakeholder._routing._index import RoutingIndex, _objects
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


class _ThreadMemory(OrderedDict[str, frozenset[str]]):
    """What evidence decided per thread, for at most `size` threads: the least recently
    updated thread is forgotten first (a bounded memory for endless batches)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        # one frozenset per distinct set of accounts, shared by the threads that learn it
        # (a frozenset costs 216 bytes; most threads learn one of a few sets)
        self._sets: dict[tuple[str, ...], frozenset[str]] = {}

    def learn(self, thread_id: str, learned: tuple[str, ...]) -> None:
        if self.size <= 0:
            return
        sets = self._sets
        accounts = sets.get(learned)
        if accounts is None:
            if len(sets) >= self.size:
                sets.clear()
            accounts = sets[learned] = frozenset(learned)
        if thread_id in self:
            self.move_to_end(thread_id)
        elif len(self) >= self.size:
            self.popitem(last=False)
        self[thread_id] = accounts


def _decide(
    comm: Communication,
    index: RoutingIndex,
    memory: _ThreadMemory | None,
) -> RoutingDecision:
    """Route `comm`; with a batch's `memory`, use and update its thread memory."""
    decision, learned = _judge(comm, index, memory)
    if memory is not None and learned and comm.thread_id is not None:
        memory.learn(comm.thread_id, learned)
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
    by_override: set[str] = set()
    weak: list[_Verdict] = []
    broad: list[_Verdict] = []
    external = internal = invalid = 0
    memo_get = index._memo.get
    sticky = index._has_sticky
    for participant in comm.participants:
        role = participant.role
        rank = _ROLE_RANK[role._value_]
        raw = participant.address
        verdict = memo_get(raw)
        if verdict is None:
            verdict = index._verdict(raw)
        if sticky:
            rerouted = index._sticky(verdict, comm.occurred_at)
            if rerouted is not None:
                verdict = rerouted
                by_override.update(verdict.accounts)
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
            elif cls == _BROAD:
                external += 1
                broad.append(verdict)
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

    policy = index.policy
    if policy.detect_bulk and (strong or weak):
        headers = comm.headers
        limit = policy.bulk_account_limit
        if (headers is not None and headers.is_bulk) or len(strong) > limit:
            bulk = _bulk(
                comm, index, strong=strong, weak=weak, sender_accounts=sender_accounts,
                evidence=evidence,
            )
            if bulk is not None:
                return bulk, None

    if strong:
        partners = index._partners
        if len(strong) == 1:  # the common case: one account, nothing to rank
            (only,) = strong
            if only not in partners:
                single: tuple[str, ...] = (only,)
                rule = (
                    RoutingRule.STICKY_OVERRIDE
                    if only in by_override
                    else RoutingRule.UNIQUE_CONTACT
                    if only in by_contact
                    else RoutingRule.DOMAIN_SYNC
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
                RoutingRule.STICKY_OVERRIDE
                if ranked[0] in by_override
                else RoutingRule.UNIQUE_CONTACT
                if ranked[0] in by_contact
                else RoutingRule.DOMAIN_SYNC
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
    if broad:
        return _too_broad(comm, broad, evidence), None
    if external:
        return _decision(comm, RouteStatus.UNROUTED, RoutingRule.NO_EVIDENCE, evidence), None
    if internal:
        return _decision(comm, RouteStatus.INTERNAL, RoutingRule.INTERNAL_ONLY, evidence), None
    return _decision(comm, RouteStatus.UNROUTED, RoutingRule.AUTOMATED_ONLY, evidence), None


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
        for account_id in verdict.accounts:
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
    candidates = sorted({a for verdict in broad for a in verdict.accounts})
    cap = max(len(v.accounts) for v in broad)
    return _decision(
        comm, RouteStatus.AMBIGUOUS, RoutingRule.TOO_BROAD, evidence,
        candidates=tuple(candidates[:cap]),
        reason="the hosts are claimed by too many accounts to tell apart; see the evidence",
    )


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
