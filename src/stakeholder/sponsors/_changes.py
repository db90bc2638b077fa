"""Changes of tracked profiles: each new observation is compared with the profile as
last accepted (the record's `baseline`); a change of title, company or location
(normalised: case and spacing are never changes) is a `ProfileUpdate` waiting for the
CSM. A company change away from the account is a *departure*; a move into another
known account (by name or owned domain) is also an *opportunity* at that account.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from stakeholder._display import attrs_html, attrs_repr
from stakeholder._errors import InvalidRecord
from stakeholder.sponsors._directory import AccountDirectory
from stakeholder.sponsors._profiles import Profile, normalise
from stakeholder.sponsors._status import HistoryEntry, TrackingRecord

__all__ = [
    "ChangeField",
    "ProfileUpdate",
    "Signal",
    "UpdateState",
    "accept_updates",
    "account_timeline",
    "classify_company_change",
    "detect_changes",
    "person_history",
]


class ChangeField(enum.StrEnum):
    """The profile fields whose changes are tracked."""

    TITLE = "title"
    COMPANY = "company"
    LOCATION = "location"


class Signal(enum.StrEnum):
    """What a change means for the account: nothing special, a departure (risk), or a
    move into another known account (a departure that is an opportunity there)."""

    NONE = "none"
    DEPARTURE = "departure"
    OPPORTUNITY = "opportunity"


class UpdateState(enum.StrEnum):
    """Pending until the CSM accepts it; superseded by a newer change of the field."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    SUPERSEDED = "superseded"


_FIELDS: Final = (ChangeField.TITLE, ChangeField.COMPANY, ChangeField.LOCATION)


def update_id(person_id: str, field: str, before: str | None, after: str | None,
              baseline_at: dt.datetime) -> str:
    """Deterministic: the same change of the same baseline always has the same id."""
    text = "\x1f".join(
        (person_id, field, normalise(before), normalise(after),
         baseline_at.astimezone(dt.UTC).isoformat())
    )
    return "upd-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def _opt_time(value: Any) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


