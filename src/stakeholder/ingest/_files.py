"""Opening input files: format by extension, optional gzip, strict UTF-8, and the
record streams (CSV rows, JSONL lines, JSON arrays) the readers share."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

import attrs

from stakeholder._errors import InputFileError
from stakeholder._model import Rejection

__all__ = ["ReadResult", "RecordFormat", "open_binary", "record_format", "records"]

T = TypeVar("T")

_GZIP_MAGIC = b"\x1f\x8b"


@attrs.frozen
class ReadResult(Generic[T]):
    """What a reader returns: the `items` it could build, in file order, and one
    `Rejection` (where = ``"file:line"``, reason, raw text, record id) per item it set
    aside. `len(items) + len(rejections)` is the number of records in the file."""

    items: tuple[T, ...]
    rejections: tuple[Rejection, ...]

    def explain(self) -> str:
        """One line per rejection after a count, for a person reading a log."""
        lines = [f"{len(self.items)} read, {len(self.rejections)} rejected"]
        lines.extend(f"  {r.where}: {r.reason}" for r in self.rejections)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Counts and rejections as plain data (items are left to their own encoders)."""
        return {
            "read": len(self.items),
            "rejected": len(self.rejections),
            "rejections": [r.to_dict() for r in self.rejections],
        }


RecordFormat = str  # "csv" | "jsonl" | "json"

_RECORD_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}


