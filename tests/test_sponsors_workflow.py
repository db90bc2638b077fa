"""The sponsor workflow against real stores (memory and SQLite): tracking, matching,
forced matches, Track All, observation rounds writing updates, history, observations
and CTAs, accepting, stopping; and properties of change detection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stakeholder import Account, Contact
from stakeholder.sponsors import (
    AccountDirectory,
    IllegalTransition,
    Profile,
    ProfileGone,
    SnapshotSource,
    TrackingRecord,
    TrackingStatus,
    UpdateState,
    accept,
    accept_updates,
    detect_changes,
    find_matches,
    force_match,
    run_observation_round,
    stop_tracking,
    track_people,
    track_suggestions,
)
from stakeholder.storage import MemoryStore, SQLiteStore, Store

S = TrackingStatus
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
WEEK = dt.timedelta(days=7)
ACME = Account("acme", "Acme", domains={"acme.com"})
GLOBEX = Account("globex", "Globex", domains={"globex.com"})
DIRECTORY = AccountDirectory([ACME, GLOBEX])
PEOPLE = [
    Contact("jane", "acme", email="jane@acme.com", name="Jane Doe", title="VP Sales"),
    Contact("john", "acme", email="john@acme.com", name="John Roe", title="CTO"),
    Contact("nina", "globex", email="nina@globex.com", name="Nina Bell", title="CFO"),
]


def _p(who: str, name: str, at: dt.datetime, **fields: str | None) -> Profile:
    values: dict[str, str | None] = {"title": None, "company": "Acme",
                                     "company_domain": "acme.com", "location": "London"}
    values.update(fields)
    return Profile("test", f"https://p/{who}", name, at, **values)


SOURCE = SnapshotSource({
    T0.date(): [_p("jane", "Jane Doe", T0, title="VP Sales"),
                _p("john", "John Roe", T0, title="CTO")],
    (T0 + WEEK).date(): [_p("jane", "Jane Doe", T0 + WEEK, title="VP Sales", company="Globex",
                            company_domain="globex.com"),
                         ProfileGone("https://p/john", T0 + WEEK)],
})


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "s.db")
    yield made
    made.close()


def test_the_whole_workflow(store: Store) -> None:
    started = track_people(store, "t", PEOPLE, at=T0)
    assert len(started.changed) == 3
    with pytest.raises(IllegalTransition, match="In-Progress"):
        stop_tracking(store, "t", "jane", at=T0)
    with pytest.raises(IllegalTransition, match="not tracked"):
        stop_tracking(store, "t", "nobody", at=T0)
    with pytest.raises(IllegalTransition):
        track_people(store, "t", PEOPLE[:1], at=T0, bulk=False)
    results = find_matches(store, "t", SOURCE.at(T0.date()), contacts=PEOPLE,
                           accounts=[ACME, GLOBEX], at=T0 + dt.timedelta(minutes=5))
    assert [(r.person_id, r.status) for r in results] == [
        ("jane", S.MATCH_FOUND), ("john", S.MATCH_FOUND), ("nina", S.NO_MATCH_FOUND)]
    assert [s.rank for s in store.sponsors.suggestions.list("t", "jane")] == [1]
    forced = force_match(store, "t", "nina", "https://p/nina-pasted", at=T0)
    assert forced.status is S.TRACKING_IN_PROGRESS
    tracked = track_suggestions(store, "t", at=T0 + dt.timedelta(minutes=6))
    assert sorted(r.person_id for r in tracked.changed) == ["jane", "john"]
    assert [s.person_id for s in tracked.skipped] == ["nina"]
    first = run_observation_round(store, "t", SOURCE.at(T0.date()), directory=DIRECTORY,
                                  at=T0 + dt.timedelta(minutes=10))
    assert store.sponsors.tracking.count("t", status=S.TRACKED) == 2
    assert store.sponsors.tracking.get("t", "nina").status is S.DISABLED  # pasted url is gone
    assert first.updates == ()
    week = run_observation_round(store, "t", SOURCE, directory=DIRECTORY, at=T0 + WEEK)
    assert [(u.person_id, u.field.value, u.signal.value) for u in week.updates] == [
        ("jane", "company", "opportunity")]
    assert store.sponsors.tracking.get("t", "john").status is S.DISABLED
    assert store.sponsors.observations.latest("t", "jane").observed.company == "Globex"
    assert len(store.sponsors.observations.list("t", "jane")) == 2
    again = run_observation_round(store, "t", SOURCE, directory=DIRECTORY,
                                  at=T0 + WEEK + dt.timedelta(hours=1))
    assert again.updates == ()
    assert again.ctas.is_empty
    ctas = getattr(store, "ctas", None)
    if ctas is not None:  # the alerts repositories are attached to this store
        assert sorted(c.account_id for c in ctas.list("t")) == ["acme", "globex"]
    done = accept(store, "t", at=T0 + WEEK, by="csm", update_ids=[week.updates[0].id, "nope"])
    assert len(done.updates) == 1
    assert done.refused == (("nope", "no such update"),)
    assert store.sponsors.updates.count("t", state=UpdateState.ACCEPTED) == 1
    assert store.sponsors.tracking.get("t", "jane").baseline.company == "Globex"
    assert accept(store, "t", at=T0 + WEEK, by="csm").updates == ()
    history = [h.action for h in store.sponsors.history.list("t", person_id="jane")]
    assert history == ["start tracking", "submit search", "match found",
                       "start tracking the match", "confirm tracking", "company changed",
                       "accepted company change"]
    timeline = store.sponsors.history.list("t", account_id="acme")
    assert {h.person_id for h in timeline} == {"jane", "john"}
    stopped = stop_tracking(store, "t", "jane", at=T0 + 2 * WEEK)
    assert stopped.status is S.DISABLED


# ----------------------------------------------------------------- properties

_WORDS = st.sampled_from(["vp sales", "CTO", "Head of  IT", "London", "acme", "Globex", ""])


def _noisy(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text.upper(), f"  {text} ", text.replace(" ", "   "),
                            text.lower()])


@settings(max_examples=60)
@given(title=_WORDS, company=_WORDS, location=_WORDS, data=st.data())
def test_case_and_spacing_never_make_a_change(title: str, company: str, location: str,
                                              data: st.DataObject) -> None:
    base = _p("x", "X Y", T0, title=title, company=company, location=location)
    record = TrackingRecord("x", "acme", S.TRACKED, T0, profile_url=base.url, baseline=base)
    seen = _p("x", "X Y", T0 + WEEK, title=data.draw(_noisy(title)),
              company=data.draw(_noisy(company)), location=data.draw(_noisy(location)))
    assert detect_changes(record, seen, directory=DIRECTORY, at=T0 + WEEK) == ()


@settings(max_examples=60)
@given(before=st.tuples(_WORDS, _WORDS, _WORDS), after=st.tuples(_WORDS, _WORDS, _WORDS))
def test_accepting_every_change_leaves_nothing_to_detect(
    before: tuple[str, str, str], after: tuple[str, str, str]
) -> None:
    base = _p("x", "X Y", T0, title=before[0], company=before[1], location=before[2])
    record = TrackingRecord("x", "acme", S.TRACKED, T0, profile_url=base.url, baseline=base)
    seen = _p("x", "X Y", T0 + WEEK, title=after[0], company=after[1], location=after[2])
    updates = detect_changes(record, seen, directory=DIRECTORY, at=T0 + WEEK)
    changed = {f for f, b, a in zip(("title", "company", "location"), before, after,
                                    strict=True) if " ".join(b.lower().split())
               != " ".join(a.lower().split())}
    assert {u.field.value for u in updates} == changed
    result = accept_updates({"x": record}, updates, at=T0 + WEEK, by="csm")
    if updates:
        assert detect_changes(result.records[0], seen, directory=DIRECTORY, at=T0) == ()
