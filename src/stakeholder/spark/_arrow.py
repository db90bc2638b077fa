"""Arrow schemas of the DataFrames `stakeholder.spark` reads and writes, and the
conversions between them and the library's values.

Pure `pyarrow` (no Spark): the same functions run on the driver, inside Spark's Python
workers (`mapInArrow`) and in tools that read the Parquet files without Spark.
Timestamps are UTC microseconds (`timestamp[us, tz=UTC]`); a value read back is the same
instant in UTC (equal to the original: aware datetimes compare by instant).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

import attrs
import pyarrow as pa

import stakeholder
from stakeholder import (
    Account,
    Communication,
    Contact,
    Evidence,
    InvalidRecord,
    Override,
    Participant,
    RoutingDecision,
)

__all__ = [
    "ACCOUNT_SCHEMA",
    "COMMUNICATION_SCHEMA",
    "CONTACT_SCHEMA",
    "DECISION_SCHEMA",
    "EVIDENCE_TYPE",
    "OVERRIDE_SCHEMA",
    "account_from_row",
    "account_row",
    "accounts_table",
    "communication_from_row",
    "communication_row",
    "communications_table",
    "contact_from_row",
    "contact_row",
    "contacts_table",
    "decision_from_row",
    "decision_row",
    "decisions_table",
    "override_from_row",
    "override_row",
    "overrides_table",
    "rows",
]

_TS: Final = pa.timestamp("us", tz="UTC")
_STRS: Final = pa.list_(pa.string())

ACCOUNT_SCHEMA: Final = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("status", pa.string()),
        pa.field("parent_id", pa.string()),
        pa.field("domains", _STRS),
        pa.field("aliases", _STRS),
    ]
)
"""One row per `Account`; `kind` and `status` hold the enum values; lists sorted."""

CONTACT_SCHEMA: Final = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("account_id", pa.string()),
        pa.field("email", pa.string()),
        pa.field("phone", pa.string()),
        pa.field("name", pa.string()),
        pa.field("title", pa.string()),
        pa.field("created_at", _TS),
        pa.field("conversions", pa.int64()),
        pa.field("first_conversion_at", _TS),
        pa.field("deal_stage", pa.int64()),
        pa.field("tags", _STRS),
    ]
)
"""One row per `Contact`; `email` is the canonical address (or the raw text that did not
parse), `phone` as written."""

PARTICIPANT_TYPE: Final = pa.struct(
    [
        pa.field("address", pa.string()),
        pa.field("role", pa.string()),
        pa.field("name", pa.string()),
    ]
)
HEADERS_TYPE: Final = pa.struct(
    [
        pa.field("list_id", pa.string()),
        pa.field("list_unsubscribe", pa.string()),
        pa.field("precedence", pa.string()),
        pa.field("auto_submitted", pa.string()),
        pa.field("x_auto_response_suppress", pa.string()),
    ]
)
COMMUNICATION_SCHEMA: Final = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("occurred_at", _TS),
        pa.field("participants", pa.list_(PARTICIPANT_TYPE)),
        pa.field("thread_id", pa.string()),
        pa.field("subject", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("headers", HEADERS_TYPE),
    ]
)
"""One row per `Communication`; `participants` keep their order, raw address, role value
and display name; `headers` (nullable) the list/bulk mail headers when the model has
them."""

OVERRIDE_SCHEMA: Final = pa.schema(
    [
        pa.field("account_ids", _STRS),
        pa.field("author", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("at", _TS),
        pa.field("at_offset", pa.int32()),
        pa.field("comm_id", pa.string()),
        pa.field("thread_id", pa.string()),
        pa.field("address", pa.string()),
        pa.field("host", pa.string()),
    ]
)
"""One row per `Override`: exactly one target of `comm_id`, `thread_id`, `address`
(canonical email) and `host` is set. `at_offset` keeps the UTC offset `at` was written
with (seconds), since an override's evidence quotes its time as written."""

