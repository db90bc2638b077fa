"""CRM record readers: accounts, contacts and overrides from CSV, JSONL or JSON."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from stakeholder._errors import StakeholderError
from stakeholder._model import Account, Contact, Rejection
from stakeholder._progress import Progress
from stakeholder.ingest._files import RawRecord, ReadLimits, ReadResult, drain, records

if TYPE_CHECKING:  # routing sits above ingest in the layers: import it only when used
    from stakeholder._routing import Override

__all__ = ["parse_datetime", "read_accounts", "read_contacts", "read_overrides"]

_DOMAIN_SEPARATORS = re.compile(r"[;,\s]+")
_LIST_SEPARATOR = ";"


class _FieldError(Exception):
    """A field that cannot be used; becomes the rejection's reason."""


# --------------------------------------------------------------------------- fields


def _text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if type(value) is str:  # the common case first
        return value.strip() or None
    if isinstance(value, bool):
        raise _FieldError(f"{name} must be text, got {value!r}")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise _FieldError(f"{name} must be text, got {type(value).__name__}")
    return value.strip() or None


def _identifier(fields: dict[str, Any], name: str) -> str | None:
    value = _text(fields, name)
    if value is not None and "\x00" in value:
        raise _FieldError(f"{name} contains a NUL character")
    return value


def _list(fields: dict[str, Any], name: str, separators: re.Pattern[str] | str) -> list[str]:
    value = fields.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        parts = (
            separators.split(value)
            if isinstance(separators, re.Pattern)
            else value.split(separators)
        )
        return [p.strip() for p in parts if p.strip()]
    if isinstance(value, list):
        out = []
        for item in value:
            if not isinstance(item, str):
                raise _FieldError(f"{name} must be a list of strings, found {item!r}")
            if item.strip():
                out.append(item.strip())
        return out
    raise _FieldError(f"{name} must be a list of strings, got {type(value).__name__}")


def _integer(fields: dict[str, Any], name: str) -> int | None:
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise _FieldError(f"bad integer in {name}: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,18}\s*", value):
        return int(value)
    raise _FieldError(f"bad integer in {name}: {value!r}")


def parse_datetime(value: object) -> dt.datetime:
    """A timezone-aware datetime from ISO 8601 text (with offset, ``Z``, naive or a bare
    date). Naive times and bare dates are taken as UTC (a date is its midnight).

    Raises `ValueError` with a reason for anything else.
    """
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("empty date")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"unparsable datetime {value!r}: expected ISO 8601") from None
    else:
        raise ValueError(f"unparsable datetime {value!r}: expected ISO 8601 text")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _datetime(fields: dict[str, Any], name: str) -> dt.datetime | None:
    value = fields.get(name)
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise _FieldError(f"{name}: {exc}") from None


def _enum_text(fields: dict[str, Any], name: str, choices: Iterable[str]) -> str | None:
    value = _text(fields, name)
    if value is None:
        return None
    if value.lower() not in choices:
        raise _FieldError(f"bad {name} {value!r}: expected one of {', '.join(choices)}")
    return value.lower()


# --------------------------------------------------------------------------- readers


