"""Readers for the alert inputs: account stages, success-plan tasks, usage records (CSV,
JSONL or JSON) and routing decisions (JSON Lines, as `stakeholder route --out` writes
them). Each returns a `ReadResult`: the items, and one `Rejection` per unusable record
with its place and reason (a bad row never stops a read); repeated ids are duplicates.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from stakeholder._errors import InputFileError, StakeholderError
from stakeholder._model import Rejection
from stakeholder._routing import RoutingDecision
from stakeholder.alerts._inputs import AccountStage, Task, UsageRecord
from stakeholder.ingest._files import RawRecord, ReadResult, drain, records
from stakeholder.ingest._records import parse_datetime

__all__ = ["read_account_stages", "read_decisions", "read_tasks", "read_usage"]

T = TypeVar("T")
_STAGE_COLUMNS = {"account_id", "stage", "entered_at", "owner", "status"}


def _text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    return str(value).strip() or None


def _required(fields: dict[str, Any], name: str) -> str:
    value = _text(fields, name)
    if value is None:
        raise ValueError(f"{name} is missing")
    return value


def _when(fields: dict[str, Any], name: str) -> dt.datetime | None:
    value = fields.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _build(where: str, make: Callable[[dict[str, Any]], T]) -> Callable[[RawRecord], T | Rejection]:
    def build(record: RawRecord) -> T | Rejection:
        assert record.fields is not None
        try:
            return make(record.fields)
        except (StakeholderError, ValueError, TypeError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            return Rejection.of(record.where, f"{where}: {reason}", record.raw)

    return build


def _dedupe(result: ReadResult[T], key: Callable[[T], object], where: str) -> ReadResult[T]:
    seen: set[object] = set()
    kept: list[T] = []
    duplicates: list[Rejection] = []
    for item in result.items:
        k = key(item)
        if k in seen:
            why = "duplicate: an earlier record has this key"
            duplicates.append(Rejection.of(where, why, repr(k)))
            continue
        seen.add(k)
        kept.append(item)
    return ReadResult(tuple(kept), result.rejections, tuple(duplicates))


def _stage(fields: dict[str, Any]) -> AccountStage:
    entered = _when(fields, "entered_at")
    if entered is None:
        raise ValueError("entered_at is missing")
    extra = {k: v for k, v in fields.items() if k not in _STAGE_COLUMNS and v is not None}
    return AccountStage(
        account_id=_required(fields, "account_id"),
        stage=_required(fields, "stage"),
        entered_at=entered,
        owner=_text(fields, "owner"),
        status=_text(fields, "status") or "active",
        fields=extra,
    )


def read_account_stages(path: str | os.PathLike[str]) -> ReadResult[AccountStage]:
    """Account stages: columns `account_id`, `stage`, `entered_at` (required), `owner`,
    `status`; every other column is an account field (segment, manager, ...)."""
    stream = records(path, ("account_id", "stage", "entered_at"))
    result = drain(stream, _build("account stage", _stage))
    return _dedupe(result, lambda s: s.account_id, str(path))


def _days(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"within_days {value!r} is not a whole number") from None


def _task(fields: dict[str, Any]) -> Task:
    return Task(
        id=_required(fields, "id"),
        account_id=_required(fields, "account_id"),
        name=_required(fields, "name"),
        stage=_text(fields, "stage"),
        due_at=_when(fields, "due_at"),
        within_days=_days(fields.get("within_days")),
        done_at=_when(fields, "done_at"),
    )


def read_tasks(path: str | os.PathLike[str]) -> ReadResult[Task]:
    """Tasks: `id`, `account_id`, `name` (required), `stage`, `due_at`, `within_days`,
    `done_at`."""
    stream = records(path, ("id", "account_id", "name"))
    return _dedupe(drain(stream, _build("task", _task)), lambda t: t.id, str(path))


def _usage(fields: dict[str, Any]) -> UsageRecord:
    period_text = _required(fields, "period")
    try:
        period = dt.date.fromisoformat(period_text[:10])
    except ValueError:
        raise ValueError(f"period {period_text!r} is not an ISO date") from None
    raw = fields.get("value")
    try:
        value = float(str(raw).strip()) if not isinstance(raw, int | float) else float(raw)
    except ValueError:
        raise ValueError(f"value {raw!r} is not a number") from None
    return UsageRecord(_required(fields, "account_id"), _required(fields, "metric"), period, value)


def read_usage(path: str | os.PathLike[str]) -> ReadResult[UsageRecord]:
    """Usage: `account_id`, `metric`, `period` (ISO date), `value`."""
    stream = records(path, ("account_id", "metric", "period", "value"))
    return _dedupe(
        drain(stream, _build("usage", _usage)),
        lambda u: (u.account_id, u.metric.casefold(), u.period),
        str(path),
    )


def read_decisions(path: str | os.PathLike[str]) -> ReadResult[RoutingDecision]:
    """Routing decisions from JSON Lines (`RoutingDecision.to_dict` per line)."""
    p = Path(path)
    try:
        handle = p.open(encoding="utf-8")
    except OSError as exc:
        raise InputFileError(p, exc.strerror or str(exc)) from None
    items: list[RoutingDecision] = []
    rejections: list[Rejection] = []
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                items.append(RoutingDecision.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError, StakeholderError) as exc:
                rejections.append(Rejection.of(f"{p}:{number}", f"decision: {exc}", line.strip()))
    result: ReadResult[RoutingDecision] = ReadResult(tuple(items), tuple(rejections))
    return _dedupe(result, lambda d: d.comm_id, str(p))
