"""Tracking statuses: every legal transition, every refused one (a typed error naming
the status), bulk start tracking and Track All; and a hypothesis state machine that
drives random actions and observations against a simple model of the statuses."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from stakeholder.sponsors import (
    TRANSITIONS,
    AccountDirectory,
    IllegalTransition,
    Profile,
    ProfileGone,
    TrackingAction,
    TrackingRecord,
    TrackingStatus,
    TrackingVia,
    apply_action,
    legal_actions,
    next_status,
    observe_round,
    start_tracking,
    start_tracking_many,
    track_all,
)

S, A = TrackingStatus, TrackingAction
T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
URL = "https://profiles.example/jane"

EXPECTED = {
    (None, A.START): S.IN_PROGRESS,
    (S.DISABLED, A.START): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.SUBMIT): S.PENDING,
    (S.PENDING, A.MATCH_FOUND): S.MATCH_FOUND,
    (S.PENDING, A.NO_MATCH): S.NO_MATCH_FOUND,
    (S.MATCH_FOUND, A.FIND_NEW_MATCH): S.PENDING,
    (S.NO_MATCH_FOUND, A.FIND_NEW_MATCH): S.PENDING,
    (S.TRACKED, A.FIND_NEW_MATCH): S.PENDING,
    (S.MATCH_FOUND, A.TRACK_MATCH): S.TRACKING_IN_PROGRESS,
    (S.PENDING, A.FORCE_MATCH): S.TRACKING_IN_PROGRESS,
    (S.MATCH_FOUND, A.FORCE_MATCH): S.TRACKING_IN_PROGRESS,
    (S.NO_MATCH_FOUND, A.FORCE_MATCH): S.TRACKING_IN_PROGRESS,
    (S.TRACKED, A.FORCE_MATCH): S.TRACKING_IN_PROGRESS,
    (S.TRACKING_IN_PROGRESS, A.CONFIRM): S.TRACKED,
    (S.PENDING, A.STOP): S.DISABLED,
    (S.MATCH_FOUND, A.STOP): S.DISABLED,
    (S.NO_MATCH_FOUND, A.STOP): S.DISABLED,
    (S.TRACKING_IN_PROGRESS, A.STOP): S.DISABLED,
    (S.TRACKED, A.STOP): S.DISABLED,
    (S.TRACKING_IN_PROGRESS, A.PROFILE_DELETED): S.DISABLED,
    (S.TRACKED, A.PROFILE_DELETED): S.DISABLED,
}
ALL_PAIRS = list(itertools.product([None, *S], A))


def test_the_statuses_are_spelled_as_the_product_does() -> None:
    assert [s.value for s in S] == [
        "In-Progress", "Pending", "Match Found", "No Match Found", "Tracked",
        "Tracking In-Progress", "Disabled",
    ]
    assert dict(TRANSITIONS) == EXPECTED


def _record(status: S) -> TrackingRecord:
    return TrackingRecord("p1", "acme", status, T0, profile_url=URL)


def _apply(status: S | None, action: A) -> TrackingRecord:
    if status is None:
        assert action is A.START
        return start_tracking("p1", "acme", T0)[0]
    url = URL if action in (A.TRACK_MATCH, A.FORCE_MATCH) else None
    return apply_action(_record(status), action, T0 + dt.timedelta(minutes=1), profile_url=url)[0]


@pytest.mark.parametrize(("status", "action"), list(EXPECTED), ids=str)
def test_every_legal_transition(status: S | None, action: A) -> None:
    after = _apply(status, action)
    assert after.status is EXPECTED[(status, action)]
    assert action in legal_actions(status)


def _act(current: TrackingRecord | None, person: str, action: A,
         at: dt.datetime) -> TrackingRecord:
    """`action` on a person's record (None: never tracked); raises when refused."""
    if current is None:
        if action is not A.START:
            next_status(person, None, action)
        return start_tracking(person, "acme", at)[0]
    url = f"https://x/{person}" if action in (A.TRACK_MATCH, A.FORCE_MATCH) else None
    return apply_action(current, action, at, profile_url=url)[0]


@pytest.mark.parametrize(("status", "action"),
                         [p for p in ALL_PAIRS if p not in EXPECTED], ids=str)
def test_every_refused_transition_names_the_status(status: S | None, action: A) -> None:
    record = None if status is None else _record(status)
    with pytest.raises(IllegalTransition) as caught:
        _act(record, "p1", action, T0)
    error = caught.value
    assert error.status is status
    assert error.action is action
    assert error.person_id == "p1"
    shown = "not tracked" if status is None else status.value
    assert shown in str(error)
    assert action.value in str(error)
    assert isinstance(error, ValueError)


def test_stop_tracking_is_refused_while_in_progress() -> None:
    record = start_tracking("p1", "acme", T0)[0]
    with pytest.raises(IllegalTransition, match="while In-Progress"):
        apply_action(record, A.STOP, T0)


