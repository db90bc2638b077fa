"""Opening input files: format by extension, optional gzip, strict UTF-8, and the
record streams (CSV rows, JSONL lines, JSON arrays) the readers share."""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import json
import lzma
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

import attrs

from stakeholder._errors import InputFileError
from stakeholder._model import Rejection
from stakeholder._progress import Progress, ProgressTicker

__all__ = [
    "DEFAULT_MAX_FIELD_BYTES",
    "DEFAULT_MAX_RECORD_BYTES",
    "DUPLICATE",
    "Duplicate",
    "FileCount",
    "FileNote",
    "ReadLimits",
    "ReadResult",
    "RecordFormat",
    "open_binary",
    "record_format",
    "records",
]

T = TypeVar("T")

DEFAULT_MAX_RECORD_BYTES = 16 << 20
"""A record (a CSV or JSON Lines line, a JSON array item, a message header block, an
iCalendar event) longer than this many bytes is rejected: 16 MiB."""
DEFAULT_MAX_FIELD_BYTES = 1 << 20
"""A field (a CSV cell, a JSON string, a mail header field) longer than this is
rejected: 1 MiB."""


def _at_least_one(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{attribute.name} must be a positive integer, got {value!r}")


@attrs.frozen
class ReadLimits:
    """How big one input record and one field may be (bytes; see
    `DEFAULT_MAX_RECORD_BYTES` and `DEFAULT_MAX_FIELD_BYTES`). Readers never hold more
    than about one record in memory, so these also bound a reader's memory."""

    max_record_bytes: int = attrs.field(default=DEFAULT_MAX_RECORD_BYTES, validator=_at_least_one)
    max_field_bytes: int = attrs.field(default=DEFAULT_MAX_FIELD_BYTES, validator=_at_least_one)


@attrs.frozen
class FileCount:
    """What one input file held: items `read`, `duplicates` (a repeated id; the first is
    kept) and `rejected`, in its `format`; `present` is their sum. `note` says what is
    wrong with the file as a whole when something is (a missing ``END:VCALENDAR``)."""

    path: str
    format: str
    read: int = 0
    duplicates: int = 0
    rejected: int = 0
    note: str | None = None

    @property
    def present(self) -> int:
        """Items found in the file: read + duplicates + rejected."""
        return self.read + self.duplicates + self.rejected


DUPLICATE = "duplicate of an earlier message"


class FileNote(str):
    """A remark about an input file as a whole, not an item (a calendar without
    END:VCALENDAR, body lines of an mbox that look like message starts); it ends up in
    that file's `FileCount.note`."""

    __slots__ = ()


@attrs.frozen
class Duplicate(Rejection):
    """An item set aside because an earlier item had the same id (the first is kept):
    a `Rejection` whose reason is ``"duplicate of an earlier message"`` and whose
    `record_id` is the repeated id. Counted apart from rejections."""


@attrs.frozen(repr=False)
class ReadResult(Generic[T]):
    """What a reader returns: the `items` it could build, in file order, one `Rejection`
    (where = ``"file:line"``, reason, raw text, record id) per item it set aside, the
    `duplicates` (rejections of items repeating an earlier id; the first is kept), and
    per input file a `FileCount` (mail readers). `len(items) + len(duplicates) +
    len(rejections)` is the number of records (messages) present."""

    items: tuple[T, ...]
    rejections: tuple[Rejection, ...]
    duplicates: tuple[Rejection, ...] = ()
    files: tuple[FileCount, ...] = ()

    def __repr__(self) -> str:
        return (
            f"ReadResult(items={len(self.items)}, duplicates={len(self.duplicates)}, "
            f"rejections={len(self.rejections)}, files={len(self.files)})"
        )

    @property
    def present(self) -> int:
        """Items found: read + duplicates + rejected."""
        return len(self.items) + len(self.duplicates) + len(self.rejections)

    def explain(self) -> str:
        """One line per rejection after a count, for a person reading a log."""
        head = f"{len(self.items)} read, {len(self.rejections)} rejected"
        if self.duplicates:
            head += f", {len(self.duplicates)} duplicates"
        lines = [head]
        lines.extend(f"  {r.where}: {r.reason}" for r in (*self.rejections, *self.duplicates))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Counts and rejections as plain data (items are left to their own encoders)."""
        out: dict[str, Any] = {
            "read": len(self.items),
            "rejected": len(self.rejections),
            "rejections": [r.to_dict() for r in self.rejections],
        }
        if self.duplicates:
            out["duplicates"] = len(self.duplicates)
            out["duplicate_items"] = [r.to_dict() for r in self.duplicates]
        if self.files:
            out["files"] = [attrs.asdict(f) for f in self.files]
        return out


RecordFormat = str  # "csv" | "jsonl" | "json"

_RECORD_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}


_COMPRESSED = (".gz", ".gzip", ".bz2", ".xz")


def split_suffix(path: Path) -> tuple[str, bool]:
    """The format suffix of `path` (lower-case) and whether it is compressed (``.gz``,
    ``.bz2``, ``.xz``)."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] in _COMPRESSED
    if gzipped:
        suffixes = suffixes[:-1]
    return (suffixes[-1] if suffixes else ""), gzipped


def record_format(path: str | os.PathLike[str]) -> tuple[Path, RecordFormat, bool]:
    """Check that `path` is a readable record file; its format and whether gzipped."""
    p = as_path(path)
    check_readable(p)
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
    """Raise `InputFileError` unless `p` is an existing, readable regular file (a device
    such as ``/dev/zero``, a FIFO or a socket never ends or cannot be read again: it is
    refused)."""
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise InputFileError(p, "no such file") from None
    except OSError as exc:
        raise InputFileError(p, exc.strerror or str(exc)) from exc
    if stat.S_ISDIR(mode):
        raise InputFileError(p, "is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise InputFileError(p, f"not a regular file ({file_kind(mode)}): refused")
    if not os.access(p, os.R_OK):
        raise InputFileError(p, "permission denied")


def file_kind(mode: int) -> str:
    """Words for what a non-regular file is."""
    for test, words in (
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return words
    return "not a regular file"


CORRUPT = (EOFError, OSError, zlib.error, lzma.LZMAError)
"""What reading a damaged compressed stream raises."""


def compression(head: bytes) -> str | None:
    """``gzip``, ``bzip2`` or ``xz`` when `head` (a file's first bytes) starts like one."""
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] == b"1AY&SY":
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    return None


def open_binary(p: Path, gzipped: bool = False) -> io.BufferedIOBase:
    """Open `p` for reading bytes, decompressing gzip, bzip2 and xz (found by their
    first bytes, whatever the name; `gzipped` is kept for callers that know)."""
    del gzipped  # the bytes decide
    try:
        raw = p.open("rb")
        head = raw.read(10)
        raw.seek(0)
    except OSError as exc:
        raise InputFileError(p, exc.strerror or str(exc)) from exc
    kind = compression(head)
    if kind is None:
        return raw
    raw.close()
    try:  # the decompressor opens the path itself, so closing it closes the file
        if kind == "gzip":
            return gzip.GzipFile(p, mode="rb")
        if kind == "bzip2":
            return bz2.BZ2File(p, mode="rb")
        return lzma.LZMAFile(p, mode="rb")
    except OSError as exc:
        raise InputFileError(p, exc.strerror or str(exc)) from exc


def text_lines(
    p: Path, gzipped: bool, limit: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[tuple[int, str | None]]:
    """(line number, line) pairs of a UTF-8 text file; BOM dropped, newlines kept. A
    line longer than `limit` bytes comes as `None` (it is skipped, never held whole).

    Raises `InputFileError` for bytes that are not UTF-8 or a corrupt compressed stream.
    """
    from stakeholder.ingest._mbox import read_lines  # noqa: PLC0415 - one line reader

    binary = open_binary(p, gzipped)
    try:
        with binary:
            for number, chunk in enumerate(read_lines(binary.readline, limit), start=1):
                if len(chunk) >= limit and not chunk.endswith(b"\n"):
                    yield number, None
                    continue
                try:
                    text = chunk.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InputFileError(p, f"not UTF-8 (line {number}: {exc.reason})") from exc
                yield number, (text.removeprefix("\ufeff") if number == 1 else text)
    except CORRUPT as exc:
        raise read_error(p, exc) from exc


def read_error(p: Path, exc: BaseException) -> InputFileError:
    """The `InputFileError` for an exception raised while reading `p`."""
    if isinstance(exc, InputFileError):
        return exc
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, gzip.BadGzipFile):
        return InputFileError(p, exc.strerror)
    return InputFileError(p, f"corrupt gzip, bzip2 or xz data: {exc}")


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


def csv_records(
    p: Path, gzipped: bool, required: tuple[str, ...], limits: ReadLimits | None = None
) -> Iterator[RawRecord]:
    """Rows of a CSV file with a header row, keyed by lower-cased header names.

    Empty cells become `None`. A line over ``limits.max_record_bytes`` or a cell over
    ``limits.max_field_bytes`` makes a rejected row. Raises `InputFileError` when a
    required column is missing from the header."""
    limits = limits or ReadLimits()
    _check_utf8_head(p, gzipped)
    overlong: list[int] = []
    reader = csv.reader(_csv_lines(p, gzipped, limits.max_record_bytes, overlong), strict=True)
    yield from _csv_rows(p, reader, required, overlong, limits)


def _csv_lines(p: Path, gzipped: bool, limit: int, overlong: list[int]) -> Iterator[str]:
    """The lines of a UTF-8 file for `csv.reader` (one generator: this is the hot loop).
    A line over `limit` bytes is skipped a piece at a time, its number added to
    `overlong`, and a blank line given in its place."""
    piece = min(limit, 1 << 20)
    binary = open_binary(p, gzipped)
    try:
        with binary:
            readline = binary.readline
            number = 0
            while line := readline(limit):
                number += 1
                if len(line) >= limit and line[-1:] != b"\n":
                    del line  # never held while the rest is skipped
                    while (rest := readline(piece)) and not rest.endswith(b"\n"):
                        pass
                    overlong.append(number)
                    yield "\n"
                    continue
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InputFileError(p, f"not UTF-8 (line {number}: {exc.reason})") from exc
                yield text if number > 1 else text.removeprefix("\ufeff")
    except CORRUPT as exc:
        raise read_error(p, exc) from exc


def _check_utf8_head(p: Path, gzipped: bool) -> None:
    """`InputFileError` before any row when the file's first 64 KiB are not UTF-8."""
    try:
        with open_binary(p, gzipped) as binary:
            head = binary.read(_CHUNK)
    except CORRUPT as exc:
        raise read_error(p, exc) from exc
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut by the 64 KiB
            line = head.count(b"\n", 0, exc.start) + 1
            raise InputFileError(p, f"not UTF-8 (line {line}: {exc.reason})") from exc


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


def _csv_rows(
    p: Path, reader: Any, required: tuple[str, ...], overlong: list[int], limits: ReadLimits
) -> Iterator[RawRecord]:
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
        yield from _overlong_rows(p, overlong)
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
        too_big = None
        if len(raw) > limits.max_field_bytes // 4:  # else no field can be over the limit
            too_big = oversized_field(fields, limits.max_field_bytes)
        yield RawRecord(where, None if too_big else fields, raw, too_big)
    yield from _overlong_rows(p, overlong)


def _overlong_rows(p: Path, overlong: list[int]) -> Iterator[RawRecord]:
    while overlong:
        number = overlong.pop(0)
        yield RawRecord(f"{p}:{number}", None, "", OVERLONG_LINE)


OVERLONG_LINE = "line longer than max_record_bytes: not read (raise ReadLimits.max_record_bytes)"


def oversized_field(
    fields: dict[str, Any], limit: int, whole: frozenset[str] = frozenset()
) -> str | None:
    """The reason a record is refused when one of its text fields is over `limit` bytes
    (fields named in `whole`, such as a raw message, are bounded by the record limit
    alone)."""
    for name, value in fields.items():
        if name in whole:
            continue
        if isinstance(value, str) and len(value) > limit // 4 and len(value.encode()) > limit:
            return (
                f"field {name!r} is {len(value.encode()):,} bytes, over max_field_bytes "
                f"({limit:,})"
            )
    return None


def _json_fields(value: object) -> dict[str, Any] | str:
    if not isinstance(value, dict):
        return f"expected a JSON object, got {type(value).__name__}"
    return {str(k).strip().lower(): _json_empty(v) for k, v in value.items()}


def _json_empty(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def jsonl_records(
    p: Path, gzipped: bool, limits: ReadLimits | None = None, whole: frozenset[str] = frozenset()
) -> Iterator[RawRecord]:
    """Objects of a JSON Lines file, one per non-blank line; keys lower-cased. A line
    over ``limits.max_record_bytes`` or a string over ``limits.max_field_bytes`` is a
    rejected record."""
    limits = limits or ReadLimits()
    for number, line in text_lines(p, gzipped, limits.max_record_bytes):
        where = f"{p}:{number}"
        if line is None:
            yield RawRecord(where, None, "", OVERLONG_LINE)
            continue
        text = line.strip()
        if text:
            yield _json_record(where, text, None, limits, whole)


def _json_record(
    where: str, text: str, value: object, limits: ReadLimits, whole: frozenset[str]
) -> RawRecord:
    if value is None:
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:
            return RawRecord(where, None, text, f"invalid JSON: {exc}")
    fields = _json_fields(value)
    if isinstance(fields, str):
        return RawRecord(where, None, text, fields)
    too_big = None
    if len(text) > limits.max_field_bytes // 6:  # else no field can be over the limit
        too_big = oversized_field(fields, limits.max_field_bytes, whole)
    return RawRecord(where, None if too_big else fields, text, too_big)


_CHUNK = 1 << 16
_JSON = json.JSONDecoder()


def json_array_records(
    p: Path, gzipped: bool, limits: ReadLimits | None = None, whole: frozenset[str] = frozenset()
) -> Iterator[RawRecord]:
    """Objects of a JSON file holding one array of objects (or one object), read one
    item at a time; `where` is ``file:[index]``. An item that is cut off (a truncated
    file) or over ``limits.max_record_bytes`` is a rejection, and reading stops there
    (a JSON array cannot be resumed after a bad item)."""
    limits = limits or ReadLimits()
    chars = _json_chars(p, gzipped)
    buffer, position = _json_fill("", 0, chars)
    if position >= len(buffer):
        raise InputFileError(p, "invalid JSON: the file is empty")
    single = buffer[position] == "{"
    if not single:
        if buffer[position] != "[":
            raise InputFileError(p, "expected a JSON array of objects")
        position += 1
    index = 0
    while True:
        buffer, position = _json_fill(buffer, position, chars)
        if position >= len(buffer):
            return  # cut between two items: no item is lost
        if buffer[position] == "]" and not single:
            return
        where = f"{p}:[{index}]"
        found = _json_item(buffer, position, chars, limits.max_record_bytes)
        if isinstance(found, str):
            if index == 0 and found.startswith("invalid JSON"):
                raise InputFileError(p, found)  # not JSON at all
            yield RawRecord(where, None, buffer[position : position + 200], found)
            return
        value, buffer, position = found
        text = json.dumps(value, ensure_ascii=False, default=str)
        yield _json_record(where, text, value if value is not None else {}, limits, whole)
        index += 1
        if single:
            return
        buffer, position = _json_fill(buffer, position, chars)
        if position < len(buffer) and buffer[position] == ",":
            position += 1
        elif position < len(buffer) and buffer[position] != "]":
            bad = buffer[position : position + 40]
            reason = f"invalid JSON: expected ',' or ']' at {bad!r}"
            yield RawRecord(f"{p}:[{index}]", None, bad, reason)
            return


def _json_chars(p: Path, gzipped: bool) -> Iterator[str]:
    """The text of a UTF-8 file in pieces of about `_CHUNK` characters."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    try:
        with open_binary(p, gzipped) as binary:
            while block := binary.read(_CHUNK):
                yield decoder.decode(block)
            yield decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise InputFileError(p, f"not UTF-8: {exc.reason}") from exc
    except CORRUPT as exc:
        raise read_error(p, exc) from exc


def _json_fill(buffer: str, position: int, chars: Iterator[str]) -> tuple[str, int]:
    """Drop what was read, skip white space, read on until a character is in sight."""
    buffer = buffer[position:].lstrip()
    while not buffer:
        more = next(chars, None)
        if more is None:
            return "", 0
        buffer = more.lstrip()
    return buffer, 0


def _json_item(
    buffer: str, position: int, chars: Iterator[str], limit: int
) -> tuple[Any, str, int] | str:
    """The JSON value at `position`, reading more text as needed; a reason when it is
    cut off, invalid or over `limit` characters."""
    while True:
        try:
            value, end = _JSON.raw_decode(buffer, position)
        except (ValueError, RecursionError) as exc:
            if len(buffer) - position > limit:
                return f"item over max_record_bytes ({limit:,}): not read, nor anything after it"
            more = _more(chars, max(_CHUNK, len(buffer) - position))
            if not more:
                at_end = getattr(exc, "pos", 0) >= len(buffer.rstrip())
                if at_end or str(exc).startswith("Unterminated string"):
                    return "cut off: the file ends inside this item"
                return f"invalid JSON: {exc}"
            buffer = buffer[position:] + more
            position = 0
            continue
        return value, buffer, end


def _more(chars: Iterator[str], wanted: int) -> str:
    """About `wanted` more characters (fewer at the end of the file)."""
    pieces: list[str] = []
    got = 0
    while got < wanted and (piece := next(chars, None)) is not None:
        pieces.append(piece)
        got += len(piece)
    return "".join(pieces)


def records(
    path: str | os.PathLike[str], required: tuple[str, ...], limits: ReadLimits | None = None
) -> Iterator[RawRecord]:
    """Records of a CSV / JSONL / JSON file (format by extension). The file is checked
    before the first record is produced, so `InputFileError` comes on the first `next`."""
    p, fmt, gzipped = record_format(path)
    if fmt == "csv":
        return csv_records(p, gzipped, required, limits)
    if fmt == "jsonl":
        return jsonl_records(p, gzipped, limits)
    return json_array_records(p, gzipped, limits)


def drain(
    stream: Iterator[RawRecord],
    build: Callable[[RawRecord], T | Rejection],
    progress: Progress | None = None,
) -> ReadResult[T]:
    """Run `build` over every record; split into items and rejections. `progress` is
    called every 1,000 records and at the end."""
    items: list[T] = []
    rejections: list[Rejection] = []
    ticker = ProgressTicker(progress)
    for record in stream:
        ticker.advance()
        if record.fields is None:
            rejections.append(Rejection.of(record.where, record.error or "unusable", record.raw))
            continue
        result = build(record)
        if isinstance(result, Rejection):
            rejections.append(result)
        else:
            items.append(result)
    ticker.close()
    return ReadResult(tuple(items), tuple(rejections))
