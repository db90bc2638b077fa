"""Repositories of sponsor tracking (`stakeholder.sponsors`): tracking state,
observations, suggestions, updates and history; `store.sponsors` holds the five.

The shared rules of `stakeholder.storage._protocols` hold (tenant scoping, `put_many`
and `add_many` return a `WriteResult` and never raise for one bad value, a later
duplicate in one call wins, batches are atomic, lists come back in a defined order).
"""

from __future__ import annotations

import builtins
import datetime as dt
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Iterable

    from stakeholder.sponsors import (
        HistoryEntry,
        Observation,
        ProfileUpdate,
        Suggestion,
        TrackingRecord,
        TrackingStatus,
        UpdateState,
    )
    from stakeholder.storage._records import WriteResult

__all__ = [
    "ObservationRepository",
    "SponsorRepositories",
    "SuggestionRepository",
    "TrackingHistoryRepository",
    "TrackingRepository",
    "UpdateRepository",
]


@runtime_checkable
class TrackingRepository(Protocol):
    """Tracking records by person id."""

    def put(self, tenant: str, record: TrackingRecord) -> None:
        """Insert or replace the record of `record.person_id`."""

    def put_many(self, tenant: str, records: Iterable[TrackingRecord]) -> WriteResult:
        """Insert or replace many records in one transaction."""

    def get(self, tenant: str, person_id: str) -> TrackingRecord | None:
        """The person's record, or `None`."""

    def list(
        self,
        tenant: str,
        *,
        account_id: str | None = None,
        status: TrackingStatus | None = None,
    ) -> builtins.list[TrackingRecord]:
        """The tenant's records (of one account, in one status), ordered by person id."""

    def count(self, tenant: str, *, status: TrackingStatus | None = None) -> int:
        """How many records the tenant has (in `status` when given)."""

    def delete(self, tenant: str, person_id: str) -> bool:
        """Delete one record; `True` when it existed."""


@runtime_checkable
class ObservationRepository(Protocol):
    """Observations of tracked profiles, by (person id, observation time)."""

    def add_many(self, tenant: str, observations: Iterable[Observation]) -> WriteResult:
        """Insert (or replace, for the same person and time) many observations."""

    def list(self, tenant: str, person_id: str) -> builtins.list[Observation]:
        """One person's observations, oldest first."""

    def latest(self, tenant: str, person_id: str) -> Observation | None:
        """The person's newest observation, or `None`."""

    def count(self, tenant: str) -> int:
        """How many observations the tenant holds."""


@runtime_checkable
class SuggestionRepository(Protocol):
    """The ranked suggestions of each person's last match."""

    def replace(
        self, tenant: str, person_id: str, suggestions: Iterable[Suggestion]
    ) -> WriteResult:
        """Make the person's suggestions exactly `suggestions` (others of the same
        person are set aside; one per profile url, the later wins)."""

    def list(self, tenant: str, person_id: str) -> builtins.list[Suggestion]:
        """The person's suggestions, by rank, then profile url."""

    def count(self, tenant: str) -> int:
        """How many suggestions the tenant holds."""


@runtime_checkable
class UpdateRepository(Protocol):
    """Profile updates (changes waiting for, or accepted by, the CSM) by id."""

    def put(self, tenant: str, update: ProfileUpdate) -> None:
        """Insert or replace one update."""

    def put_many(self, tenant: str, updates: Iterable[ProfileUpdate]) -> WriteResult:
        """Insert or replace many updates in one transaction."""

    def get(self, tenant: str, update_id: str) -> ProfileUpdate | None:
        """The update with this id, or `None`."""

    def list(
        self,
        tenant: str,
        *,
        account_id: str | None = None,
        person_id: str | None = None,
        state: UpdateState | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> builtins.list[ProfileUpdate]:
        """The tenant's updates matching every filter given (`since` inclusive and
        `until` exclusive, on `observed_at`), ordered by `observed_at` then id."""

    def count(self, tenant: str, *, state: UpdateState | None = None) -> int:
        """How many updates the tenant has (in `state` when given)."""


@runtime_checkable
class TrackingHistoryRepository(Protocol):
    """The tracking history: entries are added, never changed."""

    def add_many(self, tenant: str, entries: Iterable[HistoryEntry]) -> WriteResult:
        """Append many entries in one transaction."""

    def list(
        self, tenant: str, *, person_id: str | None = None, account_id: str | None = None
    ) -> builtins.list[HistoryEntry]:
        """Entries (of one person and/or one account), ordered by `at`, then by the
        order they were added: a person's history, an account's timeline."""

    def count(self, tenant: str) -> int:
        """How many entries the tenant's history holds."""


@runtime_checkable
class SponsorRepositories(Protocol):
    """The five sponsor-tracking repositories of one store (`store.sponsors`)."""

    @property
    def tracking(self) -> TrackingRepository: ...

    @property
    def observations(self) -> ObservationRepository: ...

    @property
    def suggestions(self) -> SuggestionRepository: ...

    @property
    def updates(self) -> UpdateRepository: ...

    @property
    def history(self) -> TrackingHistoryRepository: ...
