"""Notification values: outbox deliveries and in-app inbox items.

A `Delivery` is one message for one channel and recipient about one CTA event (opened,
escalated to level N). Its `id` is derived from (event, channel, recipient), so
enqueueing the same event twice writes one row, and a delivery that was sent is never
sent again. `InboxItem` is an in-app notification in a user's inbox, read or unread.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from typing import Any

import attrs

from stakeholder._errors import InvalidRecord
from stakeholder._model import check_id
from stakeholder.alerts._cta import CTA, _to_details

__all__ = [
    "Delivery",
    "DeliveryStatus",
    "InboxItem",
    "delivery_for",
    "delivery_id",
]


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InvalidRecord(value, f"{attribute.name} must be a timezone-aware datetime")


class DeliveryStatus(enum.StrEnum):
    """`pending` (waiting or being retried), `sent`, or `failed` (gave up after the
    most attempts; kept, never deleted)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


def delivery_id(event: str, channel: str, recipient: str) -> str:
    """`"dlv-"` + 24 hex digits of (event, channel, recipient): one delivery per event
    and recipient, whoever enqueues it."""
    digest = hashlib.sha256(
        f"{event}\x1f{channel}\x1f{recipient}".encode("utf-8", "surrogatepass")
    ).hexdigest()
    return f"dlv-{digest[:24]}"


@attrs.frozen
class Delivery:
    """One notification in the outbox.

    `event` names what happened (`"{cta_id}:opened"`, `"{cta_id}:escalated:2"`);
    `title`, `text` and `facts` are the message; `attempts`, `next_attempt_at`,
    `last_error` record retries; `sent_at` is set once sent.
    """

    id: str = attrs.field(validator=check_id)
    event: str = attrs.field(validator=check_id)
    cta_id: str = attrs.field(validator=check_id)
    account_id: str = attrs.field(validator=check_id)
    channel: str = attrs.field(validator=check_id)
    recipient: str = attrs.field(validator=check_id)
    title: str
    text: str
    created_at: dt.datetime = attrs.field(validator=_aware)
    facts: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_to_details)
    priority: str = "medium"
    status: DeliveryStatus = attrs.field(default=DeliveryStatus.PENDING, converter=DeliveryStatus)
    attempts: int = 0
    next_attempt_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    last_error: str | None = None
    sent_at: dt.datetime | None = attrs.field(default=None, validator=_aware)

    def __repr__(self) -> str:
        return (
            f"Delivery(id={self.id!r}, channel={self.channel!r}, recipient={self.recipient!r}, "
            f"status={self.status.value}, attempts={self.attempts})"
        )[:300]

    def due(self, now: dt.datetime) -> bool:
        """Pending and its next attempt is at or before `now`."""
        return self.status is DeliveryStatus.PENDING and (
            self.next_attempt_at is None or self.next_attempt_at <= now
        )

    def sent(self, at: dt.datetime) -> Delivery:
        return attrs.evolve(
            self, status=DeliveryStatus.SENT, attempts=self.attempts + 1, sent_at=at,
            last_error=None, next_attempt_at=None,
        )

    def failed_attempt(
        self, at: dt.datetime, error: str, *, retry_at: dt.datetime | None
    ) -> Delivery:
        """After a failed attempt: pending until `retry_at`, or `failed` when `None`."""
        return attrs.evolve(
            self,
            status=DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.FAILED,
            attempts=self.attempts + 1,
            last_error=error[:500],
            next_attempt_at=retry_at,
        )


def delivery_for(
    cta: CTA, *, event: str, channel: str, recipient: str, at: dt.datetime, headline: str
) -> Delivery:
    """The delivery of `event` about `cta` to one recipient on one channel."""
    ev = f"{cta.id}:{event}"
    facts = [
        ("account", cta.account_id),
        ("priority", cta.priority.value),
        ("category", cta.category.value),
        ("assignee", cta.assignee or "-"),
        ("due", cta.due_at.date().isoformat() if cta.due_at else "-"),
        *cta.details,
    ]
    return Delivery(
        id=delivery_id(ev, channel, recipient),
        event=ev,
        cta_id=cta.id,
        account_id=cta.account_id,
        channel=channel,
        recipient=recipient,
        title=f"[{cta.priority.value}] {headline}: {cta.account_id}",
        text=cta.reason,
        created_at=at,
        facts=facts,
        priority=cta.priority.value,
    )


@attrs.frozen
class InboxItem:
    """An in-app notification in `user`'s inbox; `read_at` is `None` while unread."""

    id: str = attrs.field(validator=check_id)
    user: str = attrs.field(validator=check_id)
    cta_id: str = attrs.field(validator=check_id)
    title: str
    text: str
    created_at: dt.datetime = attrs.field(validator=_aware)
    read_at: dt.datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def unread(self) -> bool:
        return self.read_at is None
