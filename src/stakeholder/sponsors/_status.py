"""Tracking statuses as the product knows them, the legal transitions between them, and
the bulk actions (bulk start tracking, Track All).

```
(untracked) --start--> In-Progress --submit--> Pending --match--> Match Found
                                                 |  ^                 |
                                        no match |  | find new match  | track match
                                                 v  |                 v
                                          No Match Found      Tracking In-Progress
                                                                      | confirm
                                                                      v
                                  stop / profile deleted ---------> Tracked
                                          Disabled <---------------------'
```
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from stakeholder._errors import InvalidRecord, StakeholderError
from stakeholder.sponsors._profiles import Profile

__all__ = [
    "TRANSITIONS",
    "BulkResult",
    "HistoryEntry",
    "IllegalTransition",
    "Skipped",
    "TrackingAction",
    "TrackingRecord",
    "TrackingStatus",
    "TrackingVia",
    "apply_action",
    "legal_actions",
    "next_status",
    "start_tracking",
    "start_tracking_many",
    "track_all",
]


class TrackingStatus(enum.StrEnum):
    """The statuses of a tracked person, spelled as the product shows them."""

    IN_PROGRESS = "In-Progress"
    PENDING = "Pending"
    MATCH_FOUND = "Match Found"
    NO_MATCH_FOUND = "No Match Found"
    TRACKED = "Tracked"
    TRACKING_IN_PROGRESS = "Tracking In-Progress"
    DISABLED = "Disabled"


class TrackingAction(enum.StrEnum):
    """What moves a person from one status to another."""

    START = "start tracking"
    SUBMIT = "submit search"
    MATCH_FOUND = "match found"
    NO_MATCH = "no match"
    FIND_NEW_MATCH = "find a new match"
    TRACK_MATCH = "start tracking the match"
    FORCE_MATCH = "paste a profile url"
    CONFIRM = "confirm tracking"
    STOP = "stop tracking"
    PROFILE_DELETED = "profile deleted"


class TrackingVia(enum.StrEnum):
    """How tracking was asked for (the SLAs differ)."""

    SINGLE = "single"
    BULK = "bulk"
    TRACK_ALL = "track all"
    FORCED = "forced"


S = TrackingStatus
A = TrackingAction

#: (status before, or None for a person never tracked, action) -> status after.
TRANSITIONS: Final[Mapping[tuple[TrackingStatus | None, TrackingAction], TrackingStatus]] = {
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

#: Bulk start tracking leaves these alone (and says so per person).
BULK_SKIPS: Final = frozenset({S.TRACKED, S.PENDING, S.MATCH_FOUND, S.NO_MATCH_FOUND})


class IllegalTransition(StakeholderError, ValueError):  # noqa: N818 - named like the rule
    """An action the current status does not allow; carries `status`, `action`,
    `person_id` and `reason`."""

    def __init__(
        self, person_id: str, status: TrackingStatus | None, action: TrackingAction
    ) -> None:
        shown = "not tracked" if status is None else status.value
        allowed = ", ".join(a.value for a in legal_actions(status)) or "nothing"
        self.reason = f"{action.value!r} is not allowed while {shown} (allowed: {allowed})"
        super().__init__(f"person {person_id!r}: {self.reason}")
        self.person_id, self.status, self.action = person_id, status, action

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.person_id, self.status, self.action))


def legal_actions(status: TrackingStatus | None) -> tuple[TrackingAction, ...]:
    """The actions allowed from `status` (None: never tracked), in declaration order."""
    return tuple(a for a in TrackingAction if (status, a) in TRANSITIONS)


def next_status(
    person_id: str, status: TrackingStatus | None, action: TrackingAction
) -> TrackingStatus:
    """The status `action` leads to, or `IllegalTransition` naming the status."""
    found = TRANSITIONS.get((status, TrackingAction(action)))
    if found is None:
        raise IllegalTransition(person_id, status, TrackingAction(action))
    return found


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.name != "since":
        return
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InvalidRecord(value, f"{attribute.name} must be a timezone-aware datetime")


def _nonempty(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidRecord(value, f"{attribute.name} must be a non-empty string")


@attrs.frozen
class TrackingRecord:
    """The tracking state of one person (a contact record of one account).

    `since` is when the current status began; `requested_at` when the customer last
    asked for tracking (the SLA clock); `profile_url` the matched or tracked profile;
    `last_observed_at` the newest observation taken for it; `baseline` the profile as
    last accepted (new observations are compared with it).
    """

    person_id: str = attrs.field(validator=_nonempty)
    account_id: str = attrs.field(validator=_nonempty)
    status: TrackingStatus = attrs.field(converter=TrackingStatus)
    since: dt.datetime = attrs.field(validator=_aware)
    via: TrackingVia = attrs.field(default=TrackingVia.SINGLE, converter=TrackingVia)
    requested_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    profile_url: str | None = None
    last_observed_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    baseline: Profile | None = None

    def apply(
        self,
        action: TrackingAction,
        at: dt.datetime,
        *,
        profile_url: str | None = None,
        via: TrackingVia | None = None,
    ) -> tuple[TrackingRecord, HistoryEntry]:
        """This record after `action` at `at`, and the history entry saying so."""
        return apply_action(self, action, at, profile_url=profile_url, via=via)

    def to_dict(self) -> dict[str, Any]:
        def iso(value: dt.datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "person_id": self.person_id,
            "account_id": self.account_id,
            "status": self.status.value,
            "since": self.since.isoformat(),
            "via": self.via.value,
            "requested_at": iso(self.requested_at),
            "profile_url": self.profile_url,
            "last_observed_at": iso(self.last_observed_at),
            "baseline": None if self.baseline is None else self.baseline.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrackingRecord:
        def time(value: Any) -> dt.datetime | None:
            return None if value is None else dt.datetime.fromisoformat(value)

        since = time(data["since"])
        assert since is not None
        return cls(
            person_id=data["person_id"],
            account_id=data["account_id"],
            status=data["status"],
            since=since,
            via=data.get("via", "single"),
            requested_at=time(data.get("requested_at")),
            profile_url=data.get("profile_url"),
            last_observed_at=time(data.get("last_observed_at")),
            baseline=None if data.get("baseline") is None else Profile.from_dict(data["baseline"]),
        )


@attrs.frozen
class HistoryEntry:
    """One step of a person's tracking history (also the account's timeline)."""

    person_id: str
    account_id: str
    at: dt.datetime
    action: str
    before: TrackingStatus | None
    after: TrackingStatus | None
    detail: str = ""

    def explain(self) -> str:
        before = "not tracked" if self.before is None else self.before.value
        after = "unchanged" if self.after is None else self.after.value
        tail = f": {self.detail}" if self.detail else ""
        return f"{self.at.isoformat()} {self.person_id} {self.action} ({before} -> {after}){tail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "account_id": self.account_id,
            "at": self.at.isoformat(),
            "action": self.action,
            "before": None if self.before is None else self.before.value,
            "after": None if self.after is None else self.after.value,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HistoryEntry:
        return cls(
            person_id=data["person_id"],
            account_id=data["account_id"],
            at=dt.datetime.fromisoformat(data["at"]),
            action=data["action"],
            before=None if data.get("before") is None else TrackingStatus(data["before"]),
            after=None if data.get("after") is None else TrackingStatus(data["after"]),
            detail=data.get("detail", ""),
        )


def apply_action(
    record: TrackingRecord,
    action: TrackingAction,
    at: dt.datetime,
    *,
    profile_url: str | None = None,
    via: TrackingVia | None = None,
) -> tuple[TrackingRecord, HistoryEntry]:
    """`record` after `action` at `at` (and its history entry); `IllegalTransition`
    when the record's status does not allow it. Tracking a match or pasting a url sets
    `profile_url`; finding a new match or starting again clears it."""
    action = TrackingAction(action)
    after = next_status(record.person_id, record.status, action)
    changes: dict[str, Any] = {"status": after, "since": at}
    if action in (A.START, A.TRACK_MATCH, A.FORCE_MATCH):
        changes["requested_at"] = at
    if via is not None:
        changes["via"] = via
    elif action is A.FORCE_MATCH:
        changes["via"] = TrackingVia.FORCED
    if action in (A.TRACK_MATCH, A.FORCE_MATCH):
        if profile_url is None:
            raise InvalidRecord(profile_url, f"{action.value!r} needs the profile url")
        changes["profile_url"] = profile_url
        changes["baseline"] = None
    elif action in (A.START, A.FIND_NEW_MATCH):
        changes["profile_url"] = None
        changes["baseline"] = None
    detail = "" if profile_url is None else profile_url
    entry = HistoryEntry(record.person_id, record.account_id, at, action.value,
                         record.status, after, detail)
    return attrs.evolve(record, **changes), entry


def start_tracking(
    person_id: str,
    account_id: str,
    at: dt.datetime,
    *,
    current: TrackingRecord | None = None,
    via: TrackingVia = TrackingVia.SINGLE,
) -> tuple[TrackingRecord, HistoryEntry]:
    """Start tracking one person (never tracked, or Disabled); `IllegalTransition`
    otherwise."""
    if current is None:
        next_status(person_id, None, A.START)
        record = TrackingRecord(person_id, account_id, S.IN_PROGRESS, at, via, requested_at=at)
        entry = HistoryEntry(person_id, account_id, at, A.START.value, None, S.IN_PROGRESS)
        return record, entry
    return apply_action(current, A.START, at, via=via)


@attrs.frozen
class Skipped:
    """A person a bulk action left alone, and why."""

    person_id: str
    status: TrackingStatus | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "status": None if self.status is None else self.status.value,
            "reason": self.reason,
        }


@attrs.frozen(repr=False)
class BulkResult:
    """What a bulk action did: the records it changed (with their history entries), the
    persons it skipped with a reason, and the ids given twice.
    `len(changed) + len(skipped) + len(duplicates)` is what came in."""

    changed: tuple[TrackingRecord, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    duplicates: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"BulkResult(changed={len(self.changed)}, skipped={len(self.skipped)}, "
            f"duplicates={len(self.duplicates)})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed": [r.to_dict() for r in self.changed],
            "skipped": [s.to_dict() for s in self.skipped],
            "duplicates": list(self.duplicates),
        }


def start_tracking_many(
    persons: Iterable[tuple[str, str]],
    existing: Mapping[str, TrackingRecord],
    at: dt.datetime,
) -> BulkResult:
    """Bulk start tracking of `(person_id, account_id)` pairs at `at`.

    Persons already Tracked, Pending, Match Found or No Match Found are skipped with a
    reason, as are those whose status does not allow starting (In-Progress, Tracking
    In-Progress); a person given twice is counted once (the rest are duplicates).
    """
    changed: list[TrackingRecord] = []
    history: list[HistoryEntry] = []
    skipped: list[Skipped] = []
    duplicates: list[str] = []
    seen: set[str] = set()
    for person_id, account_id in persons:
        if person_id in seen:
            duplicates.append(person_id)
            continue
        seen.add(person_id)
        current = existing.get(person_id)
        status = None if current is None else current.status
        if status in BULK_SKIPS:
            skipped.append(Skipped(person_id, status, f"already {status}: left as it is"))
            continue
        try:
            record, entry = start_tracking(
                person_id, account_id, at, current=current, via=TrackingVia.BULK
            )
        except IllegalTransition as exc:
            skipped.append(Skipped(person_id, status, exc.reason))
            continue
        changed.append(record)
        history.append(entry)
    return BulkResult(tuple(changed), tuple(history), tuple(skipped), tuple(duplicates))


def track_all(
    records: Iterable[TrackingRecord],
    best_urls: Mapping[str, str],
    at: dt.datetime,
) -> BulkResult:
    """"Track All": start tracking the best suggested profile (`best_urls`: person id ->
    url) of every record of the selection that is Match Found; the others are skipped
    with a reason."""
    changed: list[TrackingRecord] = []
    history: list[HistoryEntry] = []
    skipped: list[Skipped] = []
    duplicates: list[str] = []
    seen: set[str] = set()
    for record in records:
        if record.person_id in seen:
            duplicates.append(record.person_id)
            continue
        seen.add(record.person_id)
        url = best_urls.get(record.person_id)
        if record.status is not S.MATCH_FOUND:
            skipped.append(Skipped(record.person_id, record.status,
                                   f"{record.status} has no suggestion to track"))
            continue
        if url is None:
            skipped.append(Skipped(record.person_id, record.status, "no suggested profile"))
            continue
        new, entry = apply_action(record, A.TRACK_MATCH, at, profile_url=url,
                                  via=TrackingVia.TRACK_ALL)
        changed.append(new)
        history.append(entry)
    return BulkResult(tuple(changed), tuple(history), tuple(skipped), tuple(duplicates))
