"""One observation round: fetch results for the tracked profiles in, changes, status
moves (confirmed, deleted) and the CTAs they open out. Pure: the fetching and the
writing happen at the edges (`stakeholder.sponsors.run_observation_round`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from stakeholder._progress import Progress, ProgressTicker
from stakeholder.alerts import CTA, CtaCategory, CtaPlan, CtaPriority, CtaSource, plan_ctas
from stakeholder.sponsors._changes import (
    ChangeField,
    ProfileUpdate,
    Signal,
    UpdateState,
    detect_changes,
)
from stakeholder.sponsors._directory import AccountDirectory
from stakeholder.sponsors._profiles import Profile, ProfileGone
from stakeholder.sponsors._status import (
    HistoryEntry,
    TrackingAction,
    TrackingRecord,
    TrackingStatus,
)

__all__ = ["ObservationRound", "observe_round", "plan_sponsor_ctas"]

_TRACKED: Final = TrackingStatus.TRACKED
_CONFIRMING: Final = TrackingStatus.TRACKING_IN_PROGRESS


@attrs.frozen(repr=False)
class ObservationRound:
    """What one round found: `records` whose status or baseline changed, new `updates`,
    pending updates a newer change `superseded`, `history` entries, the person ids
    `observed` (a fetch result was there) and `missing` (none was), and the `ctas`
    plan for the new updates."""

    at: dt.datetime
    records: tuple[TrackingRecord, ...] = ()
    updates: tuple[ProfileUpdate, ...] = ()
    superseded: tuple[ProfileUpdate, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    observed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    ctas: CtaPlan = attrs.field(factory=CtaPlan)

    def counts(self) -> dict[str, int]:
        return {
            "observed": len(self.observed),
            "missing": len(self.missing),
            "records_changed": len(self.records),
            "updates": len(self.updates),
            "superseded": len(self.superseded),
            "ctas_opened": len(self.ctas.opened),
            "ctas_updated": len(self.ctas.updated),
        }

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        return f"ObservationRound({inner})"


def _status_move(
    record: TrackingRecord, fetched: Profile | ProfileGone, at: dt.datetime
) -> tuple[TrackingRecord, HistoryEntry] | None:
    if isinstance(fetched, ProfileGone):
        new, entry = record.apply(TrackingAction.PROFILE_DELETED, at)
        return attrs.evolve(new, last_observed_at=at), attrs.evolve(entry, detail=fetched.reason)
    if record.status is _CONFIRMING:
        new, entry = record.apply(TrackingAction.CONFIRM, at)
        return attrs.evolve(new, baseline=fetched, last_observed_at=at), entry
    return None


def _supersede(
    new: Iterable[ProfileUpdate], pending: Mapping[str, ProfileUpdate], at: dt.datetime
) -> list[ProfileUpdate]:
    fresh = {(u.person_id, u.field) for u in new}
    ids = {u.id for u in new}
    return [
        attrs.evolve(p, state=UpdateState.SUPERSEDED, resolved_at=at, resolved_by="newer change")
        for p in sorted(pending.values(), key=lambda u: u.id)
        if p.state is UpdateState.PENDING and (p.person_id, p.field) in fresh
        and p.id not in ids
    ]


def observe_round(
    records: Iterable[TrackingRecord],
    fetched: Mapping[str, Profile | ProfileGone],
    *,
    directory: AccountDirectory,
    at: dt.datetime,
    pending: Mapping[str, ProfileUpdate] | None = None,
    existing_ctas: Iterable[CTA] = (),
    assignees: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> ObservationRound:
    """Compare each Tracked (or Tracking In-Progress) record's profile, as `fetched`
    (by url) at `at`, with its baseline. A Tracking In-Progress record with a profile
    becomes Tracked (the profile its baseline); a gone profile makes the record
    Disabled; a change of a Tracked one is a new update unless `pending` already holds
    it (by id). Only new updates of Tracked records plan CTAs."""
    pending = pending or {}
    changed: list[TrackingRecord] = []
    history: list[HistoryEntry] = []
    updates: list[ProfileUpdate] = []
    observed: list[str] = []
    missing: list[str] = []
    ticker = ProgressTicker(progress, every=100_000)
    for record in records:
        ticker.advance()
        status, url = record.status, record.profile_url
        if (status is not _TRACKED and status is not _CONFIRMING) or url is None:
            continue
        got = fetched.get(url)
        if got is None:
            missing.append(record.person_id)
            continue
        observed.append(record.person_id)
        base = record.baseline
        if status is _TRACKED and base is not None and type(got) is Profile and (
            got.title == base.title and got.company == base.company
            and got.location == base.location
        ):
            continue  # the fast path: nothing differs, not even in case or spacing
        move = _status_move(record, got, at)
        if move is not None:
            changed.append(move[0])
            history.append(move[1])
            continue
        assert isinstance(got, Profile)
        for update in detect_changes(record, got, directory=directory, at=at):
            if update.id not in pending:
                updates.append(update)
                history.append(HistoryEntry(
                    update.person_id, update.account_id, at,
                    f"{update.field.value} changed", status, status,
                    f"{update.before or '-'} -> {update.after or '-'}",
                ))
    ticker.close()
    plan = plan_sponsor_ctas(updates, existing=existing_ctas, now=at, assignees=assignees)
    return ObservationRound(
        at, tuple(changed), tuple(updates), tuple(_supersede(updates, pending, at)),
        tuple(history), tuple(observed), tuple(missing), plan,
    )


_PRIORITY: Final = {
    ChangeField.TITLE: CtaPriority.MEDIUM,
    ChangeField.LOCATION: CtaPriority.LOW,
    ChangeField.COMPANY: CtaPriority.MEDIUM,
}


def _cta_for(
    person_id: str, account_id: str, changes: list[ProfileUpdate], now: dt.datetime,
    assignees: Mapping[str, str],
) -> CTA:
    departure = [u for u in changes if u.signal is not Signal.NONE]
    fields = ", ".join(u.field.value for u in changes)
    if departure:
        category, priority, kind = CtaCategory.RISK, CtaPriority.HIGH, "risk"
        reason = f"sponsor {person_id} left {account_id} for {departure[0].after or 'no company'}"
    else:
        category, kind = CtaCategory.SPONSOR_CHANGE, "sponsor-change"
        priority = max((_PRIORITY[u.field] for u in changes), key=lambda p: p.rank)
        reason = f"sponsor {person_id} changed {fields}"
    details = {f"{u.field.value}": f"{u.before or '-'} -> {u.after or '-'}" for u in changes}
    details["updates"] = " ".join(sorted(u.id for u in changes))
    return CTA.open(
        account_id=account_id, source=CtaSource.sponsor_change(person_id), type=kind,
        reason=reason, category=category, priority=priority, at=now,
        assignee=assignees.get(account_id), details=details,
        due_at=now + dt.timedelta(days=7),
    )


def _opportunity_cta(update: ProfileUpdate, now: dt.datetime,
                     assignees: Mapping[str, str]) -> CTA:
    other = update.opportunity_account_id or ""
    return CTA.open(
        account_id=other, source=CtaSource.sponsor_change(update.person_id),
        type="opportunity",
        reason=f"{update.person_id}, a sponsor at {update.account_id}, joined {update.after}",
        category=CtaCategory.OPPORTUNITY, priority=CtaPriority.MEDIUM, at=now,
        assignee=assignees.get(other),
        details={"from account": update.account_id, "update": update.id},
        due_at=now + dt.timedelta(days=7),
    )


def plan_sponsor_ctas(
    updates: Iterable[ProfileUpdate],
    *,
    existing: Iterable[CTA] = (),
    now: dt.datetime,
    assignees: Mapping[str, str] | None = None,
) -> CtaPlan:
    """The CTAs that pending changes open, through the alerts CTA model: one per person
    at the tracked account (a departure is a high-priority risk; other changes a sponsor
    change) and one opportunity at the other known account a sponsor moved into. One
    open CTA per person and account (`plan_ctas` dedupes and updates)."""
    assignees = assignees or {}
    by_person: dict[tuple[str, str], list[ProfileUpdate]] = {}
    candidates: list[CTA] = []
    for update in updates:
        if update.state is not UpdateState.PENDING:
            continue
        by_person.setdefault((update.person_id, update.account_id), []).append(update)
        if update.signal is Signal.OPPORTUNITY and update.opportunity_account_id:
            candidates.append(_opportunity_cta(update, now, assignees))
    for (person_id, account_id), changes in sorted(by_person.items()):
        changes.sort(key=lambda u: (u.field.value, u.id))
        candidates.append(_cta_for(person_id, account_id, changes, now, assignees))
    return plan_ctas(candidates, existing=existing, now=now)