def test_history_entries_and_fields_of_a_transition() -> None:
    record, entry = start_tracking("p1", "acme", T0)
    assert (entry.before, entry.after, entry.action) == (None, S.IN_PROGRESS, "start tracking")
    record, _ = apply_action(record, A.SUBMIT, T0)
    record, _ = apply_action(record, A.MATCH_FOUND, T0)
    record, entry = apply_action(record, A.TRACK_MATCH, T0, profile_url=URL)
    assert record.profile_url == URL
    assert record.requested_at == T0
    assert "Match Found -> Tracking In-Progress" in entry.explain()
    with pytest.raises(ValueError, match="profile url"):
        apply_action(_record(S.MATCH_FOUND), A.TRACK_MATCH, T0)
    again, _ = apply_action(record, A.STOP, T0)
    assert again.status is S.DISABLED
    restarted, _ = start_tracking("p1", "acme", T0, current=again)
    assert restarted.status is S.IN_PROGRESS
    assert restarted.profile_url is None


def test_bulk_start_skips_with_a_reason_per_person() -> None:
    existing = {f"p-{s.name}": TrackingRecord(f"p-{s.name}", "acme", s, T0) for s in S}
    persons = [(pid, "acme") for pid in sorted(existing)] + [("new", "acme"), ("new", "acme")]
    result = start_tracking_many(persons, existing, T0)
    changed = {r.person_id: r for r in result.changed}
    assert set(changed) == {"new", "p-DISABLED"}
    assert all(r.status is S.IN_PROGRESS and r.via is TrackingVia.BULK for r in result.changed)
    skipped = {s.person_id: s for s in result.skipped}
    for status in (S.TRACKED, S.PENDING, S.MATCH_FOUND, S.NO_MATCH_FOUND):
        assert skipped[f"p-{status.name}"].reason == f"already {status.value}: left as it is"
    assert "not allowed while In-Progress" in skipped["p-IN_PROGRESS"].reason
    assert "p-TRACKING_IN_PROGRESS" in skipped
    assert result.duplicates == ("new",)
    assert len(result.changed) + len(result.skipped) + len(result.duplicates) == len(persons)
    assert repr(result) == "BulkResult(changed=2, skipped=6, duplicates=1)"


def test_track_all_accepts_every_suggested_profile_of_a_selection() -> None:
    records = [TrackingRecord("a", "acme", S.MATCH_FOUND, T0),
               TrackingRecord("b", "acme", S.MATCH_FOUND, T0),
               TrackingRecord("c", "acme", S.PENDING, T0)]
    result = track_all(records, {"a": "https://x/a"}, T0)
    assert [(r.person_id, r.status, r.via, r.profile_url) for r in result.changed] == [
        ("a", S.TRACKING_IN_PROGRESS, TrackingVia.TRACK_ALL, "https://x/a")]
    assert {s.person_id: s.reason for s in result.skipped} == {
        "b": "no suggested profile", "c": "Pending has no suggestion to track"}


# ----------------------------------------------------------------- stateful model


_ACTIONS = list(A)


class TrackingMachine(RuleBasedStateMachine):
    """Random actions and observation rounds against a dict model of the statuses."""

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, S | None] = {"p1": None, "p2": None}
        self.records: dict[str, TrackingRecord] = {}
        self.now = T0
        self.directory = AccountDirectory([])

    def _tick(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=7)
        return self.now

    @rule(person=st.sampled_from(["p1", "p2"]), action=st.sampled_from(_ACTIONS))
    def act(self, person: str, action: A) -> None:
        status = self.model[person]
        expected = EXPECTED.get((status, action))
        at = self._tick()
        current = self.records.get(person)
        if expected is None:
            with pytest.raises(IllegalTransition) as caught:
                _act(current, person, action, at)
            assert caught.value.status is status
            return
        record = _act(current, person, action, at)
        assert record is not None
        assert record.status is expected
        self.records[person] = record
        self.model[person] = expected

    @rule(gone=st.booleans(), title=st.sampled_from(["VP", "vp ", "CEO"]))
    def observe(self, gone: bool, title: str) -> None:
        at = self._tick()
        fetched: dict[str, Profile | ProfileGone] = {}
        for person in self.records:
            url = f"https://x/{person}"
            fetched[url] = ProfileGone(url, at) if gone else Profile(
                "file", url, person, at, title=title)
        result = observe_round(list(self.records.values()), fetched,
                               directory=self.directory, at=at)
        for record in result.records:
            self.records[record.person_id] = record
        for person, status in self.model.items():
            url_ok = person in self.records and self.records[person].profile_url is not None
            if status in (S.TRACKED, S.TRACKING_IN_PROGRESS) and url_ok:
                self.model[person] = S.DISABLED if gone else S.TRACKED
        for update in result.updates:
            assert self.model[update.person_id] is S.TRACKED
        assert all(c.account_id == "acme" for c in result.ctas.opened)

    @invariant()
    def statuses_agree(self) -> None:
        for person, status in self.model.items():
            got = self.records[person].status if person in self.records else None
            assert got is status


TestTrackingMachine = TrackingMachine.TestCase
TestTrackingMachine.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
