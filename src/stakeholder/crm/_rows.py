"""Rows of a CRM export: CSV files to (where, fields) pairs, in-memory records numbered,
rows by id with duplicates decided, and the helpers the account and contact readers
share (raw text, column labels, rejection order)."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from stakeholder._errors import (
    InputFileError,
)
from stakeholder._model import Rejection
from stakeholder.crm._columns import (
    ColumnResolver,
    Columns,
    RecordDetails,
    cell,
)
from stakeholder.crm._fields import FieldMap
from stakeholder.ingest._files import csv_header

Rows = Iterator[tuple[str, dict[str, str] | str]]
ListRows = Iterator[tuple[str, dict[str, str] | list[str] | str]]


def _csv_rows(path: str | os.PathLike[str]) -> tuple[list[str], Rows]:
    """The header of a CSV file and an iterator of (where, row or error) pairs.

    Cells are trimmed; a row with more cells than the header is an error, one with fewer
    has the missing cells empty. UTF-8 (a byte-order mark is dropped) only."""
    header, rows = _csv_table(path, lists=False)
    return header, rows  # type: ignore[return-value]  # no lists without `lists`


def _csv_table(path: str | os.PathLike[str], *, lists: bool) -> tuple[list[str], ListRows]:
    """`_csv_rows`; with `lists`, a full row under a header of distinct, non-empty names
    comes as the list of its trimmed cells (in header order) instead of a dict."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "no such file")
    if p.is_dir():
        raise InputFileError(p, "is a directory, not a file")
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            p, f"not UTF-8 ({exc.reason} at byte {exc.start}); export as CSV UTF-8"
        ) from exc
    except OSError as exc:
        raise InputFileError(p, exc.strerror or str(exc)) from exc
    if "\x00" in text:
        raise InputFileError(p, "contains NUL bytes: not a CSV text file")
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines, strict=True)
    header = [h.strip() for h in csv_header(p, reader)]
    if not any(header):
        raise InputFileError(p, "the header row is empty")

    width = len(header)
    plain = all(header) and len(set(header)) == width  # no empty or repeated names
    strip = str.strip

    def rows() -> ListRows:
        # `ingest`'s `csv_data_rows` (the same rows, places and reasons: blank lines
        # skipped, an unreadable row reported), in this one generator: it is the hot loop
        name = str(p)
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield f"{name}:{start}", f"unreadable CSV row: {exc}"
                start = reader.line_num + 1
                continue
            where = f"{name}:{start}"
            start = reader.line_num + 1
            if not "".join(row).strip():
                continue  # blank line
            if len(row) > width:
                yield where, f"the row has {len(row)} cells but the header has {width}"
                continue
            if plain and len(row) == width:
                if lists:
                    yield where, list(map(strip, row))
                else:
                    yield where, dict(zip(header, map(strip, row), strict=False))
                continue
            fields: dict[str, str] = {}
            for column, value in zip(header, row, strict=False):
                if column and column not in fields:
                    fields[column] = value.strip()
            yield where, fields

    return header, rows()


def _require(
    path: object, header: Sequence[str], field_map: FieldMap, fields: Iterable[str]
) -> None:
    present = {h.strip().casefold() for h in header}
    missing = [
        f for f in fields if not any(c.casefold() in present for c in getattr(field_map, f))
    ]
    if missing:
        wanted = "; ".join(
            f"{f} ({' or '.join(repr(c) for c in getattr(field_map, f))})" for f in missing
        )
        raise InputFileError(
            path, f"the header lacks required column(s) {wanted}; it has {list(header)!r}"
        )


def _raw_text(fields: Mapping[str, str]) -> str:
    return ",".join(fields.values())


def _label(columns: Columns, field_map: FieldMap, field: str) -> str:
    """The column a message names for `field`: the one present, else the map's first."""
    names = columns.get(field) or getattr(field_map, field)
    return repr(names[0]) if names else field


