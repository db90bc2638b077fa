"""Which CRM accounts are taken: a status field and its active / churned picklist values.

Pure: a record (a mapping of field name to value) in, a `Selection` out.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from stakeholder._errors import ConfigurationError
from stakeholder._model import AccountStatus

__all__ = ["AccountSelector", "Selection", "SelectionStatus"]


class SelectionStatus(enum.StrEnum):
    """What the selector makes of a CRM account: taken as active, taken as churned (kept
    for churn analysis), or not taken at all."""

    ACTIVE = "active"
    CHURNED = "churned"
    EXCLUDED = "excluded"

    @property
    def account_status(self) -> AccountStatus | None:
        """The `AccountStatus` a taken account gets; `None` for `EXCLUDED`."""
        if self is SelectionStatus.ACTIVE:
            return AccountStatus.ACTIVE
        if self is SelectionStatus.CHURNED:
            return AccountStatus.CHURNED
        return None


@attrs.frozen
class Selection:
    """The selector's verdict on one record: `status`, the trimmed `value` it read (or
    `None` when the field was missing or empty) and a plain-language `reason`."""

    status: SelectionStatus
    value: str | None
    reason: str

    @property
    def taken(self) -> bool:
        """Whether the account is taken (active or churned)."""
        return self.status is not SelectionStatus.EXCLUDED

    def explain(self) -> str:
        return f"{self.status.value}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "value": self.value, "reason": self.reason}


def _values(value: object) -> tuple[str, ...]:
    """Picklist values as given: trimmed, NFC, duplicates dropped, order kept."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable):
        raise ConfigurationError(f"picklist values must be strings, got {value!r}")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ConfigurationError(f"picklist values must be strings, got {item!r}")
        text = _trim(item)
        if not text:
            raise ConfigurationError("an empty picklist value cannot be matched")
        if text not in out:
            out.append(text)
    return tuple(out)


def _trim(text: str) -> str:
    if text.isascii():  # NFC leaves ASCII as it is
        return text.strip()
    return unicodedata.normalize("NFC", text).strip()


def _field_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"status_field must be a non-empty field name, got {value!r}")
    return value.strip()


def _shown(values: tuple[str, ...]) -> str:
    return ", ".join(repr(v) for v in values) if values else "none"


@attrs.frozen
class AccountSelector:
    """Classifies raw CRM account records by the value of one status field.

    - `status_field`: the field (column) holding the status, e.g. ``Account_Status__c``.
      Looked up exactly first, then ignoring case and surrounding spaces (CSV headers
      and API names are written inconsistently).
    - `active_values`: picklist values meaning *active* (e.g. ``Active``, ``Tier 1``).
    - `churned_values`: values meaning *churned*; such accounts are kept, marked churned.
    - `case_sensitive` (default `False`): values are compared after trimming surrounding
      whitespace and Unicode NFC normalisation, and, unless `case_sensitive`, with
      `str.casefold()`. Exports carry picklist *labels* typed by people, and two values
      differing only in case practically always mean the same status; pass `True` to
      compare like Salesforce's (case-sensitive) picklist API values do.

    Any other value, an empty value or a missing field excludes the account. A value in
    both lists (after the same normalisation) raises `ConfigurationError` at
    construction, as does an empty `active_values`.
    """

    status_field: str = attrs.field(converter=_field_name)
    active_values: tuple[str, ...] = attrs.field(converter=_values)
    churned_values: tuple[str, ...] = attrs.field(default=(), converter=_values)
    case_sensitive: bool = False
    _active_keys: frozenset[str] = attrs.field(init=False, repr=False, eq=False)
    _churned_keys: frozenset[str] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not self.active_values:
            raise ConfigurationError("at least one active value is needed")
        active = {self._key(v): v for v in self.active_values}
        churned = {self._key(v): v for v in self.churned_values}
        both = sorted(set(active) & set(churned))
        if both:
            pairs = ", ".join(f"{active[k]!r} / {churned[k]!r}" for k in both)
            how = "" if self.case_sensitive else " (compared ignoring case)"
            raise ConfigurationError(
                f"picklist value(s) listed as both active and churned{how}: {pairs}"
            )
        object.__setattr__(self, "_active_keys", frozenset(active))
        object.__setattr__(self, "_churned_keys", frozenset(churned))

    def _key(self, value: str) -> str:
        text = _trim(value)
        return text if self.case_sensitive else text.casefold()

    def _lookup(self, record: Mapping[str, object]) -> tuple[bool, object]:
        if self.status_field in record:
            return True, record[self.status_field]
        wanted = self.status_field.casefold()
        for name in sorted(k for k in record if isinstance(k, str)):
            if name.strip().casefold() == wanted:
                return True, record[name]
        return False, None

    def classify(self, record: Mapping[str, object]) -> Selection:
        """`ACTIVE`, `CHURNED` or `EXCLUDED`, with the value read and the reason."""
        found, raw = self._lookup(record)
        field = self.status_field
        if not found:
            return Selection(
                SelectionStatus.EXCLUDED, None,
                f"the record has no value for {field!r} (absent or empty)",
            )
        if raw is None:
            return Selection(
                SelectionStatus.EXCLUDED, None,
                f"the record has no value for {field!r} (absent or empty)",
            )
        text = _trim(raw if isinstance(raw, str) else str(raw))
        if not text:
            return Selection(
                SelectionStatus.EXCLUDED, None,
                f"the record has no value for {field!r} (absent or empty)",
            )
        key = self._key(text)
        if key in self._active_keys:
            return Selection(
                SelectionStatus.ACTIVE, text, f"{field!r} is {text!r}, an active value"
            )
        if key in self._churned_keys:
            return Selection(
                SelectionStatus.CHURNED, text, f"{field!r} is {text!r}, a churned value"
            )
        return Selection(
            SelectionStatus.EXCLUDED,
            text,
            f"{field!r} is {text!r}, which is neither an active value "
            f"({_shown(self.active_values)}) nor a churned value "
            f"({_shown(self.churned_values)})",
        )

    def status(self, record: Mapping[str, object]) -> SelectionStatus:
        """Only the status of `classify(record)`."""
        return self.classify(record).status

    def explain(self) -> str:
        how = "case-sensitive" if self.case_sensitive else "ignoring case"
        return (
            f"accounts are selected by {self.status_field!r} ({how}, after trimming): "
            f"active = {_shown(self.active_values)}; churned = "
            f"{_shown(self.churned_values)}; any other, empty or missing value is excluded"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "status_field": self.status_field,
            "active_values": list(self.active_values),
            "churned_values": list(self.churned_values),
            "case_sensitive": self.case_sensitive,
        }
