"""The sponsor-tracking part of the storage contract: tests every `Store` back end's
`store.sponsors` repositories must pass (read-back equality, defined orders, filters,
replace semantics, tenant isolation, atomic batches, hostile strings, refusal of
unstorable values). Re-exported by `stakeholder.testing.contract`; subclass
`SponsorStoreContract` with a `store_factory` fixture, as for `StoreContract`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stakeholder._errors import InvalidRecord
from stakeholder.sponsors import (
    HistoryEntry,
    MatchEvidence,
    Observation,
    Profile,
    ProfileGone,
    ProfileUpdate,
    Suggestion,
    TrackingRecord,
    TrackingStatus,
    TrackingVia,
    UpdateState,
)
from stakeholder.sponsors._changes import ChangeField, Signal
from stakeholder.storage._protocols import Store

__all__ = [
    "SponsorStoreContract",
    "history_entries",
    "observations",
    "profile_updates",
    "profiles",
    "run_sponsor_lockstep",
    "sponsor_lockstep_machine",
    "suggestions",
    "tracking_records",
]

SearchStrategy = st.SearchStrategy
StoreFactory = Callable[[], Store]

_HOSTILE: Final = ("'", '"', "; --", "%s", "?", "\\", "é", "💥", "' OR '1'='1", "NULL")
_ZONES: Final = (dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)),
                 dt.timezone(dt.timedelta(hours=-8)))


def _texts(*, min_size: int = 1) -> SearchStrategy[str]:
    alphabet = st.characters(codec="utf-8", exclude_characters="\x00")
    return st.one_of(
        st.sampled_from(_HOSTILE),
        st.text(alphabet, min_size=min_size, max_size=10),
        st.just("x").map(lambda x: x * 10_000),
    ).filter(lambda s: bool(s.strip()) if min_size else True)


def _ids() -> SearchStrategy[str]:
    return st.sampled_from(("a", "b", "c", "'", "Ω", "p 1"))


def _times() -> SearchStrategy[dt.datetime]:
    return st.datetimes(
        min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1),
        timezones=st.sampled_from(_ZONES),
    )


def _optional() -> SearchStrategy[str | None]:
    return st.none() | _texts()


def profiles(*, url: SearchStrategy[str] | None = None) -> SearchStrategy[Profile]:
    """Profiles with hostile text."""
    return st.builds(
        Profile, source=st.just("file"), url=_texts() if url is None else url, name=_texts(),
        observed_at=_times(), title=_optional(), company=_optional(),
        company_domain=_optional(), location=_optional(),
    )


def tracking_records(*, person_ids: SearchStrategy[str] | None = None,
                     ) -> SearchStrategy[TrackingRecord]:
    """Tracking records in any status, with or without a baseline."""
    return st.builds(
        TrackingRecord, person_id=person_ids or _ids(), account_id=_ids(),
        status=st.sampled_from(list(TrackingStatus)), since=_times(),
        via=st.sampled_from(list(TrackingVia)), requested_at=st.none() | _times(),
        profile_url=_optional(), last_observed_at=st.none() | _times(),
        baseline=st.none() | profiles(),
    )


def observations() -> SearchStrategy[Observation]:
    """Observations of a profile, or of its deletion."""
    gone = st.builds(ProfileGone, url=_texts(), observed_at=_times(), reason=_texts())
    return st.builds(Observation, person_id=_ids(), observed=profiles() | gone)


def suggestions(person_id: str) -> SearchStrategy[Suggestion]:
    """Suggestions of one person (urls from a small set, so that some repeat)."""
    evidence = st.builds(MatchEvidence, kind=st.sampled_from(("name", "company")),
                         similarity=st.floats(0, 1), weight=st.floats(0, 1), detail=_texts())
    return st.builds(
        Suggestion, person_id=st.just(person_id),
        profile=profiles(url=st.sampled_from(("u1", "u2", "'u3")),),
        score=st.floats(0, 1), evidence=st.lists(evidence, max_size=2).map(tuple),
        rank=st.integers(0, 5),
    )


def profile_updates() -> SearchStrategy[ProfileUpdate]:
    """Updates in any state, with hostile values."""
    return st.builds(
        ProfileUpdate, id=_ids(), person_id=_ids(), account_id=_ids(),
        field=st.sampled_from(list(ChangeField)), before=_optional(), after=_optional(),
        profile_url=_texts(), observed_at=_times(), detected_at=_times(),
        signal=st.sampled_from(list(Signal)), opportunity_account_id=st.none() | _ids(),
        after_domain=_optional(), state=st.sampled_from(list(UpdateState)),
        resolved_at=st.none() | _times(), resolved_by=_optional(),
    )


def history_entries() -> SearchStrategy[HistoryEntry]:
    """History entries (times from a small set, so that some are equal)."""
    statuses = st.none() | st.sampled_from(list(TrackingStatus))
    times = st.sampled_from((dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                             dt.datetime(2026, 1, 1, 5, 30, tzinfo=_ZONES[1]),
                             dt.datetime(2026, 1, 2, tzinfo=dt.UTC)))
    return st.builds(HistoryEntry, person_id=_ids(), account_id=_ids(), at=times,
                     action=_texts(), before=statuses, after=statuses, detail=_texts(min_size=0))


def _last(items: Sequence[Any], key: Callable[[Any], Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for item in items:
        out.pop(key(item), None)
        out[key(item)] = item
    return out


def _us(at: dt.datetime) -> int:
    return (at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


_SETTINGS: Final = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture,
                           HealthCheck.differing_executors, HealthCheck.too_slow],
    deadline=None,
    max_examples=min(settings().max_examples, 15),
)
_TENANTS: Final = ("t1", "t'; DROP TABLE sponsor_tracking; --")


class _BoomError(Exception):
    """Raised on purpose inside a batch."""


class SponsorStoreContract:
    """The sponsor-tracking contract tests; subclass with a `store_factory` fixture."""

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        """Override this: return (or yield) a callable returning a fresh, empty store."""
        pytest.fail("define a `store_factory` fixture in your SponsorStoreContract subclass")

    @_SETTINGS
    @given(items=st.lists(tracking_records(), max_size=6))
    def test_tracking_read_back(self, store_factory: StoreFactory,
                                items: list[TrackingRecord]) -> None:
        repo = store_factory().sponsors.tracking
        result = repo.put_many("t1", items)
        kept = _last(items, lambda r: r.person_id)
        assert (result.written, result.rejected) == (len(kept), len(items) - len(kept))
        assert repo.list("t1") == [kept[k] for k in sorted(kept)]
        assert repo.count("t1") == len(kept)
        for record in kept.values():
            assert repo.get("t1", record.person_id) == record
            assert repo.list("t1", account_id=record.account_id, status=record.status) == [
                kept[k] for k in sorted(kept)
                if kept[k].account_id == record.account_id and kept[k].status == record.status
            ]
            assert repo.count("t1", status=record.status) == sum(
                r.status == record.status for r in kept.values())
        if kept:
            first = sorted(kept)[0]
            assert repo.delete("t1", first) is True
            assert repo.delete("t1", first) is False
            assert repo.get("t1", first) is None

    @_SETTINGS
    @given(items=st.lists(observations(), max_size=6))
    def test_observations_oldest_first(self, store_factory: StoreFactory,
                                       items: list[Observation]) -> None:
        repo = store_factory().sponsors.observations
        result = repo.add_many("t1", items)
        kept = _last(items, lambda o: (o.person_id, _us(o.at)))
        assert result.written == len(kept)
        assert repo.count("t1") == len(kept)
        for person in {o.person_id for o in items}:
            mine = sorted((o for o in kept.values() if o.person_id == person),
                          key=lambda o: _us(o.at))
            assert repo.list("t1", person) == mine
            assert repo.latest("t1", person) == mine[-1]
        assert repo.latest("t1", "nobody") is None

    @_SETTINGS
    @given(first=st.lists(suggestions("p"), max_size=4),
           second=st.lists(suggestions("p"), max_size=4),
           other=st.lists(suggestions("q"), max_size=2))
    def test_suggestions_replace(self, store_factory: StoreFactory, first: list[Suggestion],
                                 second: list[Suggestion], other: list[Suggestion]) -> None:
        repo = store_factory().sponsors.suggestions
        repo.replace("t1", "q", other)
        repo.replace("t1", "p", first)
        result = repo.replace("t1", "p", [*second, *other])
        kept = _last(second, lambda s: s.profile.url)
        assert result.written == len(kept)
        assert result.rejected == len(second) - len(kept) + len(other)
        assert repo.list("t1", "p") == sorted(kept.values(), key=lambda s: (s.rank, s.profile.url))
        others = _last(other, lambda s: s.profile.url)
        assert repo.count("t1") == len(kept) + len(others)

    @_SETTINGS
    @given(items=st.lists(profile_updates(), max_size=6), window=st.tuples(_times(), _times()))
    def test_updates_filters_and_order(self, store_factory: StoreFactory,
                                       items: list[ProfileUpdate],
                                       window: tuple[dt.datetime, dt.datetime]) -> None:
        repo = store_factory().sponsors.updates
        result = repo.put_many("t1", items)
        kept = _last(items, lambda u: u.id)
        assert result.written == len(kept)

        def order(found: list[ProfileUpdate]) -> list[ProfileUpdate]:
            return sorted(found, key=lambda u: (_us(u.observed_at), u.id))

        assert repo.list("t1") == order(list(kept.values()))
        since, until = sorted(window, key=_us)
        assert repo.list("t1", since=since, until=until) == order(
            [u for u in kept.values() if _us(since) <= _us(u.observed_at) < _us(until)])
        for u in kept.values():
            assert repo.get("t1", u.id) == u
            assert repo.list("t1", account_id=u.account_id, state=u.state) == order(
                [v for v in kept.values() if v.account_id == u.account_id and v.state == u.state])
            assert repo.list("t1", person_id=u.person_id) == order(
                [v for v in kept.values() if v.person_id == u.person_id])
            assert repo.count("t1", state=u.state) == sum(v.state == u.state
                                                          for v in kept.values())
        with pytest.raises(InvalidRecord):
            repo.list("t1", since=dt.datetime(2026, 1, 1))  # naive: refused

    @_SETTINGS
    @given(batches=st.lists(st.lists(history_entries(), max_size=3), max_size=3))
    def test_history_by_time_then_added(self, store_factory: StoreFactory,
                                        batches: list[list[HistoryEntry]]) -> None:
        repo = store_factory().sponsors.history
        added: list[HistoryEntry] = []
        for batch in batches:
            assert repo.add_many("t1", batch).written == len(batch)
            added.extend(batch)
        expected = sorted(added, key=lambda e: _us(e.at))  # stable: the order added
        assert repo.list("t1") == expected
        assert repo.count("t1") == len(added)
        for e in added:
            assert repo.list("t1", person_id=e.person_id) == [
                x for x in expected if x.person_id == e.person_id]
            assert repo.list("t1", account_id=e.account_id, person_id=e.person_id) == [
                x for x in expected
                if x.account_id == e.account_id and x.person_id == e.person_id]

    @_SETTINGS
    @given(record=tracking_records(), update=profile_updates(), entry=history_entries(),
           observation=observations())
    def test_tenant_isolation(self, store_factory: StoreFactory, record: TrackingRecord,
                              update: ProfileUpdate, entry: HistoryEntry,
                              observation: Observation) -> None:
        sp = store_factory().sponsors
        mine, theirs = _TENANTS
        sp.tracking.put(mine, record)
        sp.updates.put(mine, update)
        sp.history.add_many(mine, [entry])
        sp.observations.add_many(mine, [observation])
        assert sp.tracking.get(theirs, record.person_id) is None
        assert sp.tracking.list(theirs) == []
        assert sp.tracking.count(theirs) == 0
        assert sp.tracking.delete(theirs, record.person_id) is False
        assert sp.updates.get(theirs, update.id) is None
        assert sp.updates.count(theirs) == 0
        assert sp.history.list(theirs) == []
        assert sp.history.count(theirs) == 0
        assert sp.observations.list(theirs, observation.person_id) == []
        assert sp.tracking.get(mine, record.person_id) == record

    @_SETTINGS
    @given(record=tracking_records(), update=profile_updates(), entry=history_entries())
    def test_failed_batch_leaves_nothing(self, store_factory: StoreFactory,
                                         record: TrackingRecord, update: ProfileUpdate,
                                         entry: HistoryEntry) -> None:
        store = store_factory()
        sp = store.sponsors

        def failing_batch() -> None:
            with store.batch():
                sp.tracking.put("t1", record)
                sp.updates.put_many("t1", [update])
                sp.history.add_many("t1", [entry])
                sp.suggestions.replace("t1", "p", [])
                raise _BoomError

        with pytest.raises(_BoomError):
            failing_batch()
        assert sp.tracking.count("t1") == sp.updates.count("t1") == sp.history.count("t1") == 0

    def test_unstorable_values_are_refused(self, store_factory: StoreFactory) -> None:
        sp = store_factory().sponsors
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        bad = TrackingRecord("p\x00", "a", TrackingStatus.PENDING, at)
        good = TrackingRecord("p", "a", TrackingStatus.PENDING, at)
        with pytest.raises(InvalidRecord):
            sp.tracking.put("t1", bad)
        with pytest.raises(InvalidRecord):
            sp.tracking.put("t1", "not a record")  # type: ignore[arg-type]
        result = sp.tracking.put_many("t1", [bad, good, "x"])  # type: ignore[list-item]
        assert (result.written, result.rejected) == (1, 2)
        assert sp.tracking.list("t1") == [good]
        surrogate = HistoryEntry("p", "a", at, "act\udc80", None, None)
        assert sp.history.add_many("t1", [surrogate]).rejected == 1
        with pytest.raises(InvalidRecord):
            sp.tracking.get("\x00", "p")


def _contents(store: Store, tenant: str) -> tuple[Any, ...]:
    sp = store.sponsors
    people = ("a", "b", "c")
    return (
        sp.tracking.list(tenant), sp.tracking.count(tenant),
        sp.updates.list(tenant), sp.history.list(tenant),
        [sp.suggestions.list(tenant, p) for p in people],
        [sp.observations.list(tenant, p) for p in people],
    )


def sponsor_lockstep_machine(factories: dict[str, StoreFactory]) -> type[Any]:
    """A state machine applying random sponsor-repository writes to one fresh store per
    factory and checking after every step that they all hold the same contents (the
    first factory is the reference)."""
    from hypothesis.stateful import RuleBasedStateMachine, invariant, rule  # noqa: PLC0415

    names = list(factories)
    tenants = st.sampled_from(_TENANTS)

    class SponsorLockstep(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.stores = {n: factories[n]() for n in names}

        def _all(self, write: Callable[[Store], object]) -> None:
            results = {n: write(s) for n, s in self.stores.items()}
            assert len({repr(r) for r in results.values()}) == 1, results

        @rule(tenant=tenants, records=st.lists(tracking_records(), max_size=3))
        def put_records(self, tenant: str, records: list[TrackingRecord]) -> None:
            self._all(lambda s: s.sponsors.tracking.put_many(tenant, records))

        @rule(tenant=tenants, person=_ids())
        def delete_record(self, tenant: str, person: str) -> None:
            self._all(lambda s: s.sponsors.tracking.delete(tenant, person))

        @rule(tenant=tenants, updates=st.lists(profile_updates(), max_size=3))
        def put_updates(self, tenant: str, updates: list[ProfileUpdate]) -> None:
            self._all(lambda s: s.sponsors.updates.put_many(tenant, updates))

        @rule(tenant=tenants, entries=st.lists(history_entries(), max_size=3))
        def add_history(self, tenant: str, entries: list[HistoryEntry]) -> None:
            self._all(lambda s: s.sponsors.history.add_many(tenant, entries))

        @rule(tenant=tenants, items=st.lists(suggestions("a"), max_size=3))
        def replace_suggestions(self, tenant: str, items: list[Suggestion]) -> None:
            self._all(lambda s: s.sponsors.suggestions.replace(tenant, "a", items))

        @rule(tenant=tenants, items=st.lists(observations(), max_size=3))
        def add_observations(self, tenant: str, items: list[Observation]) -> None:
            self._all(lambda s: s.sponsors.observations.add_many(tenant, items))

        @invariant()
        def same_contents(self) -> None:
            for tenant in _TENANTS:
                seen = {n: _contents(s, tenant) for n, s in self.stores.items()}
                reference = seen[names[0]]
                for name in names[1:]:
                    assert seen[name] == reference, f"{name} differs from {names[0]}"

    return SponsorLockstep


def run_sponsor_lockstep(factories: dict[str, StoreFactory], *, max_examples: int = 10,
                         steps: int = 12) -> None:
    """Run `sponsor_lockstep_machine(factories)` as a test."""
    from hypothesis.stateful import run_state_machine_as_test  # noqa: PLC0415

    run_state_machine_as_test(
        sponsor_lockstep_machine(factories),
        settings=settings(max_examples=max_examples, stateful_step_count=steps,
                          deadline=None, suppress_health_check=list(HealthCheck)),
    )