def _duplicates(
    rows: Iterable[tuple[str, str, Mapping[str, str], Any]], what: str
) -> tuple[dict[str, tuple[str, Mapping[str, str], Any]], list[Rejection]]:
    """Rows by id: identical repeats keep one (the others rejected as repeats); ids with
    differing rows are rejected altogether, whatever the order of the rows."""
    first: dict[str, tuple[str, Mapping[str, str], Any]] = {}
    repeated: dict[str, list[tuple[str, Mapping[str, str], Any]]] = {}
    for record_id, where, fields, built in rows:
        entry = (where, fields, built)
        if record_id in first:
            repeated.setdefault(record_id, [first[record_id]]).append(entry)
        else:
            first[record_id] = entry
    kept = {k: v for k, v in first.items() if k not in repeated} if repeated else first
    rejections: list[Rejection] = []
    for record_id, group in repeated.items():
        wheres = ", ".join(w for w, _, _ in group)
        contents = {tuple(sorted((k, v) for k, v in f.items() if v)) for _, f, _ in group}
        if len(contents) == 1:
            earliest = min(group, key=lambda g: _line_key(g[0]))
            kept[record_id] = earliest
            rejections.extend(
                Rejection.of(
                    where,
                    f"duplicate {what} id {record_id!r}: the same row as {earliest[0]}",
                    _raw_text(fields),
                    record_id,
                )
                for where, fields, _ in group
                if where != earliest[0]
            )
        else:
            rejections.extend(
                Rejection.of(
                    where,
                    f"duplicate {what} id {record_id!r} with differing rows ({wheres}): "
                    "none of them is taken",
                    _raw_text(fields),
                    record_id,
                )
                for where, fields, _ in group
            )
    return kept, rejections


def _rows_by_id(
    rows: Iterable[tuple[str, dict[str, str] | str]],
    field_map: FieldMap,
    resolver: ColumnResolver,
    what: str,
) -> tuple[dict[str, tuple[str, Mapping[str, str], Columns]], list[Rejection]]:
    """The first pass over the rows of an export of `what` ("account" or "contact"):
    the rows by id (`_duplicates`), each with its own columns (resolved from its own
    keys by `resolver`, which counts unknown columns), and the rows rejected so far
    (unreadable, no id, duplicate id)."""
    id_field = f"{what}_id"
    rejections: list[Rejection] = []
    parsed: list[tuple[str, str, Mapping[str, str], Columns]] = []
    columns_of = resolver.columns
    record_id = field_map.record_id
    for where, row in rows:
        if isinstance(row, str):
            rejections.append(Rejection.of(where, row))
            continue
        columns = columns_of(row)
        raw_id = cell(row, columns[id_field])
        if not raw_id:
            rejections.append(
                Rejection.of(
                    where,
                    f"missing {what} id ({_label(columns, field_map, id_field)} is empty)",
                    _raw_text(row),
                )
            )
            continue
        parsed.append((record_id(raw_id), where, row, columns))
    kept, duplicate_rejections = _duplicates(parsed, what)
    rejections.extend(duplicate_rejections)
    return kept, rejections


def _line_key(where: str) -> tuple[str, int]:
    head, _, tail = where.rpartition(":")
    return (head, int(tail)) if tail.isdigit() else (where, 0)


def _numbered(
    records: Iterable[tuple[str, Mapping[str, object]] | Mapping[str, object]], source: str
) -> Iterator[tuple[str, dict[str, str] | str]]:
    items: Iterable[object] = records
    for index, item in enumerate(items, start=1):
        mapping: object
        if isinstance(item, tuple) and len(item) == 2:
            where, mapping = str(item[0]), item[1]
        else:
            where, mapping = f"{source}:{index}", item
        if not isinstance(mapping, Mapping):
            yield where, f"expected a mapping of field names, got {type(mapping).__name__}"
            continue
        yield where, {
            str(k).strip(): ("" if v is None else str(v).strip()) for k, v in mapping.items()
        }


_NO_DETAILS: Final = RecordDetails()


def _custom(fields: Mapping[str, str], columns: Columns) -> tuple[tuple[str, str], ...]:
    """The custom fields with a value, by the name the field map gives them."""
    names = columns["custom_fields"]
    return tuple((name, fields[name]) for name in names if fields.get(name))


def _rejection_key(r: Rejection) -> tuple[str, str, tuple[str, int], str]:
    return (r.record_id or "", r.reason, _line_key(r.where), r.raw)
