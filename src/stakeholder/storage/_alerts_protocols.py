"""The alert repositories' contract: CTAs, escalations, the notification outbox and the
in-app inbox. The shared rules of `stakeholder.storage._protocols` hold (tenant scoping,
`InvalidRecord` for single unstorable values, `WriteResult` for batches, atomic batches).
Times order as instants; ties break on ids.
"""

from __future__ import annotations

import builtins
import datetime as dt
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Iterable

    from stakeholder.alerts._cta import CTA, CtaStatus, Escalation
    from stakeholder.alerts._outbox import Delivery, DeliveryStatus, InboxItem
    from stakeholder.storage._records import WriteResult

__all__ = [
    "CtaRepository",
    "EscalationRepository",
    "InboxRepository",
    "OutboxRepository",
]


@runtime_checkable
class CtaRepository(Protocol):
    """Calls to action by id (every version replaces the last)."""

    def put(self, tenant: str, cta: CTA) -> None:
        """Insert or replace `cta`."""

    def put_many(self, tenant: str, ctas: Iterable[CTA]) -> WriteResult:
        """Insert or replace many CTAs in one transaction."""

    def get(self, tenant: str, cta_id: str) -> CTA | None:
        """The CTA with this id, or `None`."""

    def list(
        self,
        tenant: str,
        *,
        status: CtaStatus | None = None,
        account_id: str | None = None,
        open_only: bool = False,
    ) -> builtins.list[CTA]:
        """The tenant's CTAs (with `status`, of `account_id`, or not closed when
        `open_only`), ordered by `opened_at` (as an instant), then id."""

    def count(self, tenant: str, *, status: CtaStatus | None = None) -> int:
        """How many CTAs the tenant has (with `status` when given)."""

    def delete(self, tenant: str, cta_id: str) -> bool:
        """Delete one CTA; `True` when it existed."""


@runtime_checkable
class EscalationRepository(Protocol):
    """The escalation history: one record per CTA and level, never changed."""

    def add_many(self, tenant: str, escalations: Iterable[Escalation]) -> WriteResult:
        """Record escalations in one transaction; one already recorded (same CTA and
        level) is left as it was and not counted as written (recording is idempotent)."""

    def list(self, tenant: str, *, cta_id: str | None = None) -> builtins.list[Escalation]:
        """Escalations (of one CTA when given), ordered by `at`, then CTA id, then level."""

    def count(self, tenant: str) -> int:
        """How many escalations the tenant's history holds."""


@runtime_checkable
class OutboxRepository(Protocol):
    """Notifications waiting to be sent, sent, or given up on, by delivery id."""

    def enqueue(self, tenant: str, deliveries: Iterable[Delivery]) -> WriteResult:
        """Add deliveries in one transaction; one whose id is already in the outbox is
        left as it was (never reset, so never sent twice) and not counted as written."""

    def update(self, tenant: str, delivery: Delivery) -> None:
        """Replace a delivery (after an attempt); inserts it when absent."""

    def get(self, tenant: str, delivery_id: str) -> Delivery | None:
        """The delivery with this id, or `None`."""

    def list(
        self, tenant: str, *, status: DeliveryStatus | None = None, cta_id: str | None = None
    ) -> builtins.list[Delivery]:
        """Deliveries (with `status`, about `cta_id`), ordered by `created_at`, then id."""

    def due(self, tenant: str, now: dt.datetime) -> builtins.list[Delivery]:
        """Pending deliveries whose next attempt is at or before `now` (or not set),
        ordered by `created_at`, then id."""

    def count(self, tenant: str, *, status: DeliveryStatus | None = None) -> int:
        """How many deliveries the tenant has (with `status` when given)."""


@runtime_checkable
class InboxRepository(Protocol):
    """In-app notifications per user, read or unread."""

    def add(self, tenant: str, item: InboxItem) -> bool:
        """Add an item; `False` (and nothing changed) when its id is already there."""

    def list(
        self, tenant: str, user: str, *, unread_only: bool = False
    ) -> builtins.list[InboxItem]:
        """The user's items, newest first (by `created_at`, then id descending)."""

    def mark_read(self, tenant: str, item_id: str, at: dt.datetime) -> bool:
        """Mark one item read at `at`; `True` when it was unread."""

    def mark_all_read(self, tenant: str, user: str, at: dt.datetime) -> int:
        """Mark every unread item of the user read; how many were."""

    def count_unread(self, tenant: str, user: str) -> int:
        """How many unread items the user has."""
