"""Rows of the alert tables (CTAs, escalations, notification outbox, in-app inbox), shared
by every back end so that all of them accept and refuse the same values.

Each row holds the columns a back end filters and sorts on (ids, status, times as
microseconds since the epoch) and `body`: the whole value as ASCII JSON, which carries
any string. Key columns must be storable text (no NUL, no lone surrogate).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Final

from stakeholder.alerts._cta import CTA, CtaSource, Escalation
from stakeholder.alerts._outbox import Delivery, InboxItem
from stakeholder.storage import _codec as codec

__all__ = [
    "CTA_COLUMNS",
    "ESCALATION_COLUMNS",
    "INBOX_COLUMNS",
    "OUTBOX_COLUMNS",
    "cta_from_body",
    "cta_row",
    "delivery_from_body",
    "delivery_row",
    "escalation_from_body",
    "escalation_row",
    "inbox_from_body",
    "inbox_row",
]

CTA_COLUMNS: Final = ("tenant", "id", "account_id", "dedupe_key", "status", "opened_us", "body")
ESCALATION_COLUMNS: Final = ("tenant", "id", "cta_id", "level", "at_us", "body")
OUTBOX_COLUMNS: Final = ("tenant", "id", "cta_id", "status", "next_us", "created_us", "body")
INBOX_COLUMNS: Final = ("tenant", "id", "user_id", "cta_id", "created_us", "read_us", "body")

_dump: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, sort_keys=True).encode


def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _at(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _us(value: dt.datetime | None) -> int | None:
    return None if value is None else codec.instant(value)


def _check(value: object, kind: type, what: str) -> None:
    if not isinstance(value, kind):
        raise codec.Unstorable(f"{what} must be a {kind.__name__}")


def cta_row(tenant: str, cta: object) -> tuple[Any, ...]:
    _check(cta, CTA, "a CTA")
    assert isinstance(cta, CTA)
    body = {
        "id": cta.id, "account_id": cta.account_id, "source": str(cta.source),
        "type": cta.type, "reason": cta.reason, "category": cta.category.value,
        "priority": cta.priority.value, "dedupe_key": cta.dedupe_key,
        "opened_at": _when(cta.opened_at), "updated_at": _when(cta.updated_at),
        "assignee": cta.assignee, "details": [list(d) for d in cta.details],
        "due_at": _when(cta.due_at), "status": cta.status.value,
        "closed_at": _when(cta.closed_at), "close_reason": cta.close_reason,
        "snoozed_until": _when(cta.snoozed_until), "escalation_level": cta.escalation_level,
        "escalated_at": _when(cta.escalated_at), "occurrences": cta.occurrences,
    }
    return (
        tenant, codec.key(cta.id, "id"), codec.key(cta.account_id, "account_id"),
        codec.key(cta.dedupe_key, "dedupe_key"), cta.status.value,
        codec.instant(cta.opened_at), _dump(body),
    )


def cta_from_body(body: str) -> CTA:
    d = json.loads(body)
    return CTA(
        id=d["id"], account_id=d["account_id"], source=CtaSource.parse(d["source"]),
        type=d["type"], reason=d["reason"], category=d["category"], priority=d["priority"],
        dedupe_key=d["dedupe_key"], opened_at=_at(d["opened_at"]),  # type: ignore[arg-type]
        updated_at=_at(d["updated_at"]), assignee=d["assignee"],  # type: ignore[arg-type]
        details=[tuple(p) for p in d["details"]], due_at=_at(d["due_at"]),
        status=d["status"], closed_at=_at(d["closed_at"]), close_reason=d["close_reason"],
        snoozed_until=_at(d["snoozed_until"]), escalation_level=d["escalation_level"],
        escalated_at=_at(d["escalated_at"]), occurrences=d["occurrences"],
    )


def escalation_row(tenant: str, escalation: object) -> tuple[Any, ...]:
    _check(escalation, Escalation, "an escalation")
    assert isinstance(escalation, Escalation)
    e = escalation
    body = {"cta_id": e.cta_id, "level": e.level, "at": _when(e.at), "reason": e.reason,
            "assignee": e.assignee}
    return (
        tenant, codec.key(e.id, "id"), codec.key(e.cta_id, "cta_id"),
        codec.int64(e.level, "level"), codec.instant(e.at), _dump(body),
    )


def escalation_from_body(body: str) -> Escalation:
    d = json.loads(body)
    return Escalation(d["cta_id"], d["level"], _at(d["at"]), d["reason"], d["assignee"])  # type: ignore[arg-type]


def delivery_row(tenant: str, delivery: object) -> tuple[Any, ...]:
    _check(delivery, Delivery, "a delivery")
    assert isinstance(delivery, Delivery)
    x = delivery
    body = {
        "id": x.id, "event": x.event, "cta_id": x.cta_id, "account_id": x.account_id,
        "channel": x.channel, "recipient": x.recipient, "title": x.title, "text": x.text,
        "created_at": _when(x.created_at), "facts": [list(f) for f in x.facts],
        "priority": x.priority, "status": x.status.value, "attempts": x.attempts,
        "next_attempt_at": _when(x.next_attempt_at), "last_error": x.last_error,
        "sent_at": _when(x.sent_at),
    }
    return (
        tenant, codec.key(x.id, "id"), codec.key(x.cta_id, "cta_id"), x.status.value,
        _us(x.next_attempt_at), codec.instant(x.created_at), _dump(body),
    )


def delivery_from_body(body: str) -> Delivery:
    d = json.loads(body)
    return Delivery(
        id=d["id"], event=d["event"], cta_id=d["cta_id"], account_id=d["account_id"],
        channel=d["channel"], recipient=d["recipient"], title=d["title"], text=d["text"],
        created_at=_at(d["created_at"]),  # type: ignore[arg-type]
        facts=[tuple(f) for f in d["facts"]], priority=d["priority"], status=d["status"],
        attempts=d["attempts"], next_attempt_at=_at(d["next_attempt_at"]),
        last_error=d["last_error"], sent_at=_at(d["sent_at"]),
    )


def inbox_row(tenant: str, item: object) -> tuple[Any, ...]:
    _check(item, InboxItem, "an inbox item")
    assert isinstance(item, InboxItem)
    body = {"id": item.id, "user": item.user, "cta_id": item.cta_id, "title": item.title,
            "text": item.text, "created_at": _when(item.created_at),
            "read_at": _when(item.read_at)}
    return (
        tenant, codec.key(item.id, "id"), codec.key(item.user, "user"),
        codec.key(item.cta_id, "cta_id"), codec.instant(item.created_at),
        _us(item.read_at), _dump(body),
    )


def inbox_from_body(body: str) -> InboxItem:
    d = json.loads(body)
    return InboxItem(
        id=d["id"], user=d["user"], cta_id=d["cta_id"], title=d["title"], text=d["text"],
        created_at=_at(d["created_at"]), read_at=_at(d["read_at"]),  # type: ignore[arg-type]
    )
