"""The alert repositories for SQLite and PostgreSQL, over the session interface of
`stakeholder.storage._sql` (tables created by the alerts migration)."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from stakeholder.alerts._cta import CTA, CtaStatus, Escalation
from stakeholder.alerts._outbox import Delivery, DeliveryStatus, InboxItem
from stakeholder.storage import _alerts_codec as ac
from stakeholder.storage import _codec as codec
from stakeholder.storage._records import WriteResult
from stakeholder.storage._sql import Row, SessionSource, insert_sql, stmt

__all__ = ["SqlCtas", "SqlEscalations", "SqlInbox", "SqlOutbox"]


class _AlertRepository:
    table = ""
    columns: tuple[str, ...] = ()

    def __init__(self, source: SessionSource) -> None:
        self._source = source
        self._d = source.dialect

    def _select(
        self, where: Sequence[tuple[str, object]], extra: str = "", order: str = ""
    ) -> list[Row]:
        """Bodies of rows matching every (column, value) of `where` (tenant first)."""
        clauses = [self._d.eq(column) for column, _ in where]
        params: list[object] = []
        for _, value in where:
            params.extend(self._d.params(value))
        sql = stmt("SELECT body FROM", self.table, "WHERE", " AND ".join(clauses), extra, order)
        with self._source.reading() as s:
            return s.query(sql, params)

    def _count(self, where: Sequence[tuple[str, object]], extra: str = "") -> int:
        clauses = [self._d.eq(column) for column, _ in where]
        params: list[object] = []
        for _, value in where:
            params.extend(self._d.params(value))
        sql = stmt("SELECT COUNT(*) FROM", self.table, "WHERE", " AND ".join(clauses), extra)
        with self._source.reading() as s:
            return int(s.query(sql, params)[0][0])

    def _upsert(self, tenant: str, item: object, encode: Callable[[str, object], Row]) -> None:
        tenant = codec.check_tenant(tenant)
        row = codec.one(lambda: encode(tenant, item), item)
        with self._source.session() as s:
            s.upsert(self.table, self.columns, ("tenant", "id"), [row])

    def _write_many(
        self,
        tenant: str,
        items: Iterable[object],
        encode: Callable[[str, object], Row],
        *,
        replace: bool,
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        rows, rejections = codec.encode_batch(
            items, lambda item: encode(tenant, item), lambda r: r[1], self.table
        )
        with self._source.session() as s:
            if replace:
                s.upsert(self.table, self.columns, ("tenant", "id"), rows)
                return codec.write_result(len(rows), rejections)
            sql = stmt(
                insert_sql(self.table, self.columns),
                "ON CONFLICT (", self._d.conflict(("tenant", "id")), ") DO NOTHING",
            )
            written = sum(s.execute(sql, row) for row in sorted(rows, key=lambda r: r[1]))
        return codec.write_result(written, rejections)

    def _key(self, value: object, what: str) -> str | None:
        return codec.lookup_key(value, what)


class SqlCtas(_AlertRepository):
    table = "alert_ctas"
    columns = ac.CTA_COLUMNS

    def put(self, tenant: str, cta: CTA) -> None:
        self._upsert(tenant, cta, ac.cta_row)

    def put_many(self, tenant: str, ctas: Iterable[CTA]) -> WriteResult:
        return self._write_many(tenant, ctas, ac.cta_row, replace=True)

    def get(self, tenant: str, cta_id: str) -> CTA | None:
        tenant = codec.check_tenant(tenant)
        key = self._key(cta_id, "cta_id")
        if key is None:
            return None
        rows = self._select([("tenant", tenant), ("id", key)])
        return ac.cta_from_body(rows[0][0]) if rows else None

    def list(
        self,
        tenant: str,
        *,
        status: CtaStatus | None = None,
        account_id: str | None = None,
        open_only: bool = False,
    ) -> builtins.list[CTA]:
        where: list[tuple[str, object]] = [("tenant", codec.check_tenant(tenant))]
        if status is not None:
            where.append(("status", CtaStatus(status).value))
        if account_id is not None:
            key = self._key(account_id, "account_id")
            if key is None:
                return []
            where.append(("account_id", key))
        extra = "AND status <> 'closed'" if open_only else ""
        rows = self._select(where, extra, "ORDER BY opened_us, id")
        return [ac.cta_from_body(r[0]) for r in rows]

    def count(self, tenant: str, *, status: CtaStatus | None = None) -> int:
        where: list[tuple[str, object]] = [("tenant", codec.check_tenant(tenant))]
        if status is not None:
            where.append(("status", CtaStatus(status).value))
        return self._count(where)

    def delete(self, tenant: str, cta_id: str) -> bool:
        tenant = codec.check_tenant(tenant)
        key = self._key(cta_id, "cta_id")
        if key is None:
            return False
        sql = stmt("DELETE FROM", self.table, "WHERE", self._d.eq("tenant", "id"))
        with self._source.session() as s:
            return s.execute(sql, self._d.params(tenant, key)) > 0


class SqlEscalations(_AlertRepository):
    table = "alert_escalations"
    columns = ac.ESCALATION_COLUMNS

    def add_many(self, tenant: str, escalations: Iterable[Escalation]) -> WriteResult:
        return self._write_many(tenant, escalations, ac.escalation_row, replace=False)

    def list(self, tenant: str, *, cta_id: str | None = None) -> builtins.list[Escalation]:
        where: list[tuple[str, object]] = [("tenant", codec.check_tenant(tenant))]
        if cta_id is not None:
            key = self._key(cta_id, "cta_id")
            if key is None:
                return []
            where.append(("cta_id", key))
        rows = self._select(where, "", "ORDER BY at_us, cta_id, level")
        return [ac.escalation_from_body(r[0]) for r in rows]

    def count(self, tenant: str) -> int:
        return self._count([("tenant", codec.check_tenant(tenant))])


class SqlOutbox(_AlertRepository):
    table = "alert_outbox"
    columns = ac.OUTBOX_COLUMNS

    def enqueue(self, tenant: str, deliveries: Iterable[Delivery]) -> WriteResult:
        return self._write_many(tenant, deliveries, ac.delivery_row, replace=False)

    def update(self, tenant: str, delivery: Delivery) -> None:
        self._upsert(tenant, delivery, ac.delivery_row)

    def get(self, tenant: str, delivery_id: str) -> Delivery | None:
        tenant = codec.check_tenant(tenant)
        key = self._key(delivery_id, "delivery_id")
        if key is None:
            return None
        rows = self._select([("tenant", tenant), ("id", key)])
        return ac.delivery_from_body(rows[0][0]) if rows else None

    def list(
        self, tenant: str, *, status: DeliveryStatus | None = None, cta_id: str | None = None
    ) -> builtins.list[Delivery]:
        where: list[tuple[str, object]] = [("tenant", codec.check_tenant(tenant))]
        if status is not None:
            where.append(("status", DeliveryStatus(status).value))
        if cta_id is not None:
            key = self._key(cta_id, "cta_id")
            if key is None:
                return []
            where.append(("cta_id", key))
        rows = self._select(where, "", "ORDER BY created_us, id")
        return [ac.delivery_from_body(r[0]) for r in rows]

    def due(self, tenant: str, now: dt.datetime) -> builtins.list[Delivery]:
        where: list[tuple[str, object]] = [("tenant", codec.check_tenant(tenant)),
                                           ("status", DeliveryStatus.PENDING.value)]
        limit = codec.instant(codec.one(lambda: codec.aware(now, "now"), now))
        extra = f"AND (next_us IS NULL OR next_us <= {int(limit)})"
        rows = self._select(where, extra, "ORDER BY created_us, id")
        return [ac.delivery_from_body(r[0]) for r in rows]

    def count(self, tenant: str, *, status: DeliveryStatus | None = None) -> int:
        where: list[tuple[str, object]] = [("tenant", codec.check_tenant(tenant))]
        if status is not None:
            where.append(("status", DeliveryStatus(status).value))
        return self._count(where)


class SqlInbox(_AlertRepository):
    table = "alert_inbox"
    columns = ac.INBOX_COLUMNS

    def add(self, tenant: str, item: InboxItem) -> bool:
        tenant = codec.check_tenant(tenant)
        row = codec.one(lambda: ac.inbox_row(tenant, item), item)
        sql = stmt(
            insert_sql(self.table, self.columns),
            "ON CONFLICT (", self._d.conflict(("tenant", "id")), ") DO NOTHING",
        )
        with self._source.session() as s:
            return s.execute(sql, row) > 0

    def list(
        self, tenant: str, user: str, *, unread_only: bool = False
    ) -> builtins.list[InboxItem]:
        tenant = codec.check_tenant(tenant)
        key = self._key(user, "user")
        if key is None:
            return []
        extra = "AND read_us IS NULL" if unread_only else ""
        rows = self._select([("tenant", tenant), ("user_id", key)], extra,
                            "ORDER BY created_us DESC, id DESC")
        return [ac.inbox_from_body(r[0]) for r in rows]

    def _mark(self, tenant: str, column: str, value: str, at: dt.datetime) -> int:
        read = codec.one(lambda: codec.aware(at, "at"), at)
        items = (
            self.list(tenant, value, unread_only=True)
            if column == "user_id"
            else [i for i in [self._get(tenant, value)] if i is not None and i.unread]
        )
        with self._source.session() as s:
            for item in items:
                row = ac.inbox_row(tenant, InboxItem(item.id, item.user, item.cta_id, item.title,
                                                     item.text, item.created_at, read))
                s.upsert(self.table, self.columns, ("tenant", "id"), [row])
        return len(items)

    def _get(self, tenant: str, item_id: str) -> InboxItem | None:
        key = self._key(item_id, "item_id")
        if key is None:
            return None
        rows = self._select([("tenant", tenant), ("id", key)])
        return ac.inbox_from_body(rows[0][0]) if rows else None

    def mark_read(self, tenant: str, item_id: str, at: dt.datetime) -> bool:
        return self._mark(codec.check_tenant(tenant), "id", item_id, at) > 0

    def mark_all_read(self, tenant: str, user: str, at: dt.datetime) -> int:
        return self._mark(codec.check_tenant(tenant), "user_id", user, at)

    def count_unread(self, tenant: str, user: str) -> int:
        tenant = codec.check_tenant(tenant)
        key = self._key(user, "user")
        if key is None:
            return 0
        return self._count([("tenant", tenant), ("user_id", key)], "AND read_us IS NULL")
