"""The edges: sponsor tracking against a store and a `ProfileSource`. Each function
reads what it needs, calls the pure functions, and writes the result in one batch;
time is always a parameter.

CTAs go to the store's CTA repository (`store.ctas`, from the alerts layer) through
`stakeholder.alerts.apply_cta_plan` when the store has one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

import attrs

from stakeholder._errors import InvalidRecord
from stakeholder._model import Account, Contact
from stakeholder._ownership import DomainOwnership
from stakeholder._progress import Progress, ProgressTicker
from stakeholder.alerts import CTA, CtaPlan
from stakeholder.sponsors._changes import (
    AcceptResult,
    ProfileUpdate,
    UpdateState,
    accept_updates,
)
from stakeholder.sponsors._directory import AccountDirectory
from stakeholder.sponsors._matching import MatchPolicy, MatchResult, match_person
from stakeholder.sponsors._profiles import (
    Observation,
    PersonQuery,
    Profile,
    ProfileGone,
    ProfileSource,
)
from stakeholder.sponsors._round import ObservationRound, observe_round
from stakeholder.sponsors._status import (
    BulkResult,
    HistoryEntry,
    TrackingAction,
    TrackingRecord,
    TrackingStatus,
    apply_action,
    start_tracking,
    start_tracking_many,
    track_all,
)

if TYPE_CHECKING:
    from stakeholder.storage._sponsors_protocols import SponsorRepositories

__all__ = [
    "SponsorStore",
    "accept",
    "find_matches",
    "force_match",
    "run_observation_round",
    "stop_tracking",
    "track_people",
    "track_suggestions",
]


class SponsorStore(Protocol):
    """What the workflow needs of a store (every shipped store has it)."""

    @property
    def sponsors(self) -> SponsorRepositories: ...

    def batch(self) -> AbstractContextManager[None]: ...


def _write(store: SponsorStore, tenant: str, records: Sequence[TrackingRecord],
           history: Sequence[HistoryEntry]) -> None:
    with store.batch():
        if records:
            store.sponsors.tracking.put_many(tenant, records)
        if history:
            store.sponsors.history.add_many(tenant, history)


def track_people(
    store: SponsorStore, tenant: str, contacts: Iterable[Contact], *, at: dt.datetime,
    bulk: bool = True,
) -> BulkResult:
    """Start tracking contacts (bulk: those already Tracked, Pending, Match Found or No
    Match Found are skipped with a reason). With `bulk=False` (one person) an
    illegal start raises `IllegalTransition`."""
    people = list(contacts)
    existing = {
        c.id: r for c in people if (r := store.sponsors.tracking.get(tenant, c.id)) is not None
    }
    if not bulk:
        if len(people) != 1:
            raise InvalidRecord(len(people), "a single start tracks exactly one person")
        record, entry = start_tracking(people[0].id, people[0].account_id, at,
                                       current=existing.get(people[0].id))
        result = BulkResult((record,), (entry,))
    else:
        result = start_tracking_many(((c.id, c.account_id) for c in people), existing, at)
    _write(store, tenant, result.changed, result.history)
    return result


def find_matches(
    store: SponsorStore, tenant: str, source: ProfileSource, *,
    contacts: Iterable[Contact], accounts: Iterable[Account], at: dt.datetime,
    ownership: DomainOwnership | None = None, policy: MatchPolicy | None = None,
    progress: Progress | None = None,
) -> list[MatchResult]:
    """Search and match every In-Progress or Pending person among `contacts`: In-Progress
    ones are submitted (Pending), then each is Match Found (suggestions stored, ranked)
    or No Match Found. Returns the results, by person id."""
    by_id = {a.id: a for a in accounts}
    out: list[MatchResult] = []
    ticker = ProgressTicker(progress, every=100)
    for contact in sorted(contacts, key=lambda c: c.id):
        ticker.advance()
        record = store.sponsors.tracking.get(tenant, contact.id)
        account = by_id.get(contact.account_id)
        if record is None or account is None or record.status not in (
                TrackingStatus.IN_PROGRESS, TrackingStatus.PENDING):
            continue
        history: list[HistoryEntry] = []
        if record.status is TrackingStatus.IN_PROGRESS:
            record, entry = apply_action(record, TrackingAction.SUBMIT, at)
            history.append(entry)
        candidates = source.search(PersonQuery.of(contact, account))
        result = match_person(contact, account, candidates, ownership=ownership,
                              policy=policy or MatchPolicy())
        action = (TrackingAction.MATCH_FOUND if result.status is TrackingStatus.MATCH_FOUND
                  else TrackingAction.NO_MATCH)
        record, entry = apply_action(record, action, at)
        history.append(attrs.evolve(entry, detail=result.reason))
        with store.batch():
            _write(store, tenant, [record], history)
            store.sponsors.suggestions.replace(tenant, contact.id, result.suggestions)
        out.append(result)
    ticker.close()
    return out


def _apply_one(store: SponsorStore, tenant: str, person_id: str, action: TrackingAction, *,
               at: dt.datetime, url: str | None = None) -> TrackingRecord:
    record = store.sponsors.tracking.get(tenant, person_id)
    if record is None:
        from stakeholder.sponsors._status import next_status  # noqa: PLC0415 - error path

        next_status(person_id, None, action)  # raises IllegalTransition: never tracked
        raise AssertionError("unreachable")  # pragma: no cover
    record, entry = apply_action(record, action, at, profile_url=url)
    _write(store, tenant, [record], [entry])
    return record


def force_match(store: SponsorStore, tenant: str, person_id: str, url: str, *,
                at: dt.datetime) -> TrackingRecord:
    """Track the profile at a pasted `url` (an In-Progress person is submitted first)."""
    record = store.sponsors.tracking.get(tenant, person_id)
    if record is not None and record.status is TrackingStatus.IN_PROGRESS:
        _apply_one(store, tenant, person_id, TrackingAction.SUBMIT, at=at)
    return _apply_one(store, tenant, person_id, TrackingAction.FORCE_MATCH, at=at, url=url)


def stop_tracking(store: SponsorStore, tenant: str, person_id: str, *,
                  at: dt.datetime) -> TrackingRecord:
    """Stop tracking one person (refused with `IllegalTransition` while In-Progress)."""
    return _apply_one(store, tenant, person_id, TrackingAction.STOP, at=at)


def track_suggestions(
    store: SponsorStore, tenant: str, *, at: dt.datetime,
    person_ids: Iterable[str] | None = None, account_id: str | None = None,
) -> BulkResult:
    """"Track All": start tracking the best suggestion of every Match Found person of
    the selection (`person_ids`, or an account's, or everyone's)."""
    if person_ids is None:
        records = store.sponsors.tracking.list(tenant, account_id=account_id)
    else:
        found = [store.sponsors.tracking.get(tenant, p) for p in person_ids]
        records = [r for r in found if r is not None]
    best: dict[str, str] = {}
    for record in records:
        if record.status is TrackingStatus.MATCH_FOUND:
            ranked = store.sponsors.suggestions.list(tenant, record.person_id)
            if ranked:
                best[record.person_id] = ranked[0].profile.url
    result = track_all(records, best, at)
    _write(store, tenant, result.changed, result.history)
    return result


def _stored_ctas(store: object, tenant: str) -> list[CTA] | None:
    ctas = getattr(store, "ctas", None)
    if ctas is None:
        return None
    found: list[CTA] = ctas.list(tenant, open_only=True)
    return found


def _apply_ctas(store: object, tenant: str, plan: CtaPlan) -> None:
    if getattr(store, "ctas", None) is not None and not plan.is_empty:
        from stakeholder.alerts._apply import apply_cta_plan  # noqa: PLC0415 - optional

        apply_cta_plan(store, tenant, plan)  # type: ignore[arg-type]


def run_observation_round(
    store: SponsorStore, tenant: str, source: ProfileSource, *,
    directory: AccountDirectory, at: dt.datetime,
    assignees: Mapping[str, str] | None = None, progress: Progress | None = None,
) -> ObservationRound:
    """Fetch every Tracked / Tracking In-Progress profile from `source`, observe, and
    write: records, new and superseded updates, history, observations, and the CTAs
    (when the store has a CTA repository)."""
    records = [
        r for status in (TrackingStatus.TRACKED, TrackingStatus.TRACKING_IN_PROGRESS)
        for r in store.sponsors.tracking.list(tenant, status=status)
    ]
    fetched: dict[str, Profile | ProfileGone] = {}
    for record in records:
        if record.profile_url is not None and record.profile_url not in fetched:
            fetched[record.profile_url] = source.fetch(record.profile_url)
    pending = {u.id: u for u in store.sponsors.updates.list(tenant, state=UpdateState.PENDING)}
    result = observe_round(records, fetched, directory=directory, at=at, pending=pending,
                           existing_ctas=_stored_ctas(store, tenant) or (),
                           assignees=assignees, progress=progress)
    _save_round(store, tenant, records, fetched, result)
    return result


def _save_round(store: SponsorStore, tenant: str, records: Sequence[TrackingRecord],
                fetched: Mapping[str, Profile | ProfileGone], result: ObservationRound) -> None:
    changed = {r.person_id: r for r in result.records}
    seen = set(result.observed)
    written: list[TrackingRecord] = []
    observations: list[Observation] = []
    for record in records:
        if record.person_id not in seen or record.profile_url is None:
            continue
        observations.append(Observation(record.person_id, fetched[record.profile_url]))
        new = changed.get(record.person_id, record)
        written.append(attrs.evolve(new, last_observed_at=result.at))
    with store.batch():
        store.sponsors.tracking.put_many(tenant, written)
        store.sponsors.observations.add_many(tenant, observations)
        store.sponsors.updates.put_many(tenant, [*result.updates, *result.superseded])
        store.sponsors.history.add_many(tenant, result.history)
        _apply_ctas(store, tenant, result.ctas)


def accept(
    store: SponsorStore, tenant: str, *, at: dt.datetime, by: str,
    update_ids: Iterable[str] | None = None, account_id: str | None = None,
) -> AcceptResult:
    """Accept updates: the ones named, or every pending one of an account, or every
    pending one across accounts; their new values become the baselines."""
    if update_ids is not None:
        found = [store.sponsors.updates.get(tenant, u) for u in update_ids]
        updates: list[ProfileUpdate] = [u for u in found if u is not None]
        missing = [(u, "no such update") for u, f in zip(update_ids, found, strict=False)
                   if f is None]
    else:
        updates = store.sponsors.updates.list(tenant, account_id=account_id,
                                              state=UpdateState.PENDING)
        missing = []
    people = {u.person_id for u in updates}
    records = {p: r for p in people if (r := store.sponsors.tracking.get(tenant, p)) is not None}
    result = accept_updates(records, updates, at=at, by=by)
    with store.batch():
        store.sponsors.updates.put_many(tenant, result.updates)
        _write(store, tenant, result.records, result.history)
    return attrs.evolve(result, refused=(*result.refused, *missing))