@attrs.frozen
class ProfileUpdate:
    """One change of one tracked person's profile, waiting for (or accepted by) the CSM.

    `observed_at` is when the source saw the new value, `detected_at` when this
    library compared it; `signal` and `opportunity_account_id` say what a company change
    means.
    """

    id: str
    person_id: str
    account_id: str
    field: ChangeField = attrs.field(converter=ChangeField)
    before: str | None
    after: str | None
    profile_url: str
    observed_at: dt.datetime
    detected_at: dt.datetime
    signal: Signal = attrs.field(default=Signal.NONE, converter=Signal)
    opportunity_account_id: str | None = None
    after_domain: str | None = None
    state: UpdateState = attrs.field(default=UpdateState.PENDING, converter=UpdateState)
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = None

    __repr__ = attrs_repr
    _repr_html_ = attrs_html

    def explain(self) -> str:
        what = f"{self.field.value} {self.before or '-'!s} -> {self.after or '-'!s}"
        tail = ""
        if self.signal is Signal.DEPARTURE:
            tail = f" (departure from {self.account_id})"
        elif self.signal is Signal.OPPORTUNITY:
            tail = f" (moved to known account {self.opportunity_account_id}: opportunity)"
        return f"{self.person_id} at {self.account_id}: {what}{tail} [{self.state.value}]"

    def to_dict(self) -> dict[str, Any]:
        def iso(value: dt.datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id, "person_id": self.person_id, "account_id": self.account_id,
            "field": self.field.value, "before": self.before, "after": self.after,
            "profile_url": self.profile_url, "observed_at": self.observed_at.isoformat(),
            "detected_at": self.detected_at.isoformat(), "signal": self.signal.value,
            "opportunity_account_id": self.opportunity_account_id,
            "after_domain": self.after_domain, "state": self.state.value,
            "resolved_at": iso(self.resolved_at), "resolved_by": self.resolved_by,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProfileUpdate:
        return cls(
            id=data["id"], person_id=data["person_id"], account_id=data["account_id"],
            field=data["field"], before=data.get("before"), after=data.get("after"),
            profile_url=data["profile_url"],
            observed_at=dt.datetime.fromisoformat(data["observed_at"]),
            detected_at=dt.datetime.fromisoformat(data["detected_at"]),
            signal=data.get("signal", "none"),
            opportunity_account_id=data.get("opportunity_account_id"),
            after_domain=data.get("after_domain"), state=data.get("state", "pending"),
            resolved_at=_opt_time(data.get("resolved_at")),
            resolved_by=data.get("resolved_by"),
        )


def classify_company_change(
    account_id: str, company: str | None, domain: str | None, directory: AccountDirectory
) -> tuple[Signal, str | None]:
    """(signal, other account) of a move to `company` (`domain` its web domain)."""
    if company is not None and directory.belongs(account_id, company, domain):
        return Signal.NONE, None
    other = directory.find(company, domain, other_than=account_id)
    if other is not None:
        return Signal.OPPORTUNITY, other
    return Signal.DEPARTURE, None


def detect_changes(
    record: TrackingRecord,
    observed: Profile,
    *,
    directory: AccountDirectory,
    at: dt.datetime,
) -> tuple[ProfileUpdate, ...]:
    """The changes of `observed` against the record's baseline (none without one)."""
    base = record.baseline
    if base is None:
        return ()
    out: list[ProfileUpdate] = []
    for field in _FIELDS:
        before: str | None = getattr(base, field.value)
        after: str | None = getattr(observed, field.value)
        if before == after or normalise(before) == normalise(after):
            continue
        signal, other, domain = Signal.NONE, None, None
        if field is ChangeField.COMPANY:
            domain = observed.company_domain
            signal, other = classify_company_change(record.account_id, after, domain, directory)
        out.append(ProfileUpdate(
            update_id(record.person_id, field.value, before, after, base.observed_at),
            record.person_id, record.account_id, field, before, after, observed.url,
            observed.observed_at, at, signal, other, domain,
        ))
    return tuple(out)


@attrs.frozen(repr=False)
class AcceptResult:
    """Accepted updates, the records with their new baselines, and history entries;
    `refused` lists update ids that were not pending (or whose person is unknown)."""

    updates: tuple[ProfileUpdate, ...] = ()
    records: tuple[TrackingRecord, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:
        return (
            f"AcceptResult(accepted={len(self.updates)}, records={len(self.records)}, "
            f"refused={len(self.refused)})"
        )


def _apply_to_baseline(base: Profile, update: ProfileUpdate) -> Profile:
    if update.field is ChangeField.COMPANY:
        return attrs.evolve(base, company=update.after, company_domain=update.after_domain,
                            observed_at=max(base.observed_at, update.observed_at))
    at = max(base.observed_at, update.observed_at)
    if update.field is ChangeField.TITLE:
        return attrs.evolve(base, title=update.after, observed_at=at)
    return attrs.evolve(base, location=update.after, observed_at=at)


def accept_updates(
    records: Mapping[str, TrackingRecord],
    updates: Iterable[ProfileUpdate],
    *,
    at: dt.datetime,
    by: str,
) -> AcceptResult:
    """Accept `updates` (one, an account's, or every pending one): each becomes
    `ACCEPTED` and its new value becomes the person's baseline (in observation order).
    Updates that are not pending are refused with a reason, never raised."""
    if not by:
        raise InvalidRecord(by, "accepting needs who accepts (by)")
    chosen = sorted(updates, key=lambda u: (u.person_id, u.observed_at, u.field.value, u.id))
    accepted: list[ProfileUpdate] = []
    refused: list[tuple[str, str]] = []
    history: list[HistoryEntry] = []
    changed: dict[str, TrackingRecord] = {}
    for update in chosen:
        record = changed.get(update.person_id) or records.get(update.person_id)
        if update.state is not UpdateState.PENDING:
            refused.append((update.id, f"already {update.state.value}"))
            continue
        if record is None or record.baseline is None:
            refused.append((update.id, "the person is not tracked with a baseline"))
            continue
        changed[update.person_id] = attrs.evolve(
            record, baseline=_apply_to_baseline(record.baseline, update)
        )
        accepted.append(attrs.evolve(update, state=UpdateState.ACCEPTED, resolved_at=at,
                                     resolved_by=by))
        history.append(HistoryEntry(
            update.person_id, update.account_id, at, f"accepted {update.field.value} change",
            record.status, record.status, f"{update.before or '-'} -> {update.after or '-'}",
        ))
    return AcceptResult(tuple(accepted), tuple(changed[k] for k in sorted(changed)),
                        tuple(history), tuple(refused))


def _entry_key(entry: HistoryEntry) -> tuple[int, str, str]:
    return (int(entry.at.timestamp() * 1_000_000), entry.person_id, entry.action)


def person_history(history: Iterable[HistoryEntry], person_id: str) -> list[HistoryEntry]:
    """A person's tracking history, oldest first (stable for equal times)."""
    return sorted((h for h in history if h.person_id == person_id), key=_entry_key)


def account_timeline(history: Iterable[HistoryEntry], account_id: str) -> list[HistoryEntry]:
    """The chronological timeline of an account's tracked people."""
    return sorted((h for h in history if h.account_id == account_id), key=_entry_key)
