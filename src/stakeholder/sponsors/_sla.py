"""Service levels from the product table, as a policy with the product's defaults, and
the records breaching them at a given `now` (time is a parameter, never the clock)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from stakeholder._errors import InvalidRecord
from stakeholder.sponsors._changes import ProfileUpdate
from stakeholder.sponsors._status import TrackingRecord, TrackingStatus, TrackingVia

__all__ = ["SlaBreach", "SlaKind", "SlaPolicy", "sla_breaches"]


class SlaKind(enum.StrEnum):
    """Which service level a breach is of."""

    QUEUED = "In-Progress to Pending"
    SEARCH = "Pending to Match Found"
    TRACKING = "Tracking In-Progress to Tracked"
    TRACK_ALL = "Track All"
    CHANGES = "changes reflected"


def _positive(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, dt.timedelta) or value <= dt.timedelta(0):
        raise InvalidRecord(value, f"{attribute.name} must be a positive timedelta")


@attrs.frozen
class SlaPolicy:
    """The service levels (defaults: the product's table).

    - `queued`: In-Progress to Pending, 25 minutes (bulk start tracking);
    - `search`: Pending to Match Found, 72 hours;
    - `tracking`: Tracking In-Progress to Tracked, 15 minutes of the customer's action;
    - `track_all`: a Track All done (every record Tracked), 10 minutes;
    - `changes`: new changes of tracked records reflected within 7 days (a Tracked
      record not observed for longer, or an update detected later than that after the
      source saw it, breaches).
    """

    queued: dt.timedelta = attrs.field(default=dt.timedelta(minutes=25), validator=_positive)
    search: dt.timedelta = attrs.field(default=dt.timedelta(hours=72), validator=_positive)
    tracking: dt.timedelta = attrs.field(default=dt.timedelta(minutes=15), validator=_positive)
    track_all: dt.timedelta = attrs.field(default=dt.timedelta(minutes=10), validator=_positive)
    changes: dt.timedelta = attrs.field(default=dt.timedelta(days=7), validator=_positive)


@attrs.frozen
class SlaBreach:
    """One record (or update) past its service level at `now`."""

    kind: SlaKind
    person_id: str
    account_id: str
    status: TrackingStatus
    since: dt.datetime
    due: dt.datetime
    overdue: dt.timedelta
    update_id: str | None = None

    def explain(self) -> str:
        return (
            f"{self.person_id} ({self.account_id}) {self.kind.value}: {self.status.value} "
            f"since {self.since.isoformat()}, due {self.due.isoformat()}, "
            f"overdue by {self.overdue}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value, "person_id": self.person_id,
            "account_id": self.account_id, "status": self.status.value,
            "since": self.since.isoformat(), "due": self.due.isoformat(),
            "overdue_seconds": int(self.overdue.total_seconds()),
            "update_id": self.update_id,
        }


def _record_breach(
    record: TrackingRecord, now: dt.datetime, policy: SlaPolicy,
    last_observed: Mapping[str, dt.datetime],
) -> SlaBreach | None:
    status = record.status
    start = record.since
    if status is TrackingStatus.IN_PROGRESS:
        kind, limit = SlaKind.QUEUED, policy.queued
    elif status is TrackingStatus.PENDING:
        kind, limit = SlaKind.SEARCH, policy.search
    elif status is TrackingStatus.TRACKING_IN_PROGRESS:
        start = record.requested_at or record.since
        if record.via is TrackingVia.TRACK_ALL:
            kind, limit = SlaKind.TRACK_ALL, policy.track_all
        else:
            kind, limit = SlaKind.TRACKING, policy.tracking
    elif status is TrackingStatus.TRACKED:
        kind, limit = SlaKind.CHANGES, policy.changes
        start = last_observed.get(record.person_id) or record.last_observed_at or record.since
    else:
        return None
    due = start + limit
    if now <= due:
        return None
    return SlaBreach(kind, record.person_id, record.account_id, status, start, due, now - due)


def sla_breaches(
    records: Iterable[TrackingRecord],
    *,
    now: dt.datetime,
    policy: SlaPolicy = SlaPolicy(),
    updates: Iterable[ProfileUpdate] = (),
    last_observed: Mapping[str, dt.datetime] | None = None,
) -> list[SlaBreach]:
    """Every record breaching its service level at `now`, and every update detected
    later than `policy.changes` after the source saw it; ordered by kind, then most
    overdue first, then person id."""
    if now.utcoffset() is None:
        raise InvalidRecord(now, "now must be a timezone-aware datetime")
    seen = last_observed or {}
    out = [b for r in records if (b := _record_breach(r, now, policy, seen)) is not None]
    for update in updates:
        late = update.detected_at - update.observed_at
        if late > policy.changes:
            due = update.observed_at + policy.changes
            out.append(SlaBreach(SlaKind.CHANGES, update.person_id, update.account_id,
                                 TrackingStatus.TRACKED, update.observed_at, due,
                                 update.detected_at - due, update.id))
    order = list(SlaKind)
    out.sort(key=lambda b: (order.index(b.kind), -b.overdue, b.person_id, b.update_id or ""))
    return out