EVIDENCE_TYPE: Final = pa.struct(
    [
        pa.field("kind", pa.string()),
        pa.field("strength", pa.string()),
        pa.field("account_ids", _STRS),
        pa.field("address", pa.string()),
        pa.field("role", pa.string()),
        pa.field("detail", pa.string()),
    ]
)
DECISION_SCHEMA: Final = pa.schema(
    [
        pa.field("comm_id", pa.string(), nullable=False),
        pa.field("status", pa.string()),
        pa.field("account_ids", _STRS),
        pa.field("primary_account_id", pa.string()),
        pa.field("candidates", _STRS),
        pa.field("rule", pa.string()),
        pa.field("confidence", pa.float64()),
        pa.field("evidence", pa.list_(EVIDENCE_TYPE)),
        pa.field("occurred_at", _TS),
        pa.field("thread_id", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("subject", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("explanation", pa.string()),
    ]
)
"""One row per `RoutingDecision` (the fields of `to_dict()`, plus `primary_account_id`
and `explanation`: the text of `explain()` when asked for, else null)."""


# --------------------------------------------------------------------------- values -> rows


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC)


def _offset(value: dt.datetime) -> int | None:
    offset = value.utcoffset()
    return None if offset is None else int(offset.total_seconds())


def _with_offset(value: dt.datetime, seconds: int | None) -> dt.datetime:
    if seconds is None:
        return value
    return value.astimezone(dt.timezone(dt.timedelta(seconds=seconds)))


def account_row(account: Account) -> dict[str, Any]:
    """An `Account` as a row of `ACCOUNT_SCHEMA`."""
    return {
        "id": account.id,
        "name": account.name,
        "kind": account.kind.value,
        "status": account.status.value,
        "parent_id": account.parent_id,
        "domains": sorted(account.domains),
        "aliases": sorted(account.aliases),
    }


def contact_row(contact: Contact) -> dict[str, Any]:
    """A `Contact` as a row of `CONTACT_SCHEMA`."""
    email = contact.email
    return {
        "id": contact.id,
        "account_id": contact.account_id,
        "email": None if email is None else str(email),
        "phone": contact.phone,
        "name": contact.name,
        "title": contact.title,
        "created_at": _utc(contact.created_at),
        "conversions": contact.conversions,
        "first_conversion_at": _utc(contact.first_conversion_at),
        "deal_stage": contact.deal_stage,
        "tags": sorted(contact.tags),
    }


def communication_row(comm: Communication) -> dict[str, Any]:
    """A `Communication` as a row of `COMMUNICATION_SCHEMA`."""
    headers = getattr(comm, "headers", None)
    return {
        "id": comm.id,
        "occurred_at": _utc(comm.occurred_at),
        "participants": [
            {"address": p.address, "role": p.role.value, "name": p.name}
            for p in comm.participants
        ],
        "thread_id": comm.thread_id,
        "subject": comm.subject,
        "kind": comm.kind.value,
        "headers": None if headers is None else attrs.asdict(headers),
    }


def override_row(override: Override) -> dict[str, Any]:
    """An `Override` as a row of `OVERRIDE_SCHEMA`."""
    return {
        "account_ids": list(override.account_ids),
        "author": override.author,
        "reason": override.reason,
        "at": _utc(override.at),
        "at_offset": _offset(override.at),
        "comm_id": override.comm_id,
        "thread_id": override.thread_id,
        "address": getattr(override, "address", None),
        "host": getattr(override, "host", None),
    }


def decision_row(decision: RoutingDecision, *, explain: bool = False) -> dict[str, Any]:
    """A `RoutingDecision` as a row of `DECISION_SCHEMA` (`explanation` only if asked)."""
    return {
        "comm_id": decision.comm_id,
        "status": decision.status.value,
        "account_ids": list(decision.account_ids),
        "primary_account_id": decision.primary_account_id,
        "candidates": list(decision.candidates),
        "rule": decision.rule,
        "confidence": decision.confidence,
        "evidence": [e.to_dict() for e in decision.evidence],
        "occurred_at": _utc(decision.occurred_at),
        "thread_id": decision.thread_id,
        "kind": decision.kind.value,
        "subject": decision.subject,
        "reason": decision.reason,
        "explanation": decision.explain() if explain else None,
    }


# --------------------------------------------------------------------------- rows -> values


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """Arrow gives aware datetimes for zoned columns; a naive one is taken as UTC."""
    if value is None or value.tzinfo is not None:
        return None if value is None else value.astimezone(dt.UTC)
    return value.replace(tzinfo=dt.UTC)


def _required(value: dt.datetime | None, name: str) -> dt.datetime:
    found = _aware(value)
    if found is None:
        raise InvalidRecord(value, f"{name} is required")
    return found


def account_from_row(row: Mapping[str, Any]) -> Account:
    """An `Account` from a row of `ACCOUNT_SCHEMA` (missing optional columns default)."""
    return Account(
        id=row["id"],
        name=row["name"],
        kind=row.get("kind") or "customer",
        status=row.get("status") or "active",
        parent_id=row.get("parent_id"),
        domains=frozenset(row.get("domains") or ()),
        aliases=frozenset(row.get("aliases") or ()),
    )


def contact_from_row(row: Mapping[str, Any]) -> Contact:
    """A `Contact` from a row of `CONTACT_SCHEMA` (the email is parsed again)."""
    return Contact(
        id=row["id"],
        account_id=row["account_id"],
        email=row.get("email"),
        phone=row.get("phone"),
        name=row.get("name"),
        title=row.get("title"),
        created_at=_aware(row.get("created_at")),
        conversions=row.get("conversions") or 0,
        first_conversion_at=_aware(row.get("first_conversion_at")),
        deal_stage=row.get("deal_stage"),
        tags=frozenset(row.get("tags") or ()),
    )


def _headers(value: Mapping[str, Any] | None) -> dict[str, Any]:
    model = getattr(stakeholder, "MailHeaders", None)
    if value is None or model is None or not any(v is not None for v in value.values()):
        return {}
    return {"headers": model(**value)}


def communication_from_row(row: Mapping[str, Any]) -> Communication:
    """A `Communication` from a row of `COMMUNICATION_SCHEMA`; raises `InvalidRecord`
    (or `ValueError`) for a row that cannot make one."""
    participants = tuple(
        Participant(p["address"], p.get("role") or "to", p.get("name"))
        for p in row.get("participants") or ()
    )
    return Communication(
        id=row["id"],
        occurred_at=_required(row.get("occurred_at"), "occurred_at"),
        participants=participants,
        thread_id=row.get("thread_id"),
        subject=row.get("subject") or "",
        kind=row.get("kind") or "email",
        **_headers(row.get("headers")),
    )


def override_from_row(row: Mapping[str, Any]) -> Override:
    """An `Override` from a row of `OVERRIDE_SCHEMA`."""
    targets = {
        name: row[name]
        for name in ("address", "host")
        if row.get(name) is not None and name in attrs.fields_dict(Override)
    }
    return Override(
        account_ids=tuple(row["account_ids"]),
        author=row["author"],
        reason=row["reason"],
        at=_with_offset(_required(row.get("at"), "at"), row.get("at_offset")),
        comm_id=row.get("comm_id"),
        thread_id=row.get("thread_id"),
        **targets,
    )


def decision_from_row(row: Mapping[str, Any]) -> RoutingDecision:
    """A `RoutingDecision` from a row of `DECISION_SCHEMA`."""
    return RoutingDecision(
        comm_id=row["comm_id"],
        status=row["status"],
        account_ids=tuple(row.get("account_ids") or ()),
        candidates=tuple(row.get("candidates") or ()),
        evidence=tuple(Evidence.from_dict(e) for e in row.get("evidence") or ()),
        rule=row.get("rule") or "",
        confidence=float(row.get("confidence") or 0.0),
        occurred_at=_aware(row.get("occurred_at")),
        thread_id=row.get("thread_id"),
        kind=row.get("kind") or "email",
        subject=row.get("subject") or "",
        reason=row.get("reason") or "",
    )


# --------------------------------------------------------------------------- tables

_BATCH: Final = 65_536


def _table(items: Iterable[Any], to_row: Any, schema: pa.Schema) -> pa.Table:
    batches: list[pa.RecordBatch] = []
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(to_row(item))
        if len(chunk) >= _BATCH:
            batches.append(pa.RecordBatch.from_pylist(chunk, schema=schema))
            chunk = []
    if chunk or not batches:
        batches.append(pa.RecordBatch.from_pylist(chunk, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def accounts_table(accounts: Iterable[Account]) -> pa.Table:
    """Accounts as an Arrow table of `ACCOUNT_SCHEMA`."""
    return _table(accounts, account_row, ACCOUNT_SCHEMA)


def contacts_table(contacts: Iterable[Contact]) -> pa.Table:
    """Contacts as an Arrow table of `CONTACT_SCHEMA`."""
    return _table(contacts, contact_row, CONTACT_SCHEMA)


def communications_table(comms: Iterable[Communication]) -> pa.Table:
    """Communications as an Arrow table of `COMMUNICATION_SCHEMA`."""
    return _table(comms, communication_row, COMMUNICATION_SCHEMA)


def overrides_table(overrides: Iterable[Override]) -> pa.Table:
    """Overrides as an Arrow table of `OVERRIDE_SCHEMA`."""
    return _table(overrides, override_row, OVERRIDE_SCHEMA)


def decisions_table(decisions: Iterable[RoutingDecision], *, explain: bool = False) -> pa.Table:
    """Decisions as an Arrow table of `DECISION_SCHEMA`."""
    return _table(decisions, lambda d: decision_row(d, explain=explain), DECISION_SCHEMA)


def rows(table: pa.Table | pa.RecordBatch | Iterable[pa.RecordBatch]) -> Iterator[dict[str, Any]]:
    """The rows of an Arrow table, record batch or stream of batches, as dicts."""
    if isinstance(table, pa.Table):
        batches: Iterable[pa.RecordBatch] = table.to_batches()
    elif isinstance(table, pa.RecordBatch):
        batches = (table,)
    else:
        batches = table
    for batch in batches:
        yield from batch.to_pylist()

