"""The alert repositories in memory: the values themselves, the same storability rules
as the SQL back ends (each value is encoded to its row, which is then dropped), batches
atomic through the memory store's undo journal."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import attrs

from stakeholder.alerts._cta import CTA, CtaStatus, Escalation
from stakeholder.alerts._outbox import Delivery, DeliveryStatus, InboxItem
from stakeholder.storage import _alerts_codec as ac
from stakeholder.storage import _codec as codec
from stakeholder.storage._memory import _Tables
from stakeholder.storage._records import WriteResult

__all__ = ["MemoryCtas", "MemoryEscalations", "MemoryInbox", "MemoryOutbox"]

T = TypeVar("T")


class _AlertRepository:
    table = ""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables
        tables.data.setdefault(self.table, {})

    def _all(self, tenant: str) -> builtins.list[Any]:
        with self._t.lock:
            return list(self._t.rows(self.table, tenant).values())

    def _put_many(
        self,
        tenant: str,
        items: Iterable[T],
        encode: Callable[[str, object], tuple[Any, ...]],
        key: Callable[[T], str],
        *,
        replace: bool,
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        pairs, rejections = codec.encode_batch(
            items, lambda i: (encode(tenant, i), i), lambda p: p[0][1], self.table
        )
        written = 0
        with self._t.transaction():
            rows = self._t.rows(self.table, tenant)
            for _row, item in pairs:
                if not replace and key(item) in rows:
                    continue
                self._t.set(self.table, tenant, key(item), item)
                written += 1
        return codec.write_result(written, rejections)


def _cta_order(cta: CTA) -> tuple[int, str]:
    return (codec.instant(cta.opened_at), cta.id)


class MemoryCtas(_AlertRepository):
    table = "alert_ctas"

    def put(self, tenant: str, cta: CTA) -> None:
        tenant = codec.check_tenant(tenant)
        codec.one(lambda: ac.cta_row(tenant, cta), cta)
        with self._t.transaction():
            self._t.set(self.table, tenant, cta.id, cta)

    def put_many(self, tenant: str, ctas: Iterable[CTA]) -> WriteResult:
        return self._put_many(tenant, ctas, ac.cta_row, lambda c: c.id, replace=True)

    def get(self, tenant: str, cta_id: str) -> CTA | None:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(cta_id, "cta_id")
        with self._t.lock:
            found: CTA | None = self._t.rows(self.table, tenant).get(key or "")
            return found

    def list(
        self,
        tenant: str,
        *,
        status: CtaStatus | None = None,
        account_id: str | None = None,
        open_only: bool = False,
    ) -> builtins.list[CTA]:
        tenant = codec.check_tenant(tenant)
        out = [
            c
            for c in self._all(tenant)
            if (status is None or c.status == status)
            and (account_id is None or c.account_id == account_id)
            and not (open_only and c.is_closed)
        ]
        return sorted(out, key=_cta_order)

    def count(self, tenant: str, *, status: CtaStatus | None = None) -> int:
        return len(self.list(tenant, status=status))

    def delete(self, tenant: str, cta_id: str) -> bool:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(cta_id, "cta_id")
        if key is None:
            return False
        with self._t.transaction():
            return self._t.delete(self.table, tenant, key)


class MemoryEscalations(_AlertRepository):
    table = "alert_escalations"

    def add_many(self, tenant: str, escalations: Iterable[Escalation]) -> WriteResult:
        return self._put_many(tenant, escalations, ac.escalation_row, lambda e: e.id, replace=False)

    def list(self, tenant: str, *, cta_id: str | None = None) -> builtins.list[Escalation]:
        tenant = codec.check_tenant(tenant)
        out = [e for e in self._all(tenant) if cta_id is None or e.cta_id == cta_id]
        return sorted(out, key=lambda e: (codec.instant(e.at), e.cta_id, e.level))

    def count(self, tenant: str) -> int:
        return len(self._all(codec.check_tenant(tenant)))


def _delivery_order(d: Delivery) -> tuple[int, str]:
    return (codec.instant(d.created_at), d.id)


class MemoryOutbox(_AlertRepository):
    table = "alert_outbox"

    def enqueue(self, tenant: str, deliveries: Iterable[Delivery]) -> WriteResult:
        return self._put_many(tenant, deliveries, ac.delivery_row, lambda d: d.id, replace=False)

    def update(self, tenant: str, delivery: Delivery) -> None:
        tenant = codec.check_tenant(tenant)
        codec.one(lambda: ac.delivery_row(tenant, delivery), delivery)
        with self._t.transaction():
            self._t.set(self.table, tenant, delivery.id, delivery)

    def get(self, tenant: str, delivery_id: str) -> Delivery | None:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(delivery_id, "delivery_id")
        with self._t.lock:
            found: Delivery | None = self._t.rows(self.table, tenant).get(key or "")
            return found

    def list(
        self, tenant: str, *, status: DeliveryStatus | None = None, cta_id: str | None = None
    ) -> builtins.list[Delivery]:
        tenant = codec.check_tenant(tenant)
        out = [
            d
            for d in self._all(tenant)
            if (status is None or d.status == status) and (cta_id is None or d.cta_id == cta_id)
        ]
        return sorted(out, key=_delivery_order)

    def due(self, tenant: str, now: dt.datetime) -> builtins.list[Delivery]:
        return [d for d in self.list(tenant, status=DeliveryStatus.PENDING) if d.due(now)]

    def count(self, tenant: str, *, status: DeliveryStatus | None = None) -> int:
        return len(self.list(tenant, status=status))


class MemoryInbox(_AlertRepository):
    table = "alert_inbox"

    def add(self, tenant: str, item: InboxItem) -> bool:
        tenant = codec.check_tenant(tenant)
        codec.one(lambda: ac.inbox_row(tenant, item), item)
        with self._t.transaction():
            if item.id in self._t.rows(self.table, tenant):
                return False
            self._t.set(self.table, tenant, item.id, item)
            return True

    def list(
        self, tenant: str, user: str, *, unread_only: bool = False
    ) -> builtins.list[InboxItem]:
        tenant = codec.check_tenant(tenant)
        out = [i for i in self._all(tenant) if i.user == user and not (unread_only and i.read_at)]
        return sorted(out, key=lambda i: (codec.instant(i.created_at), i.id), reverse=True)

    def mark_read(self, tenant: str, item_id: str, at: dt.datetime) -> bool:
        tenant = codec.check_tenant(tenant)
        codec.one(lambda: codec.aware(at, "at"), at)
        with self._t.transaction():
            item = self._t.rows(self.table, tenant).get(item_id)
            if item is None or item.read_at is not None:
                return False
            self._t.set(self.table, tenant, item_id, attrs.evolve(item, read_at=at))
            return True

    def mark_all_read(self, tenant: str, user: str, at: dt.datetime) -> int:
        tenant = codec.check_tenant(tenant)
        codec.one(lambda: codec.aware(at, "at"), at)
        with self._t.transaction():
            unread = list(self.list(tenant, user, unread_only=True))
            for item in unread:
                self._t.set(self.table, tenant, item.id, attrs.evolve(item, read_at=at))
            return len(unread)

    def count_unread(self, tenant: str, user: str) -> int:
        return len(self.list(tenant, user, unread_only=True))
