"""The in-memory sponsor-tracking repositories (`MemoryStore().sponsors`): the values
themselves, checked with the SQL back ends' storability rules, inside the memory
store's atomic batches."""

from __future__ import annotations

import builtins
import datetime as dt
import itertools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from stakeholder.storage import _codec as codec
from stakeholder.storage import _sponsors_codec as sc
from stakeholder.storage._memory import _Tables
from stakeholder.storage._records import WriteResult

if TYPE_CHECKING:
    from stakeholder.sponsors import (
        HistoryEntry,
        Observation,
        ProfileUpdate,
        Suggestion,
        TrackingRecord,
        TrackingStatus,
        UpdateState,
    )

__all__ = ["MemorySponsors"]

_TABLES = ("sponsor_tracking", "sponsor_observations", "sponsor_suggestions",
           "sponsor_updates", "sponsor_history")


class _Repo:
    table = ""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables
        self._t.data.setdefault(self.table, {})

    def _rows(self, tenant: str) -> dict[str, Any]:
        return self._t.rows(self.table, codec.check_tenant(tenant))

    def _put_many(
        self, tenant: str, items: Iterable[Any], encode: Callable[[str, object], tuple[Any, ...]],
        key: Callable[[Any], str],
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        pairs, rejections = sc_batch(tenant, items, encode, key, self.table)
        with self._t.transaction():
            for k, value in pairs:
                self._t.set(self.table, tenant, k, value)
        return codec.write_result(len(pairs), rejections)

    def _count(self, tenant: str) -> int:
        with self._t.lock:
            return len(self._rows(tenant))


def sc_batch(
    tenant: str, items: Iterable[Any], encode: Callable[[str, object], tuple[Any, ...]],
    key: Callable[[Any], str], where: str,
) -> tuple[builtins.list[tuple[str, Any]], builtins.list[Any]]:
    """(key, value) pairs of the storable items (a later duplicate key wins)."""

    def pair(item: Any) -> tuple[str, Any]:
        encode(tenant, item)  # the storability check every back end applies
        return key(item), item

    return codec.encode_batch(items, pair, lambda p: p[0], where)


class MemoryTracking(_Repo):
    table = "sponsor_tracking"

    def put(self, tenant: str, record: TrackingRecord) -> None:
        tenant = codec.check_tenant(tenant)
        codec.one(lambda: sc.tracking_row(tenant, record), record)
        with self._t.transaction():
            self._t.set(self.table, tenant, record.person_id, record)

    def put_many(self, tenant: str, records: Iterable[TrackingRecord]) -> WriteResult:
        return self._put_many(tenant, records, sc.tracking_row, lambda r: r.person_id)

    def get(self, tenant: str, person_id: str) -> TrackingRecord | None:
        key = codec.lookup_key(person_id, "person_id")
        with self._t.lock:
            found: TrackingRecord | None = self._rows(tenant).get(key or "")
            return found

    def list(
        self, tenant: str, *, account_id: str | None = None,
        status: TrackingStatus | None = None,
    ) -> builtins.list[TrackingRecord]:
        with self._t.lock:
            rows = self._rows(tenant)
            return [
                rows[k] for k in sorted(rows)
                if (account_id is None or rows[k].account_id == account_id)
                and (status is None or rows[k].status == status)
            ]

    def count(self, tenant: str, *, status: TrackingStatus | None = None) -> int:
        if status is None:
            return self._count(tenant)
        return len(self.list(tenant, status=status))

    def delete(self, tenant: str, person_id: str) -> bool:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(person_id, "person_id")
        if key is None:
            return False
        with self._t.transaction():
            return self._t.delete(self.table, tenant, key)


def _obs_key(observation: Observation) -> str:
    return f"{observation.person_id}\x00{codec.instant(observation.at):020d}"


class MemoryObservations(_Repo):
    table = "sponsor_observations"

    def add_many(self, tenant: str, observations: Iterable[Observation]) -> WriteResult:
        return self._put_many(tenant, observations, sc.observation_row, _obs_key)

    def list(self, tenant: str, person_id: str) -> builtins.list[Observation]:
        key = codec.lookup_key(person_id, "person_id")
        with self._t.lock:
            found = [o for o in self._rows(tenant).values() if o.person_id == key]
        return sorted(found, key=lambda o: codec.instant(o.at))

    def latest(self, tenant: str, person_id: str) -> Observation | None:
        found = self.list(tenant, person_id)
        return found[-1] if found else None

    def count(self, tenant: str) -> int:
        return self._count(tenant)


class MemorySuggestions(_Repo):
    table = "sponsor_suggestions"

    def replace(
        self, tenant: str, person_id: str, suggestions: Iterable[Suggestion]
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(person_id, "person_id")
        mine, others = split_person(suggestions, person_id)
        pairs, rejections = sc_batch(
            tenant, mine, sc.suggestion_row, lambda s: s.profile.url, self.table
        )
        with self._t.transaction():
            rows = self._t.rows(self.table, tenant)
            for k in [k for k, v in rows.items() if v.person_id == key]:
                self._t.delete(self.table, tenant, k)
            for url, value in pairs:
                self._t.set(self.table, tenant, f"{person_id}\x00{url}", value)
        return codec.write_result(len(pairs), rejections + others)

    def list(self, tenant: str, person_id: str) -> builtins.list[Suggestion]:
        with self._t.lock:
            found = [s for s in self._rows(tenant).values() if s.person_id == person_id]
        return sorted(found, key=lambda s: (s.rank, s.profile.url))

    def count(self, tenant: str) -> int:
        return self._count(tenant)


def split_person(
    suggestions: Iterable[Suggestion], person_id: str
) -> tuple[builtins.list[Suggestion], builtins.list[Any]]:
    """The suggestions of `person_id`, and rejections for the others."""
    from stakeholder._model import Rejection  # noqa: PLC0415 - kept local

    mine: builtins.list[Suggestion] = []
    others: builtins.list[Any] = []
    for s in suggestions:
        if getattr(s, "person_id", None) == person_id:
            mine.append(s)
        else:
            others.append(Rejection.of("sponsor_suggestions",
                                       "a suggestion of another person", s))
    return mine, others


def _in_window(at: int, low: int | None, high: int | None) -> bool:
    return (low is None or at >= low) and (high is None or at < high)


class MemoryUpdates(_Repo):
    table = "sponsor_updates"

    def put(self, tenant: str, update: ProfileUpdate) -> None:
        tenant = codec.check_tenant(tenant)
        codec.one(lambda: sc.update_row(tenant, update), update)
        with self._t.transaction():
            self._t.set(self.table, tenant, update.id, update)

    def put_many(self, tenant: str, updates: Iterable[ProfileUpdate]) -> WriteResult:
        return self._put_many(tenant, updates, sc.update_row, lambda u: u.id)

    def get(self, tenant: str, update_id: str) -> ProfileUpdate | None:
        key = codec.lookup_key(update_id, "update_id")
        with self._t.lock:
            found: ProfileUpdate | None = self._rows(tenant).get(key or "")
            return found

    def list(
        self, tenant: str, *, account_id: str | None = None, person_id: str | None = None,
        state: UpdateState | None = None, since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> builtins.list[ProfileUpdate]:
        low = sc.instant_or_none(since, "since")
        high = sc.instant_or_none(until, "until")
        with self._t.lock:
            found = [
                u for u in self._rows(tenant).values()
                if (account_id is None or u.account_id == account_id)
                and (person_id is None or u.person_id == person_id)
                and (state is None or u.state == state)
                and _in_window(codec.instant(u.observed_at), low, high)
            ]
        return sorted(found, key=lambda u: (codec.instant(u.observed_at), u.id))

    def count(self, tenant: str, *, state: UpdateState | None = None) -> int:
        if state is None:
            return self._count(tenant)
        return len(self.list(tenant, state=state))


class MemoryHistory(_Repo):
    table = "sponsor_history"
    _seq = itertools.count(1)

    def add_many(self, tenant: str, entries: Iterable[HistoryEntry]) -> WriteResult:
        return self._put_many(tenant, entries, sc.history_row,
                              lambda e: f"{next(self._seq):020d}")

    def list(
        self, tenant: str, *, person_id: str | None = None, account_id: str | None = None
    ) -> builtins.list[HistoryEntry]:
        with self._t.lock:
            rows = self._rows(tenant)
            found = [
                (codec.instant(e.at), k, e) for k, e in rows.items()
                if (person_id is None or e.person_id == person_id)
                and (account_id is None or e.account_id == account_id)
            ]
        return [e for _at, _k, e in sorted(found, key=lambda t: (t[0], t[1]))]

    def count(self, tenant: str) -> int:
        return self._count(tenant)


class MemorySponsors:
    """The five sponsor-tracking repositories of a `MemoryStore`."""

    def __init__(self, tables: _Tables) -> None:
        self.tracking = MemoryTracking(tables)
        self.observations = MemoryObservations(tables)
        self.suggestions = MemorySuggestions(tables)
        self.updates = MemoryUpdates(tables)
        self.history = MemoryHistory(tables)

    def __repr__(self) -> str:
        return "MemorySponsors()"
