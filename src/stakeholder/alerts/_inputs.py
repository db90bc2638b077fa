"""What rules are evaluated over: accounts' lifecycle stages, success-plan tasks and usage.

`AccountStage` says which stage an account is in, since when, who owns it and any other
fields rules filter on (segment, region, ...). `Task` is one success-plan milestone.
`UsageRecord` is one named number per account and period. All are frozen values; the
readers in `stakeholder.alerts` build them from CSV files with per-row rejections.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from stakeholder._errors import InvalidRecord
from stakeholder._model import aware_datetime, check_id

__all__ = [
    "DEFAULT_STAGES",
    "AccountStage",
    "Stage",
    "Task",
    "UsageRecord",
]


_aware = aware_datetime


def _stage_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRecord(value, "a stage name must be a non-empty string")
    return value.strip()


def _optional_text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRecord(value, "expected a string")
    return value.strip() or None


def _fields(value: object) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    if not isinstance(items, Iterable) or isinstance(items, str):
        raise InvalidRecord(value, "fields must be a mapping of names to text")
    out: dict[str, str] = {}
    for item in items:
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise InvalidRecord(item, "a field must be a (name, text) pair")
        name, text = item
        if not isinstance(name, str) or not name.strip():
            raise InvalidRecord(name, "a field name must be a non-empty string")
        out[name.strip().lower()] = "" if text is None else str(text).strip()
    return tuple(sorted(out.items()))


def _lower(value: object) -> str:
    return str(value).strip().lower()


@attrs.frozen(order=True)
class Stage:
    """A lifecycle stage (`name` compares case-insensitively through `key`)."""

    name: str = attrs.field(converter=_stage_name)

    @property
    def key(self) -> str:
        """The name folded for comparison."""
        return self.name.casefold()


#: The default lifecycle: Onboarding, Adoption, Renewal. Any other name is a stage too.
DEFAULT_STAGES: Final = (Stage("Onboarding"), Stage("Adoption"), Stage("Renewal"))


@attrs.frozen
class AccountStage:
    """An account's place in its journey: its `stage` (any name; see `DEFAULT_STAGES`),
    when it `entered_at` that stage, its `owner` (the CSM: a CTA's assignee) and other
    `fields` rules filter on or escalate to (`segment`, `manager`, ...; names are
    lower-cased). `status` mirrors the account's (active, churned)."""

    account_id: str = attrs.field(validator=check_id)
    stage: str = attrs.field(converter=_stage_name)
    entered_at: dt.datetime = attrs.field(validator=_aware)
    owner: str | None = attrs.field(default=None, converter=_optional_text)
    status: str = attrs.field(default="active", converter=_lower)
    fields: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_fields)

    def field(self, name: str) -> str | None:
        """The value of `name`: `owner`, `status`, `stage`, `account_id` or a field."""
        key = name.strip().lower()
        if key in ("owner", "status", "stage", "account_id"):
            value: str | None = getattr(self, key)
            return value
        return dict(self.fields).get(key)


@attrs.frozen
class Task:
    """A success-plan milestone of one account: due at `due_at`, or `within_days` of
    the account entering `stage` (the task's stage, or the account's current stage when
    `None`); `done_at` when completed."""

    id: str = attrs.field(validator=check_id)
    account_id: str = attrs.field(validator=check_id)
    name: str = attrs.field(converter=_stage_name)
    stage: str | None = attrs.field(default=None, converter=_optional_text)
    due_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    within_days: int | None = attrs.field(default=None)
    done_at: dt.datetime | None = attrs.field(default=None, validator=_aware)

    @within_days.validator
    def _check_days(self, attribute: attrs.Attribute[Any], value: object) -> None:
        bad = isinstance(value, bool) or not isinstance(value, int)
        if value is not None and (bad or value < 0):  # type: ignore[operator]
            raise InvalidRecord(value, "within_days must be a whole number >= 0")


@attrs.frozen
class UsageRecord:
    """One usage figure: `metric` (any name: logins, seats, API calls) of an account for
    the period starting `period` (a date; periods of one metric are consecutive in date
    order)."""

    account_id: str = attrs.field(validator=check_id)
    metric: str = attrs.field(converter=_stage_name)
    period: dt.date = attrs.field()
    value: float = attrs.field()

    @period.validator
    def _check_period(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise InvalidRecord(value, "period must be a date")

    @value.validator
    def _check_value(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise InvalidRecord(value, "value must be a number")
