"""Mail messages to `Communication`: headers (and `text/calendar` parts) of one RFC 5322
message, and the JSON form of a communication.

Only headers are parsed, except that a message whose Content-Type says it is (or holds)
``text/calendar`` is parsed in full, so an invitation becomes a meeting. Every message
either becomes a `Communication` or a `Rejection` with a reason; nothing stops a batch.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
from collections.abc import Callable, Iterable, Mapping
from email.message import Message
from email.parser import BytesHeaderParser
from typing import Any

import attrs

from stakeholder._errors import InvalidRecord, MissingDependency, StakeholderError
from stakeholder._model import CommKind, Communication, Participant, Rejection, Role
from stakeholder.ingest._files import ReadLimits
from stakeholder.ingest._headers import (
    Headers,
    clean_text,
    decode_words,
    header,
    headers_of,
    mail_headers,
    message_id,
    parse_date,
    participants,
)

__all__ = [
    "RAW_KEYS",
    "communication_from_dict",
    "communication_from_message",
    "communication_to_dict",
    "content_id",
    "dict_item",
    "message_item",
]

Item = Communication | Rejection
_HEADER_PARSER = BytesHeaderParser(policy=email.policy.compat32)


def _raw_bytes(msg: Message) -> bytes:
    try:
        return msg.as_bytes(policy=email.policy.compat32)
    except (LookupError, UnicodeError, ValueError, TypeError, AttributeError, IndexError):
        text = "\n".join(f"{k}: {v}" for k, v in _safe_items(msg))
        return text.encode("utf-8", "surrogateescape")


def _safe_items(msg: Message) -> list[tuple[str, str]]:
    raw_items: Callable[[], Iterable[tuple[str, Any]]] = getattr(msg, "raw_items", msg.items)
    return [(k, str(v)) for k, v in raw_items()]


def content_id(raw: bytes) -> str:
    """The id given to a message without a Message-ID: ``sha256:`` and the first 32 hex
    digits of the SHA-256 of its raw bytes (so the same message gets the same id). Files
    hash the bytes as read; `communication_from_message` hashes ``msg.as_bytes()``."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:32]


def _build(msg: Message, raw: bytes | None, whole: bytes | None = None) -> Communication | str:
    """The communication of `msg`, or the reason it cannot be one. `whole` (the full
    message bytes) lets a ``text/calendar`` part make it a meeting."""
    headers = headers_of(msg)
    try:
        occurred_at = parse_date(header(headers, "date"))
    except ValueError as exc:
        return str(exc)
    own_id = message_id(header(headers, "message-id"))
    if own_id is None:
        own_id = content_id(raw if raw is not None else _raw_bytes(msg))
    references = header(headers, "references")
    thread_id = message_id(references) or message_id(header(headers, "in-reply-to")) or own_id
    subject = header(headers, "subject")
    try:
        comm = Communication(
            id=own_id,
            occurred_at=occurred_at,
            participants=participants(headers),
            thread_id=thread_id,
            subject=clean_text(decode_words(subject)) if subject else "",
            kind=CommKind.EMAIL,
            headers=mail_headers(headers),
        )
    except (StakeholderError, ValueError, TypeError) as exc:
        return getattr(exc, "reason", None) or str(exc)
    if _may_hold_calendar(headers, whole if whole is not None else raw):
        return _as_meeting(comm, whole if whole is not None else _raw_bytes(msg))
    return comm


def _may_hold_calendar(headers: Headers, data: bytes | None) -> bool:
    kind = (header(headers, "content-type") or "").lower()
    return ("multipart" in kind or "text/calendar" in kind) and (
        data is None or b"text/calendar" in data.lower()
    )


def _as_meeting(comm: Communication, whole: bytes) -> Communication:
    """`comm` as a meeting when the message holds a ``text/calendar`` part with a VEVENT
    (the first one): occurred_at is its DTSTART, thread_id its UID, subject its SUMMARY
    (else the email's); organizer and attendees join the email's participants. Without
    the ``calendar`` extra, or when no part reads, `comm` is returned unchanged."""
    from stakeholder.ingest._calendar import event_in_text  # noqa: PLC0415 - optional extra

    try:
        msg = email.message_from_bytes(whole, policy=email.policy.compat32)
        parts = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    except (LookupError, UnicodeError, ValueError, TypeError, AttributeError, IndexError):
        return comm
    for part in parts:
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            text = payload.decode(charset, "replace")
        except LookupError:
            text = payload.decode("utf-8", "replace")
        try:
            event = event_in_text(text, where=comm.id)
        except MissingDependency:
            return comm
        if event is None:
            continue
        seen = {(p.address.lower(), p.role) for p in comm.participants}
        extra = [p for p in event.participants if (p.address.lower(), p.role) not in seen]
        return attrs.evolve(
            comm,
            kind=CommKind.MEETING,
            occurred_at=event.occurred_at,
            thread_id=event.thread_id or comm.thread_id,
            subject=event.subject or comm.subject,
            participants=(*comm.participants, *extra),
        )
    return comm


