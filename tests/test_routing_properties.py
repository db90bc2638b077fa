"""Property tests for routing over coherent worlds (`stakeholder.testing.strategies.worlds`)."""

from __future__ import annotations

import datetime as dt
import json
import random

from hypothesis import given
from hypothesis import strategies as st

from stakeholder import (
    AmbiguityResolution,
    Communication,
    Override,
    RouteStatus,
    RoutingDecision,
    RoutingIndex,
    RoutingPolicy,
    Strength,
    route,
    route_many,
)
from stakeholder.testing._worlds import World
from stakeholder.testing.strategies import communications, worlds

T0 = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
STRONG_OR_RESOLVED = {Strength.STRONG, Strength.TIEBREAK}


def decisions(world: World, **kwargs: object) -> dict[str, RoutingDecision]:
    index = world.index(**kwargs)  # type: ignore[arg-type]
    return {d.comm_id: d for d in route_many(world.communications, index)}


@given(worlds())
def test_routed_communications_get_the_known_right_account(world: World) -> None:
    for comm_id, d in decisions(world).items():
        expected = world.expected[comm_id]
        assert d.status is expected.status, (expected, d.explain())
        if expected.status is RouteStatus.ROUTED:
            assert set(d.account_ids) == expected.accounts, (expected, d.explain())
            if expected.primary is not None:
                assert d.account_ids[0] == expected.primary, (expected, d.explain())
        if expected.status is RouteStatus.AMBIGUOUS:
            assert set(d.candidates) == expected.accounts


@given(worlds(shared_threads=True), st.randoms(use_true_random=False))
def test_decisions_do_not_depend_on_order(world: World, rnd: random.Random) -> None:
    before = decisions(world)
    accounts = list(world.accounts)
    contacts = list(world.contacts)
    rnd.shuffle(accounts)
    rnd.shuffle(contacts)
    shuffled_comms = []
    for c in world.communications:
        people = list(c.participants)
        rnd.shuffle(people)
        shuffled_comms.append(Communication(c.id, c.occurred_at, people, thread_id=c.thread_id,
                                            subject=c.subject, kind=c.kind))
    index = world.index(accounts=accounts, contacts=contacts)
    after = {d.comm_id: d for d in route_many(shuffled_comms, index)}
    assert after == before


@given(worlds(shared_threads=True), st.data())
def test_an_override_changes_only_what_it_targets(world: World, data: st.DataObject) -> None:
    before = decisions(world)
    target = data.draw(st.sampled_from(world.communications))
    account = data.draw(st.sampled_from(world.accounts))
    by_thread = data.draw(st.booleans())
    override = Override(
        account.id, author="tester", reason="property", at=T0,
        comm_id=None if by_thread else target.id,
        thread_id=target.thread_id if by_thread else None,
    )
    after = decisions(world, overrides=(override,))
    for comm in world.communications:
        targeted = comm.id == target.id or (by_thread and comm.thread_id == target.thread_id)
        if targeted:
            assert after[comm.id].account_ids == (account.id,)
            assert after[comm.id].rule == "override"
        else:
            assert after[comm.id] == before[comm.id]


@given(worlds(shared_threads=True))
def test_adding_an_unrelated_account_changes_nothing(world: World) -> None:
    before = decisions(world)
    after = decisions(world, accounts=(*world.accounts, world.unrelated_account))
    assert after == before


@given(worlds(shared_threads=True), st.sampled_from(AmbiguityResolution))
def test_status_invariants(world: World, ambiguous: AmbiguityResolution) -> None:
    for d in decisions(world, policy=RoutingPolicy(ambiguous=ambiguous)).values():
        if d.status is RouteStatus.ROUTED:
            assert d.account_ids
            assert len(set(d.account_ids)) == len(d.account_ids)
            strengths = {e.strength for e in d.evidence if set(e.account_ids) & set(d.account_ids)}
            resolved = d.rule in {"weak_intersection", "hierarchy_owner"}
            assert strengths & STRONG_OR_RESOLVED or resolved, d.explain()
        elif d.status is RouteStatus.AMBIGUOUS:
            assert len(d.candidates) >= 2
            assert d.account_ids == ()
        else:
            assert d.account_ids == ()
        assert RoutingDecision.from_dict(json.loads(json.dumps(d.to_dict()))) == d
        assert d.explain()


@given(worlds(max_communications=4), communications())
def test_arbitrary_communications_route_without_raising(world: World, comm: Communication) -> None:
    index = world.index()
    d = route(comm, index)
    assert d.comm_id == comm.id
    assert RoutingDecision.from_dict(json.loads(json.dumps(d.to_dict()))) == d
    assert list(route_many([comm], index)) == [d]


_SEPARATORS = st.sampled_from(["", "-", "_", ".", "+"])
_FRAGMENTS = st.sampled_from([
    "no", "reply", "do", "not", "mailer", "daemon", "postmaster", "mail", "delivery",
    "subsystem", "bounce", "bounces", "calendar", "notification", "notifications", "server",
    "invite", "auto", "responder", "confirm", "owner", "request", "jane", "x", "1", "a3f",
    "REPLY", "Owner",
])


@given(st.lists(st.tuples(_FRAGMENTS, _SEPARATORS), max_size=5) | st.text(max_size=30))
def test_the_automated_pre_check_never_hides_a_match(parts: list[tuple[str, str]] | str) -> None:
    """The router searches for a few words before trying the automated-sender pattern:
    the pattern must never match a local part that holds none of them."""
    from stakeholder._routing._addresses import _AUTOMATED_LOCAL
    from stakeholder._routing._index import _AUTOMATED_WORDS

    local = parts if isinstance(parts, str) else "".join(f + s for f, s in parts)
    if _AUTOMATED_LOCAL.fullmatch(local) is not None:
        assert _AUTOMATED_WORDS.search(local) is not None, local


@given(worlds(shared_threads=True), st.integers(min_value=1, max_value=4))
def test_a_tiny_cache_changes_no_decision(world: World, cache_size: int) -> None:
    """Verdicts, per-host facts and evidence forgotten and rebuilt over and over (a cache
    of a few addresses) give the same decisions as a cache that keeps everything, and a
    second pass over a warm index the same as the first."""
    roomy = decisions(world)
    small = RoutingIndex.build(
        world.accounts, world.contacts, world.ownership(), cache_size=cache_size
    )
    assert {d.comm_id: d for d in route_many(world.communications, small)} == roomy
    index = world.index()
    first = list(route_many(world.communications, index))
    assert list(route_many(world.communications, index)) == first
