"""The sponsor-tracking repositories of the SQLite and PostgreSQL back ends, written
once over the session interface of `_sql` (tables: migration "sponsor tracking")."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from stakeholder.storage import _codec as codec
from stakeholder.storage import _sponsors_codec as sc
from stakeholder.storage._records import WriteResult
from stakeholder.storage._sponsors_memory import split_person
from stakeholder.storage._sql import Row, SessionSource, insert_sql, stmt

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

__all__ = ["SqlSponsors"]


class _Repo:
    table = ""
    columns: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()

    def __init__(self, source: SessionSource) -> None:
        self._source = source
        self._d = source.dialect

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._source.reading() as s:
            return s.query(sql, params)

    def _select(
        self, tenant: str, filters: Sequence[tuple[str, object]], order: str,
        extra: str = "", extra_params: Sequence[Any] = (),
    ) -> list[Row] | None:
        """`doc` of the rows of `tenant` whose key columns equal the filters (None:
        no stored row can match), with `extra` conditions, in `order`."""
        tenant = codec.check_tenant(tenant)
        columns, values = ["tenant"], [tenant]
        for column, value in filters:
            key = codec.lookup_key(value, column)
            if key is None:
                return None
            columns.append(column)
            values.append(key)
        sql = stmt("SELECT doc FROM", self.table, "WHERE", self._d.eq(*columns), extra,
                   "ORDER BY", order)
        return self._query(sql, (*self._d.params(*values), *extra_params))

    def _count(self, tenant: str, extra: str = "", params: Sequence[Any] = ()) -> int:
        tenant = codec.check_tenant(tenant)
        sql = stmt("SELECT COUNT(*) FROM", self.table, "WHERE", self._d.eq("tenant"), extra)
        return int(self._query(sql, (*self._d.params(tenant), *params))[0][0])

    def _upsert_many(
        self, tenant: str, items: Iterable[object],
        encode: Callable[[str, object], Row], key: Callable[[Row], object],
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        rows, rejections = codec.encode_batch(
            items, lambda item: encode(tenant, item), key, self.table
        )
        with self._source.session() as s:
            s.upsert(self.table, self.columns, self.keys, rows)
        return codec.write_result(len(rows), rejections)

    def _upsert_one(self, tenant: str, item: object, encode: Callable[[str, object], Row]) -> None:
        tenant = codec.check_tenant(tenant)
        row = codec.one(lambda: encode(tenant, item), item)
        with self._source.session() as s:
            s.upsert(self.table, self.columns, self.keys, [row])


class SqlTracking(_Repo):
    table = "sponsor_tracking"
    columns = sc.TRACKING_COLUMNS
    keys = ("tenant", "person_id")

    def put(self, tenant: str, record: TrackingRecord) -> None:
        self._upsert_one(tenant, record, sc.tracking_row)

    def put_many(self, tenant: str, records: Iterable[TrackingRecord]) -> WriteResult:
        return self._upsert_many(tenant, records, sc.tracking_row, lambda r: r[1])

    def get(self, tenant: str, person_id: str) -> TrackingRecord | None:
        rows = self._select(tenant, [("person_id", person_id)], "person_id")
        return sc.tracking_from(rows[0][0]) if rows else None

    def list(
        self, tenant: str, *, account_id: str | None = None,
        status: TrackingStatus | None = None,
    ) -> builtins.list[TrackingRecord]:
        filters = [] if account_id is None else [("account_id", account_id)]
        extra, params = ("", ()) if status is None else ("AND status = ?", (str(status),))
        rows = self._select(tenant, filters, "person_id", extra, params)
        return [sc.tracking_from(r[0]) for r in rows or ()]

    def count(self, tenant: str, *, status: TrackingStatus | None = None) -> int:
        if status is None:
            return self._count(tenant)
        return self._count(tenant, "AND status = ?", (str(status),))

    def delete(self, tenant: str, person_id: str) -> bool:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(person_id, "person_id")
        if key is None:
            return False
        sql = stmt("DELETE FROM", self.table, "WHERE", self._d.eq("tenant", "person_id"))
        with self._source.session() as s:
            return s.execute(sql, self._d.params(tenant, key)) > 0


class SqlObservations(_Repo):
    table = "sponsor_observations"
    columns = sc.OBSERVATION_COLUMNS
    keys = ("tenant", "person_id", "observed_key")

    def add_many(self, tenant: str, observations: Iterable[Observation]) -> WriteResult:
        return self._upsert_many(tenant, observations, sc.observation_row,
                                 lambda r: (r[1], r[2]))

    def list(self, tenant: str, person_id: str) -> builtins.list[Observation]:
        rows = self._select(tenant, [("person_id", person_id)], "observed_us")
        return [sc.observation_from(r[0]) for r in rows or ()]

    def latest(self, tenant: str, person_id: str) -> Observation | None:
        rows = self._select(tenant, [("person_id", person_id)], "observed_us DESC LIMIT 1")
        return sc.observation_from(rows[0][0]) if rows else None

    def count(self, tenant: str) -> int:
        return self._count(tenant)


class SqlSuggestions(_Repo):
    table = "sponsor_suggestions"
    columns = sc.SUGGESTION_COLUMNS
    keys = ("tenant", "person_id", "url")

    def replace(
        self, tenant: str, person_id: str, suggestions: Iterable[Suggestion]
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        mine, others = split_person(suggestions, person_id)
        rows, rejections = codec.encode_batch(
            mine, lambda s: sc.suggestion_row(tenant, s), lambda r: r[2], self.table
        )
        key = codec.lookup_key(person_id, "person_id")
        with self._source.session() as s:
            if key is not None:
                sql = stmt("DELETE FROM", self.table, "WHERE",
                           self._d.eq("tenant", "person_id"))
                s.execute(sql, self._d.params(tenant, key))
            s.upsert(self.table, self.columns, self.keys, rows)
        return codec.write_result(len(rows), rejections + others)

    def list(self, tenant: str, person_id: str) -> builtins.list[Suggestion]:
        rows = self._select(tenant, [("person_id", person_id)], "position, url")
        return [sc.suggestion_from(r[0]) for r in rows or ()]

    def count(self, tenant: str) -> int:
        return self._count(tenant)


class SqlUpdates(_Repo):
    table = "sponsor_updates"
    columns = sc.UPDATE_COLUMNS
    keys = ("tenant", "id")

    def put(self, tenant: str, update: ProfileUpdate) -> None:
        self._upsert_one(tenant, update, sc.update_row)

    def put_many(self, tenant: str, updates: Iterable[ProfileUpdate]) -> WriteResult:
        return self._upsert_many(tenant, updates, sc.update_row, lambda r: r[1])

    def get(self, tenant: str, update_id: str) -> ProfileUpdate | None:
        rows = self._select(tenant, [("id", update_id)], "id")
        return sc.update_from(rows[0][0]) if rows else None

    def list(
        self, tenant: str, *, account_id: str | None = None, person_id: str | None = None,
        state: UpdateState | None = None, since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> builtins.list[ProfileUpdate]:
        filters = [(c, v) for c, v in (("account_id", account_id), ("person_id", person_id))
                   if v is not None]
        extra: builtins.list[str] = []
        params: builtins.list[Any] = []
        for clause, value in (("AND state = ?", None if state is None else str(state)),
                              ("AND observed_us >= ?", sc.instant_or_none(since, "since")),
                              ("AND observed_us < ?", sc.instant_or_none(until, "until"))):
            if value is not None:
                extra.append(clause)
                params.append(value)
        rows = self._select(tenant, filters, "observed_us, id", " ".join(extra), params)
        return [sc.update_from(r[0]) for r in rows or ()]

    def count(self, tenant: str, *, state: UpdateState | None = None) -> int:
        if state is None:
            return self._count(tenant)
        return self._count(tenant, "AND state = ?", (str(state),))


class SqlHistory(_Repo):
    table = "sponsor_history"
    columns = sc.HISTORY_COLUMNS

    def add_many(self, tenant: str, entries: Iterable[HistoryEntry]) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        rows, rejections = codec.encode_batch(
            entries, lambda e: sc.history_row(tenant, e), None, self.table
        )
        if rows:
            with self._source.session() as s:
                s.executemany(insert_sql(self.table, self.columns), rows)
        return codec.write_result(len(rows), rejections)

    def list(
        self, tenant: str, *, person_id: str | None = None, account_id: str | None = None
    ) -> builtins.list[HistoryEntry]:
        filters = [(c, v) for c, v in (("person_id", person_id), ("account_id", account_id))
                   if v is not None]
        rows = self._select(tenant, filters, "at_us, seq")
        return [sc.history_from(r[0]) for r in rows or ()]

    def count(self, tenant: str) -> int:
        return self._count(tenant)


class SqlSponsors:
    """The five sponsor-tracking repositories over one session source."""

    def __init__(self, source: SessionSource) -> None:
        self.tracking = SqlTracking(source)
        self.observations = SqlObservations(source)
        self.suggestions = SqlSuggestions(source)
        self.updates = SqlUpdates(source)
        self.history = SqlHistory(source)

    def __repr__(self) -> str:
        return "SqlSponsors()"