def communication_from_message(msg: Message, *, where: str = "") -> Communication:
    """The `Communication` of one parsed email message.

    id: the Message-ID without angle brackets, or ``sha256:<32 hex>`` of the raw
    message when it has none. thread_id: the first id of References (the thread's
    root), else In-Reply-To, else the message's own id. occurred_at: the Date header,
    tz-aware (no zone means UTC). Participants from From, To, Cc and Bcc with display
    names (RFC 2047 decoded; 8-bit text in the declared charset). `headers`: the list
    and bulk-mail headers (`MailHeaders`), `None` when there are none. A message with a
    ``text/calendar`` part is a meeting (see docs/ingest.md). Raises `InvalidRecord`
    (reason names `where`) when the message cannot be a communication, for example a
    missing or unparsable Date.
    """
    result = _build(msg, None)
    if isinstance(result, str):
        reason = f"{result} (at {where})" if where else result
        headers = headers_of(msg)
        raise InvalidRecord(header(headers, "message-id") or header(headers, "subject"), reason)
    return result


def _header_block(data: bytes) -> bytes | None:
    """The header block of a message (through its first empty line), or `None` when
    the data has no empty line."""
    ends = [i for i in (data.find(b"\n\n"), data.find(b"\n\r\n")) if i != -1]
    return data[: min(ends) + 1] if ends else None


def message_item(
    data: bytes, where: str, limits: ReadLimits | None = None, *, cut: bool = False
) -> Item:
    """The communication of one message's bytes, or its rejection. Headers only are
    parsed (bodies are not needed to route mail), unless the message holds a calendar
    part. `cut`: bytes past ``limits.max_record_bytes`` were left out by the reader."""
    limits = limits or ReadLimits()
    block = _header_block(data)
    if block is None:
        block = data
        if cut:
            reason = f"header block over max_record_bytes ({limits.max_record_bytes:,}): not read"
            return Rejection.of(where, reason, _summary(data))
    try:
        msg = _HEADER_PARSER.parsebytes(block)
        too_big = None
        if len(block) > limits.max_field_bytes:  # else no field can be over the limit
            too_big = _oversized_header(msg, limits.max_field_bytes)
        if too_big is not None:
            return Rejection.of(where, too_big, _summary(data))
        result = _build(msg, data, None if cut else data)
    except (RecursionError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - one bad message must never stop a batch
        return Rejection.of(where, f"cannot parse message: {type(exc).__name__}: {exc}", data)
    if isinstance(result, str):
        record_id = message_id(header(headers_of(msg), "message-id"))
        return Rejection.of(where, result, _summary(data), record_id)
    return result


def _oversized_header(msg: Message, limit: int) -> str | None:
    for key, value in _safe_items(msg):
        if len(value) > limit:
            size = f"{len(value):,} characters"
            return f"header field {key!r} is {size}, over max_field_bytes ({limit:,})"
    return None


def _summary(data: bytes) -> str:
    return data[:400].decode("utf-8", "replace")


# --------------------------------------------------------------------------- dicts


def communication_to_dict(comm: Communication) -> dict[str, Any]:
    """JSON-ready dict: ``id``, ``occurred_at`` (ISO 8601 with offset), ``thread_id``,
    ``subject``, ``kind``, ``participants``: a list of ``{address, role, name}``."""
    return {
        "id": comm.id,
        "occurred_at": comm.occurred_at.isoformat(),
        "thread_id": comm.thread_id,
        "subject": comm.subject,
        "kind": comm.kind.value,
        "participants": [
            {"address": p.address, "role": p.role.value, "name": p.name}
            for p in comm.participants
        ],
    }


def _occurred_at(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidRecord(value, "occurred_at is not an ISO 8601 datetime") from None
    else:
        raise InvalidRecord(value, "occurred_at must be an ISO 8601 string")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def communication_from_dict(data: Mapping[str, Any]) -> Communication:
    """The inverse of `communication_to_dict`. ``thread_id``, ``subject``, ``kind`` and
    participant ``role`` / ``name`` may be left out (defaults: none, ``""``, email, to,
    none); a naive ``occurred_at`` is UTC. Raises `InvalidRecord` with a reason."""
    if not isinstance(data, Mapping):
        raise InvalidRecord(data, "a communication must be a JSON object")
    for key in ("id", "occurred_at"):
        if data.get(key) in (None, ""):
            raise InvalidRecord(data, f"missing {key}")
    people = data.get("participants", [])
    if not isinstance(people, list):
        raise InvalidRecord(people, "participants must be a list")
    participants = []
    for person in people:
        if not isinstance(person, Mapping) or "address" not in person:
            raise InvalidRecord(person, "a participant must be an object with an address")
        participants.append(
            Participant(
                address=person["address"],
                role=person.get("role") or Role.TO,
                name=person.get("name"),
            )
        )
    return Communication(
        id=data["id"],
        occurred_at=_occurred_at(data["occurred_at"]),
        participants=participants,
        thread_id=data.get("thread_id"),
        subject=data.get("subject") or "",
        kind=data.get("kind") or CommKind.EMAIL,
    )


RAW_KEYS = frozenset(("raw", "text", "message", "rfc822"))
_RAW_ORDER = ("raw", "text", "message", "rfc822")


def dict_item(
    fields: Mapping[str, Any], where: str, raw: str, limits: ReadLimits | None = None
) -> Item:
    """The communication of one JSON object (a dict as `communication_to_dict` writes it,
    or one holding a raw message), or its rejection."""
    if "participants" not in fields and "occurred_at" not in fields:
        for key in _RAW_ORDER:
            value = fields.get(key)
            if isinstance(value, str):
                return message_item(value.encode("utf-8", "surrogateescape"), where, limits)
    try:
        return communication_from_dict(fields)
    except (StakeholderError, ValueError, TypeError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        return Rejection.of(where, reason, raw, fields.get("id"))