class _Deduplicate:
    """Keeps the first record of each id; later ones are rejected and say where the
    first one was."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def check(self, record_id: str, where: str) -> str | None:
        first = self.seen.get(record_id)
        if first is not None:
            return f"duplicate id {record_id!r} (first seen at {first}; the first one is kept)"
        self.seen[record_id] = where
        return None


def _reject(record: RawRecord, reason: str, record_id: object = None) -> Rejection:
    return Rejection.of(record.where, reason, record.raw, record_id)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_Item = TypeVar("_Item")
_Identified = TypeVar("_Identified", bound=_HasId)


def _built(
    record: RawRecord, build: Callable[[], _Item], record_id: str | None = None
) -> _Item | Rejection:
    """`build()`, or the rejection of `record` (with `record_id`) for the field or value
    error it raised."""
    try:
        return build()
    except _FieldError as exc:
        return _reject(record, str(exc), record_id)
    except (StakeholderError, ValueError, TypeError) as exc:
        return _reject(record, _reason(exc), record_id)


def _identified(
    record: RawRecord,
    seen: _Deduplicate,
    build: Callable[[dict[str, Any], str], _Identified],
) -> _Identified | Rejection:
    """The item `build(fields, id)` makes of a record with an ``id`` column; rejected
    for a missing or unusable id, a field `build` cannot use, or an id seen before."""
    fields = record.fields or {}
    record_id = _built(record, lambda: _identifier(fields, "id"))
    if isinstance(record_id, Rejection):
        return record_id
    if record_id is None:
        return _reject(record, "missing id")
    item = _built(record, lambda: build(fields, record_id), record_id)
    if isinstance(item, Rejection):
        return item
    duplicate = seen.check(item.id, record.where)
    if duplicate:
        return _reject(record, duplicate, record_id)
    return item


def _account(fields: dict[str, Any], record_id: str) -> Account:
    name = _text(fields, "name")
    if name is None:
        raise _FieldError("missing name")
    kind = _enum_text(fields, "kind", ("customer", "partner"))
    status = _enum_text(fields, "status", ("active", "churned"))
    parent_id = _identifier(fields, "parent_id")
    domains = _list(fields, "domains", _DOMAIN_SEPARATORS)
    aliases = _list(fields, "aliases", _LIST_SEPARATOR)
    kwargs: dict[str, Any] = {}
    if kind is not None:
        kwargs["kind"] = kind
    if status is not None:
        kwargs["status"] = status
    return Account(
        id=record_id,
        name=name,
        parent_id=parent_id,
        domains=domains,
        aliases=aliases,
        **kwargs,
    )


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str):
        raw = getattr(exc, "raw", None)
        if isinstance(raw, str) and raw:
            shown = raw if len(raw) <= 60 else raw[:57] + "..."
            return f"{reason} ({shown!r})"
        return reason
    return str(exc) or type(exc).__name__


def read_accounts(
    path: str | os.PathLike[str],
    *,
    limits: ReadLimits | None = None,
    progress: Progress | None = None,
) -> ReadResult[Account]:
    """Read accounts from a CSV (header row), JSONL or JSON file (format by extension;
    ``.gz`` accepted).

    Columns: ``id`` and ``name`` (required), ``kind`` (customer | partner, default
    customer), ``status`` (active | churned, default active), ``parent_id``, ``domains``
    (CSV: separated by ``;``, ``,`` or spaces; JSON: a list) and ``aliases`` (CSV:
    ``;``-separated; JSON: a list). Empty cells are missing values.

    Bad rows become `Rejection`s (missing id or name, bad kind or status, a domain that
    does not parse, a duplicate id: the first is kept; a line or field over `limits`).
    Raises `InputFileError` for an unusable file (missing, not a regular file, ...).
    """
    seen = _Deduplicate()
    return drain(
        records(path, ("id", "name"), limits),
        lambda r: _identified(r, seen, _account),
        progress,
    )


def _contact(fields: dict[str, Any], record_id: str, known: Collection[str] | None) -> Contact:
    account_id = _identifier(fields, "account_id")
    if account_id is None:
        raise _FieldError("missing account_id")
    if known is not None and account_id not in known:
        raise _FieldError(f"unknown account {account_id!r}")
    conversions = _integer(fields, "conversions")
    return Contact(
        id=record_id,
        account_id=account_id,
        email=_text(fields, "email"),
        phone=_text(fields, "phone"),
        name=_text(fields, "name"),
        title=_text(fields, "title"),
        created_at=_datetime(fields, "created_at"),
        conversions=0 if conversions is None else conversions,
        first_conversion_at=_datetime(fields, "first_conversion_at"),
        deal_stage=_integer(fields, "deal_stage"),
        tags=_list(fields, "tags", _LIST_SEPARATOR),
    )


def read_contacts(
    path: str | os.PathLike[str],
    *,
    known_account_ids: Collection[str] | None = None,
    limits: ReadLimits | None = None,
    progress: Progress | None = None,
) -> ReadResult[Contact]:
    """Read contacts from a CSV (header row), JSONL or JSON file (format by extension;
    ``.gz`` accepted).

    Columns: ``id`` and ``account_id`` (required), ``email``, ``phone``, ``name``,
    ``title``, ``created_at`` and ``first_conversion_at`` (ISO 8601 with an offset, or a
    date; naive times are UTC), ``conversions`` and ``deal_stage`` (integers), ``tags``
    (CSV: ``;``-separated; JSON: a list). Empty cells are missing values.

    Bad rows become `Rejection`s: missing id or account_id, duplicate id (the first is
    kept), bad integer, unparsable datetime, and, when `known_account_ids` is given, an
    account id not in it. A contact whose email does not parse is kept (the raw text
    stays in `Contact.email`; `Contact.email_error` says why). Raises `InputFileError`
    for an unusable file.
    """
    seen = _Deduplicate()
    known = (
        None
        if known_account_ids is None
        else (
            known_account_ids
            if isinstance(known_account_ids, (set, frozenset, dict))
            else frozenset(known_account_ids)
        )
    )
    return drain(
        records(path, ("id", "account_id"), limits),
        lambda r: _identified(r, seen, lambda fields, rid: _contact(fields, rid, known)),
        progress,
    )


def _override(fields: dict[str, Any]) -> Override:
    from stakeholder._routing import Override  # noqa: PLC0415 - see the import block

    account_ids = _list(fields, "account_ids", _DOMAIN_SEPARATORS)
    if not account_ids:
        raise _FieldError("missing account_ids")
    author = _text(fields, "author")
    if author is None:
        raise _FieldError("missing author")
    reason = _text(fields, "reason")
    if reason is None:
        raise _FieldError("missing reason")
    at = _datetime(fields, "at")
    if at is None:
        raise _FieldError("missing at")
    comm_id = _identifier(fields, "comm_id")
    thread_id = _identifier(fields, "thread_id")
    address = _text(fields, "address")
    host = _text(fields, "host")
    if address is None and host is None:
        if (comm_id is None) == (thread_id is None):
            raise _FieldError("an override needs exactly one of comm_id or thread_id")
    elif sum(target is not None for target in (comm_id, thread_id, address, host)) != 1:
        raise _FieldError(
            "an override needs exactly one of comm_id, thread_id, address or host"
        )
    return Override(  # a bad address or host raises: `_built` rejects the row
        account_ids=tuple(account_ids),
        author=author,
        reason=reason,
        at=at,
        comm_id=comm_id,
        thread_id=thread_id,
        address=address,
        host=host,
    )


def read_overrides(
    path: str | os.PathLike[str],
    *,
    limits: ReadLimits | None = None,
    progress: Progress | None = None,
) -> ReadResult[Override]:
    """Read overrides from a CSV (header row), JSONL or JSON file.

    Columns: ``account_ids`` (CSV: separated by ``;``, ``,`` or spaces; JSON: a list),
    ``author``, ``reason``, ``at`` (ISO 8601; naive is UTC), and exactly one of
    ``comm_id``, ``thread_id``, ``address`` or ``host`` (the last two reroute a person
    or a host from ``at`` on). Rows that break these rules become `Rejection`s; all
    overrides are kept, even several for one target (the routing layer decides which
    wins).
    """
    return drain(
        records(path, ("account_ids", "author", "reason", "at"), limits),
        lambda r: _built(r, lambda: _override(r.fields or {})),
        progress,
    )
