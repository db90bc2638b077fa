"""Which column of a record holds which field: resolved per record, from the record's
own keys (CRM APIs leave empty fields out, so records of one export differ in their
keys), with the columns no field reads counted once per run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from stakeholder.crm._fields import FieldMap

__all__ = [
    "ColumnResolver",
    "Columns",
    "RecordDetails",
    "UnknownColumn",
    "cell",
    "joined",
]

Columns = dict[str, tuple[str, ...]]
"""For each field, the names (as written in the record) of its candidates present in
the record, in the field map's order."""


def cell(record: Mapping[str, str], names: tuple[str, ...]) -> str:
    """The text of the first of `names` with a value in `record` ("" when none has).

    The readers store values trimmed, so no trimming happens here."""
    for name in names:
        value = record.get(name)
        if value:
            return value
    return ""


def joined(record: Mapping[str, str], names: tuple[str, ...]) -> str:
    """Every non-empty value of `names` in `record`, joined with ``", "``."""
    return ", ".join(v for v in (record.get(n) for n in names) if v)


def _pairs(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), str(v)) for k, v in items))


@attrs.frozen
class RecordDetails:
    """What a CRM record says beyond what `Account` / `Contact` hold: the contact's
    `company` (as the CRM writes it), a `location` (city, state, country joined) and
    the `custom` fields the field map names (column name to text, empty ones left out).
    Kept on the read values (`CrmRecord.details`, `CrmSnapshot.details`); not stored."""

    company: str | None = None
    location: str | None = None
    custom: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)

    def __bool__(self) -> bool:
        return bool(self.company or self.location or self.custom)

    def get(self, name: str, default: str | None = None) -> str | None:
        """A custom field's text by column name (compared ignoring case)."""
        wanted = name.strip().casefold()
        return next((v for k, v in self.custom if k.casefold() == wanted), default)

    def to_dict(self) -> dict[str, Any]:
        return {"company": self.company, "location": self.location, "custom": dict(self.custom)}


@attrs.frozen(order=True)
class UnknownColumn:
    """A column no field of the field map reads: which export (`what`: ``account`` or
    ``contact``), its `name` and in how many `records` it held a value."""

    what: str
    name: str
    records: int

    def explain(self) -> str:
        return (
            f"unknown {self.what} column {self.name!r} in {self.records} record(s): not read "
            "(name it in the field map or its custom_fields to keep it)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "name": self.name, "records": self.records}


class ColumnResolver:
    """Resolves the columns of each record against a field map, remembering the result
    per set of keys (an export has few), and counts values in unknown columns."""

    __slots__ = ("_cache", "_fields", "_known", "_last", "_map", "_unknown", "_what")

    def __init__(
        self,
        field_map: FieldMap,
        fields: Sequence[str],
        what: str,
        *,
        also_known: Iterable[str] = (),
    ) -> None:
        self._map = field_map
        self._fields = (*fields, "custom_fields")
        self._known = field_map.known_columns() | {c.strip().casefold() for c in also_known}
        self._what = what
        self._cache: dict[tuple[str, ...], tuple[Columns, tuple[str, ...]]] = {}
        self._unknown: Counter[str] = Counter()
        self._last: tuple[Mapping[str, str], Columns, tuple[str, ...]] | None = None

    def _resolve(self, keys: tuple[str, ...]) -> tuple[Columns, tuple[str, ...]]:
        by_key: dict[str, str] = {}
        for name in sorted(keys):
            by_key.setdefault(name.strip().casefold(), name)
        columns: Columns = {}
        for field in self._fields:
            candidates: tuple[str, ...] = getattr(self._map, field)
            columns[field] = tuple(
                by_key[c.casefold()] for c in candidates if c.casefold() in by_key
            )
        unknown = tuple(k for k in keys if k.strip().casefold() not in self._known and k)
        return columns, unknown

    def columns(self, record: Mapping[str, str]) -> Columns:
        """The columns of `record`; counts its non-empty unknown columns."""
        last = self._last
        if last is not None and record.keys() == last[0].keys():  # the same key set
            _, columns, unknown = last
        else:
            keys = tuple(record)
            found = self._cache.get(keys)
            if found is None:
                found = self._cache[keys] = self._resolve(keys)
            columns, unknown = found
            self._last = (record, columns, unknown)
        for name in unknown:
            if record[name]:
                self._unknown[name] += 1
        return columns

    def of_header(self, header: Sequence[str]) -> tuple[Columns, tuple[tuple[int, str], ...]]:
        """The columns of records whose keys are `header` (distinct names, in order), for
        rows read as lists of cells, and the unknown columns' positions and names: the
        reader counts them with `seen`."""
        columns, unknown = self._resolve(tuple(header))
        return columns, tuple((header.index(name), name) for name in unknown)

    def seen(self, name: str) -> None:
        """Count a value in the unknown column `name` (of a row read as a list)."""
        self._unknown[name] += 1

    def unknown(self) -> tuple[UnknownColumn, ...]:
        """The unknown columns that held a value, once each (spellings differing only in
        case are one column, shown by the first spelling in sorted order)."""
        merged: dict[str, tuple[str, int]] = {}
        for name in sorted(self._unknown):
            key = name.strip().casefold()
            shown, count = merged.get(key, (name, 0))
            merged[key] = (shown, count + self._unknown[name])
        return tuple(
            sorted(UnknownColumn(self._what, shown, n) for shown, n in merged.values())
        )
