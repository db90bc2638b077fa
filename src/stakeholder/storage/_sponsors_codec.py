"""Sponsor-tracking values to rows and back, for every back end (the same storability
rules: ids are non-empty text, no string anywhere holds NUL or a lone surrogate).
Each value is kept as JSON text (ASCII escapes) beside its key and filter columns."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from stakeholder.storage import _codec as codec

if TYPE_CHECKING:
    from stakeholder.sponsors import (
        HistoryEntry,
        Observation,
        ProfileUpdate,
        Suggestion,
        TrackingRecord,
    )

TrackingRow = tuple[str, str, str, str, str]
ObservationRow = tuple[str, str, str, int, str]
SuggestionRow = tuple[str, str, str, int, str]
UpdateRow = tuple[str, str, str, str, str, int, str]
HistoryRow = tuple[str, str, str, int, str]

TRACKING_COLUMNS = ("tenant", "person_id", "account_id", "status", "doc")
OBSERVATION_COLUMNS = ("tenant", "person_id", "observed_key", "observed_us", "doc")
SUGGESTION_COLUMNS = ("tenant", "person_id", "url", "position", "doc")
UPDATE_COLUMNS = ("tenant", "id", "person_id", "account_id", "state", "observed_us", "doc")
HISTORY_COLUMNS = ("tenant", "person_id", "account_id", "at_us", "doc")


def _check(value: object, what: str) -> None:
    if isinstance(value, str):
        codec.text(value, what)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check(v, f"{what}.{k}")
    elif isinstance(value, list | tuple):
        for item in value:
            _check(item, what)


def _doc(value: Any, kind: type[Any], what: str) -> str:
    if not isinstance(value, kind):
        raise codec.Unstorable(f"{what} must be a {kind.__name__}, not {type(value).__name__}")
    data: object = value.to_dict()
    _check(data, what)
    return json.dumps(data, ensure_ascii=True, sort_keys=True, separators=(",", ":"))


def _us(value: object, what: str) -> int:
    return codec.instant(codec.aware(value, what))


def tracking_row(tenant: str, record: object) -> TrackingRow:
    from stakeholder.sponsors import TrackingRecord  # noqa: PLC0415 - no import cycle

    doc = _doc(record, TrackingRecord, "tracking record")
    assert isinstance(record, TrackingRecord)
    return (tenant, codec.key(record.person_id, "person_id"),
            codec.key(record.account_id, "account_id"), record.status.value, doc)


def observation_row(tenant: str, observation: object) -> ObservationRow:
    from stakeholder.sponsors import Observation  # noqa: PLC0415 - no import cycle

    doc = _doc(observation, Observation, "observation")
    assert isinstance(observation, Observation)
    at = _us(observation.at, "observed_at")
    return (tenant, codec.key(observation.person_id, "person_id"), f"{at:020d}", at, doc)


def suggestion_row(tenant: str, suggestion: object) -> SuggestionRow:
    from stakeholder.sponsors import Suggestion  # noqa: PLC0415 - no import cycle

    doc = _doc(suggestion, Suggestion, "suggestion")
    assert isinstance(suggestion, Suggestion)
    return (tenant, codec.key(suggestion.person_id, "person_id"),
            codec.key(suggestion.profile.url, "url"), codec.int64(suggestion.rank, "rank"),
            doc)


def update_row(tenant: str, update: object) -> UpdateRow:
    from stakeholder.sponsors import ProfileUpdate  # noqa: PLC0415 - no import cycle

    doc = _doc(update, ProfileUpdate, "update")
    assert isinstance(update, ProfileUpdate)
    _us(update.detected_at, "detected_at")
    return (tenant, codec.key(update.id, "id"), codec.key(update.person_id, "person_id"),
            codec.key(update.account_id, "account_id"), update.state.value,
            _us(update.observed_at, "observed_at"), doc)


def history_row(tenant: str, entry: object) -> HistoryRow:
    from stakeholder.sponsors import HistoryEntry  # noqa: PLC0415 - no import cycle

    doc = _doc(entry, HistoryEntry, "history entry")
    assert isinstance(entry, HistoryEntry)
    return (tenant, codec.key(entry.person_id, "person_id"),
            codec.key(entry.account_id, "account_id"), _us(entry.at, "at"), doc)


def tracking_from(doc: str) -> TrackingRecord:
    from stakeholder.sponsors import TrackingRecord  # noqa: PLC0415 - no import cycle

    return TrackingRecord.from_dict(json.loads(doc))


def observation_from(doc: str) -> Observation:
    from stakeholder.sponsors import Observation  # noqa: PLC0415 - no import cycle

    return Observation.from_dict(json.loads(doc))


def suggestion_from(doc: str) -> Suggestion:
    from stakeholder.sponsors import Suggestion  # noqa: PLC0415 - no import cycle

    return Suggestion.from_dict(json.loads(doc))


def update_from(doc: str) -> ProfileUpdate:
    from stakeholder.sponsors import ProfileUpdate  # noqa: PLC0415 - no import cycle

    return ProfileUpdate.from_dict(json.loads(doc))


def history_from(doc: str) -> HistoryEntry:
    from stakeholder.sponsors import HistoryEntry  # noqa: PLC0415 - no import cycle

    return HistoryEntry.from_dict(json.loads(doc))


def instant_or_none(value: dt.datetime | None, what: str) -> int | None:
    """A window bound's sort key; `InvalidRecord` for a naive or non-datetime one."""
    if value is None:
        return None
    return codec.one(lambda: _us(value, what), value)