def split_suffix(path: Path) -> tuple[str, bool]:
    """The format suffix of `path` (lower-case) and whether it is gzipped."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] in (".gz", ".gzip")
    if gzipped:
        suffixes = suffixes[:-1]
    return (suffixes[-1] if suffixes else ""), gzipped


def record_format(path: str | os.PathLike[str]) -> tuple[Path, RecordFormat, bool]:
    """Check that `path` is a readable record file; its format and whether gzipped."""
    p = as_path(path)
    suffix, gzipped = split_suffix(p)
    fmt = _RECORD_SUFFIXES.get(suffix)
    if fmt is None:
        raise InputFileError(
            path,
            f"unknown extension {suffix or '(none)'!r}: expected .csv, .jsonl, .ndjson "
            "or .json (optionally .gz)",
        )
    check_readable(p)
    return p, fmt, gzipped


def as_path(path: object) -> Path:
    """`path` as a `Path`; `InputFileError` for what cannot be one (None, a number)."""
    if isinstance(path, (str, os.PathLike)):
        try:
            p = Path(path)
        except TypeError:
            pass
        else:
            if str(p) and "\x00" not in str(p) and str(path).strip():
                return p
    raise InputFileError(path, "not a file path")


def check_readable(p: Path) -> None:
    """Raise `InputFileError` unless `p` is an existing, readable regular file."""
    if not p.exists():
        raise InputFileError(p, "no such file")
    if p.is_dir():
        raise InputFileError(p, "is a directory, not a file")
    if not os.access(p, os.R_OK):
        raise InputFileError(p, "permission denied")


class _ClosingGzip(gzip.GzipFile):
    """A gzip reader that also closes the file under it."""

    def __init__(self, raw: io.BufferedIOBase) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def open_binary(p: Path, gzipped: bool) -> io.BufferedIOBase:
    """Open `p` for reading bytes, gunzipping when asked (or when it starts like gzip)."""
    try:
        raw = p.open("rb")
    except OSError as exc:
        raise InputFileError(p, exc.strerror or str(exc)) from exc
    if not gzipped:
        head = raw.read(2)
        raw.seek(0)
        gzipped = head == _GZIP_MAGIC
    if gzipped:
        return _ClosingGzip(raw)
    return raw


def text_lines(p: Path, gzipped: bool) -> Iterator[tuple[int, str]]:
    """(line number, line) pairs of a UTF-8 text file; BOM dropped, newlines kept.

    Raises `InputFileError` for bytes that are not UTF-8 or a corrupt gzip stream.
    """
    binary = open_binary(p, gzipped)
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    try:
        with binary:
            for number, chunk in enumerate(binary, start=1):
                try:
                    yield number, decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise InputFileError(p, f"not UTF-8 (line {number}: {exc.reason})") from exc
            decoder.decode(b"", final=True)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputFileError(p, f"corrupt gzip data: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(p, f"not UTF-8 at the end of the file: {exc.reason}") from exc
    except OSError as exc:
        if isinstance(exc, InputFileError):
            raise
        raise InputFileError(p, exc.strerror or str(exc)) from exc


@attrs.frozen
class RawRecord:
    """One record as read: where it is (``file:line``), its fields, or why it is unusable."""

    where: str
    fields: dict[str, Any] | None
    raw: str
    error: str | None = None


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[:limit]}...<{len(text)} chars>"


def _norm_header(name: str) -> str:
    return name.strip().lower()


def csv_records(p: Path, gzipped: bool, required: tuple[str, ...]) -> Iterator[RawRecord]:
    """Rows of a CSV file with a header row, keyed by lower-cased header names.

    Empty cells become `None`. Raises `InputFileError` when a required column is
    missing from the header."""
    binary: Any = open_binary(p, gzipped)  # typeshed wants a narrower buffer protocol
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(text, strict=True)
    try:
        with text:
            yield from _csv_rows(p, reader, required)
    except UnicodeDecodeError as exc:
        near = reader.line_num + 1
        raise InputFileError(p, f"not UTF-8 (near line {near}: {exc.reason})") from exc
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputFileError(p, f"corrupt gzip data: {exc}") from exc
    except OSError as exc:
        if isinstance(exc, InputFileError):
            raise
        raise InputFileError(p, exc.strerror or str(exc)) from exc


def csv_header(p: Path, reader: Any) -> list[str]:
    """The header row of the CSV file `p` read by the `csv.reader` `reader`;
    `InputFileError` when there is none or it cannot be read."""
    try:
        header: list[str] = next(reader)
    except StopIteration:
        raise InputFileError(p, "empty file: no header row") from None
    except csv.Error as exc:
        raise InputFileError(p, f"unreadable CSV header: {exc}") from exc
    return header


def csv_data_rows(p: Path, reader: Any) -> Iterator[tuple[str, list[str] | str]]:
    """The rows after the header of the CSV file `p` read by the `csv.reader` `reader`:
    (``file:line``, cells) for each row that is not blank, or (``file:line``, reason)
    for a row the `csv` module cannot read."""
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield f"{p}:{start}", f"unreadable CSV row: {exc}"
            start = reader.line_num + 1
            continue
        where = f"{p}:{start}"
        start = reader.line_num + 1
        if not row or all(not cell.strip() for cell in row):
            continue  # blank line
        yield where, row


def _csv_rows(p: Path, reader: Any, required: tuple[str, ...]) -> Iterator[RawRecord]:
    header = csv_header(p, reader)
    names = [_norm_header(h) for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise InputFileError(
            p,
            f"CSV header lacks required column(s) {', '.join(missing)}; "
            f"it has {_shorten(repr(header))}",
        )
    for where, row in csv_data_rows(p, reader):
        if isinstance(row, str):
            yield RawRecord(where, None, "", row)
            continue
        raw = ",".join(row)
        if len(row) > len(names):
            yield RawRecord(
                where, None, raw, f"row has {len(row)} cells but the header has {len(names)}"
            )
            continue
        fields: dict[str, Any] = {}
        for name, cell in zip(names, row, strict=False):
            value = cell.strip()
            if name and name not in fields:
                fields[name] = value or None
        yield RawRecord(where, fields, raw)


def _json_fields(value: object) -> dict[str, Any] | str:
    if not isinstance(value, dict):
        return f"expected a JSON object, got {type(value).__name__}"
    return {str(k).strip().lower(): _json_empty(v) for k, v in value.items()}


def _json_empty(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def jsonl_records(p: Path, gzipped: bool) -> Iterator[RawRecord]:
    """Objects of a JSON Lines file, one per non-blank line; keys lower-cased."""
    for number, line in text_lines(p, gzipped):
        text = line.strip()
        if not text:
            continue
        where = f"{p}:{number}"
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:
            yield RawRecord(where, None, text, f"invalid JSON: {exc}")
            continue
        fields = _json_fields(value)
        if isinstance(fields, str):
            yield RawRecord(where, None, text, fields)
        else:
            yield RawRecord(where, fields, text)


def json_array_records(p: Path, gzipped: bool) -> Iterator[RawRecord]:
    """Objects of a JSON file holding one array of objects; `where` is ``file:[index]``."""
    text = "".join(line for _, line in text_lines(p, gzipped))
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputFileError(p, f"invalid JSON: {exc}") from exc
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise InputFileError(p, f"expected a JSON array of objects, got {type(value).__name__}")
    for index, item in enumerate(value):
        where = f"{p}:[{index}]"
        fields = _json_fields(item)
        raw = json.dumps(item, ensure_ascii=False, default=str)
        if isinstance(fields, str):
            yield RawRecord(where, None, raw, fields)
        else:
            yield RawRecord(where, fields, raw)


def records(
    path: str | os.PathLike[str], required: tuple[str, ...]
) -> Iterator[RawRecord]:
    """Records of a CSV / JSONL / JSON file (format by extension). The file is checked
    before the first record is produced, so `InputFileError` comes on the first `next`."""
    p, fmt, gzipped = record_format(path)
    if fmt == "csv":
        return csv_records(p, gzipped, required)
    if fmt == "jsonl":
        return jsonl_records(p, gzipped)
    return json_array_records(p, gzipped)


def drain(
    stream: Iterator[RawRecord], build: Callable[[RawRecord], T | Rejection]
) -> ReadResult[T]:
    """Run `build` over every record; split into items and rejections."""
    items: list[T] = []
    rejections: list[Rejection] = []
    for record in stream:
        if record.fields is None:
            rejections.append(Rejection.of(record.where, record.error or "unusable", record.raw))
            continue
        result = build(record)
        if isinstance(result, Rejection):
            rejections.append(result)
        else:
            items.append(result)
    return ReadResult(tuple(items), tuple(rejections))


def read_text_file(p: Path, gzipped: bool) -> str:
    """The whole file as text (UTF-8, BOM dropped)."""
    buffer = io.StringIO()
    for _, line in text_lines(p, gzipped):
        buffer.write(line)
    return buffer.getvalue()
