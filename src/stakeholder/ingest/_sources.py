"""Mail files and folders: which format each file is (extension, content sniffing or the
caller's choice), how each is read one message at a time, duplicates, per-file counts.

Formats: ``mbox`` (mboxo/mboxrd, pipermail ``.txt``), ``eml`` (one RFC 822 message per
file), ``maildir`` (a folder with ``cur/`` and ``new/``), ``json`` (an array of
objects), ``jsonl``, ``ics`` and ``listserv`` (LISTSERV notebook logs); any file may be
gzip, bzip2 or xz compressed.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
from array import array
from collections.abc import Iterator
from pathlib import Path

from stakeholder._errors import InputFileError, MissingDependency
from stakeholder._model import Communication, Rejection
from stakeholder._progress import Progress, ProgressTicker
from stakeholder.ingest._calendar import calendar_items, require_icalendar
from stakeholder.ingest._files import (
    CORRUPT,
    DUPLICATE,
    Duplicate,
    FileCount,
    FileNote,
    ReadLimits,
    ReadResult,
    as_path,
    check_readable,
    file_kind,
    json_array_records,
    jsonl_records,
    open_binary,
    read_error,
    split_suffix,
)
from stakeholder.ingest._mail import RAW_KEYS, Item, dict_item, message_item
from stakeholder.ingest._mbox import MboxPart, is_envelope, read_lines, split_mbox

__all__ = [
    "FORMATS",
    "is_maildir",
    "iter_communications",
    "mail_format",
    "read_communications",
    "sniff",
]

FORMATS = ("eml", "ics", "json", "jsonl", "listserv", "maildir", "mbox")
"""The names `format=` (and ``--format``) accept."""

Located = tuple[str, Item | FileNote]  # (where, item)
_SEPARATOR_LISTSERV = re.compile(rb"^={73}\r?\n?$")
_LISTSERV_SUFFIX = re.compile(r"\.log\d{4}[a-z]?$", re.IGNORECASE)
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_BY_EXTENSION = {
    ".mbox": "mbox",
    ".mbx": "mbox",
    ".eml": "eml",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".ics": "ics",
    ".ical": "ics",
}


def mail_format(p: Path) -> str | None:
    """The format of a mail file by its name (compression suffixes skipped), or `None`
    when the name does not say (no extension, ``.txt``, anything else)."""
    suffix, _ = split_suffix(p)
    if _LISTSERV_SUFFIX.search(re.sub(r"\.(gz|gzip|bz2|xz)$", "", p.name, flags=re.I)):
        return "listserv"
    return _BY_EXTENSION.get(suffix)


def sniff(p: Path) -> str | None:
    """The format of a file by its first non-blank line (after decompression): an mbox
    envelope line, a LISTSERV separator, ``BEGIN:VCALENDAR``, ``[`` / ``{`` (JSON), or a
    header field (one RFC 822 message); `None` for anything else."""
    try:
        with open_binary(p) as stream:
            head = stream.read(8192)
    except (InputFileError, *CORRUPT):
        return None
    for line in head.splitlines(keepends=True):
        if not line.strip():
            continue
        if line.startswith(b"From ") and is_envelope(line.rstrip(b"\r\n") + b"\n"):
            return "mbox"
        if _SEPARATOR_LISTSERV.match(line):
            return "listserv"
        if line.strip().upper() == b"BEGIN:VCALENDAR":
            return "ics"
        if line.lstrip().startswith(b"["):
            return "json"
        if line.lstrip().startswith(b"{"):
            return "jsonl"
        if _HEADER_LINE.match(line):
            return "eml"
        return None
    return None


# --------------------------------------------------------------------------- one file


def _mbox_items(p: Path, limits: ReadLimits) -> Iterator[Located]:
    """The messages of an mbox (see `split_mbox`); `where` is the envelope's line."""
    with open_binary(p) as stream:
        _check_mbox_start(p, stream)
        failure: list[BaseException] = []
        lines = read_lines(stream.readline, limits.max_record_bytes, failure, CORRUPT)
        previous = None
        body_froms = [0]
        parts = split_mbox(lines, max_record_bytes=limits.max_record_bytes, body_froms=body_froms)
        for part in parts:
            if previous is not None:
                yield _part_item(p, previous, limits)
            previous = part
    if body_froms[0]:
        yield str(p), FileNote(
            f"{body_froms[0]} line(s) starting 'From ' read as body text, not as message "
            "starts (the stdlib mailbox module splits there)"
        )
    if failure and previous is None:
        raise read_error(p, failure[0])
    if previous is None:
        return
    if failure:
        where = f"{p}:{previous.line or 1}"
        reason = f"cut off: the file ends early ({read_error(p, failure[0]).reason})"
        yield where, Rejection.of(where, reason, _text(previous.data))
    else:
        yield _part_item(p, previous, limits)


def _check_mbox_start(p: Path, stream: io.BufferedIOBase) -> None:
    try:
        head = stream.read(65536)
        stream.seek(0)
    except CORRUPT as exc:
        raise read_error(p, exc) from exc
    for line in head.splitlines():
        if line.strip():
            if not line.startswith(b"From "):
                raise InputFileError(p, "not an mbox: the first line does not start with 'From '")
            return


def _text(data: bytes) -> str:
    return data[:400].decode("utf-8", "replace")


def _part_item(p: Path, part: MboxPart, limits: ReadLimits) -> Located:
    line, data, cut = part.line, part.data, part.cut
    if not line:
        where = f"{p}:1"
        reason = "text before the first 'From ' line is not a message"
        return where, Rejection.of(where, reason, data.decode("utf-8", "replace"))
    where = f"{p}:{line}"
    return where, message_item(data, where, limits, cut=cut)


def _listserv_items(p: Path, limits: ReadLimits) -> Iterator[Located]:
    """LISTSERV notebook logs: messages separated by a line of 73 ``=``."""
    limit = limits.max_record_bytes
    with open_binary(p) as stream:
        lines: list[bytes] = []
        size, start, cut = 0, 0, False
        failure: list[BaseException] = []
        source = read_lines(stream.readline, limit, failure, CORRUPT)
        for number, line in enumerate(source, start=1):
            if _SEPARATOR_LISTSERV.match(line):
                if start:
                    where = f"{p}:{start}"
                    yield where, message_item(b"".join(lines), where, limits, cut=cut)
                elif any(x.strip() for x in lines):
                    where = f"{p}:1"
                    reason = "text before the first separator is not a message"
                    yield where, Rejection.of(where, reason, _text(b"".join(lines)))
                start, lines, size, cut = number, [], 0, False
            elif size + len(line) < limit:
                lines.append(line)
                size += len(line)
            else:
                cut = True
    if failure and not start:
        raise read_error(p, failure[0])
    if start:
        where = f"{p}:{start}"
        if failure:
            reason = f"cut off: the file ends early ({read_error(p, failure[0]).reason})"
            yield where, Rejection.of(where, reason, _text(b"".join(lines)))
        else:
            yield where, message_item(b"".join(lines), where, limits, cut=cut)
    elif any(x.strip() for x in lines):
        raise InputFileError(p, "not a LISTSERV log: no separator line of 73 '='")


def _eml_items(p: Path, limits: ReadLimits) -> Iterator[Located]:
    """One message per file; bytes past ``max_record_bytes`` are not read."""
    try:
        with open_binary(p) as stream:
            data = stream.read(limits.max_record_bytes)
            cut = bool(stream.read(1))
    except CORRUPT as exc:
        raise read_error(p, exc) from exc
    where = f"{p}:1"
    if not data.strip():
        yield where, Rejection.of(where, "empty message file")
        return
    yield where, message_item(data, where, limits, cut=cut)


def _json_items(p: Path, fmt: str, limits: ReadLimits) -> Iterator[Located]:
    if fmt == "jsonl":  # a raw message is one record, bounded by max_record_bytes
        source = jsonl_records(p, False, limits, RAW_KEYS)
    else:
        source = json_array_records(p, False, limits, RAW_KEYS)
    for record in source:
        if record.fields is None:
            reason = record.error or "unusable record"
            yield record.where, Rejection.of(record.where, reason, record.raw)
        else:
            yield record.where, dict_item(record.fields, record.where, record.raw, limits)


def _file_items(p: Path, fmt: str, limits: ReadLimits) -> Iterator[Located]:
    if fmt == "mbox":
        return _mbox_items(p, limits)
    if fmt == "listserv":
        return _listserv_items(p, limits)
    if fmt == "eml":
        return _eml_items(p, limits)
    if fmt in ("jsonl", "json"):
        return _json_items(p, fmt, limits)
    return calendar_items(p, limits)


def _resolve(p: Path, forced: str | None) -> str:
    """The format to read the file `p` in; `InputFileError` when none fits."""
    if forced == "ics":
        require_icalendar()
    if forced is not None and forced != "maildir":
        return forced
    found = mail_format(p) or sniff(p)
    if found is None:
        suffix = split_suffix(p)[0]
        raise InputFileError(
            p,
            f"unknown extension {suffix or '(none)'!r} and content: expected an mbox, an "
            "RFC 822 message, JSON (Lines), iCalendar or a LISTSERV log (.mbox, .eml, "
            ".jsonl, .ndjson, .json, .ics, .txt, .LOGyymmx; .gz/.bz2/.xz) or a directory; "
            "or name the format (format=/--format)",
        )
    if found == "ics":
        require_icalendar()
    return found


# --------------------------------------------------------------------------- folders


def is_maildir(p: Path) -> bool:
    """A Maildir folder: it holds ``cur/`` or ``new/`` (``tmp/`` alone is not one)."""
    return (p / "cur").is_dir() or (p / "new").is_dir()


Sourced = tuple[str, str, str, Item | FileNote]  # (file, format, where, item)


def _maildir_items(root: Path, limits: ReadLimits) -> Iterator[Sourced]:
    """Messages of ``new/`` then ``cur/`` (sorted by file name), then Maildir++
    subfolders (``.Name``). ``tmp/`` holds deliveries in progress and is not read."""
    for sub in ("new", "cur"):
        folder = root / sub
        if folder.is_dir():
            for entry in sorted(folder.iterdir()):
                yield from _one_entry(entry, "eml", limits)
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") and entry.is_dir() and is_maildir(entry):
            yield from _maildir_items(entry, limits)


def _directory_items(root: Path, forced: str | None, limits: ReadLimits) -> Iterator[Sourced]:
    """Every file under `root`, sorted, recursively; Maildir folders read as such.
    Files of no known format and non-regular files are rejected, never skipped."""
    if forced == "maildir" or is_maildir(root):
        yield from _maildir_items(root, limits)
        return
    for entry in sorted(root.iterdir()):
        try:
            mode = entry.stat().st_mode
        except OSError as exc:
            yield _sourced_rejection(entry, f"unusable file: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(mode) and entry.is_symlink():
            yield _sourced_rejection(entry, "a link to a directory: not followed")
        elif stat.S_ISDIR(mode):
            yield from _directory_items(entry, None if forced == "maildir" else forced, limits)
        else:
            yield from _one_entry(entry, forced, limits)


def _sourced_rejection(p: Path, reason: str) -> Sourced:
    return str(p), "", str(p), Rejection.of(str(p), reason, p.name)


def _one_entry(p: Path, forced: str | None, limits: ReadLimits) -> Iterator[Sourced]:
    """The items of one file met in a folder; a file that cannot be read is one
    rejection."""
    try:
        check_readable(p)
    except InputFileError as exc:
        yield _sourced_rejection(p, f"unusable file: {exc.reason}")
        return
    fmt = forced or mail_format(p) or sniff(p)
    if fmt is None:
        yield _sourced_rejection(p, "not a mail file: unknown extension")
        return
    try:
        fmt = _resolve(p, fmt)
    except (InputFileError, MissingDependency) as exc:
        yield _sourced_rejection(p, f"unusable file: {exc}")
        return
    yield from _sourced(p, fmt, limits, in_folder=True)


def _sourced(p: Path, fmt: str, limits: ReadLimits, *, in_folder: bool) -> Iterator[Sourced]:
    """(file, format, where, item) for one file. An error after the first item (a file
    that ends early) is one more rejection; before it, in a folder, the file is one
    rejection; alone, it raises."""
    key = str(p)
    started = False
    try:
        for where, item in _file_items(p, fmt, limits):
            started = True
            yield key, fmt, where, item
    except (InputFileError, MissingDependency) as exc:
        if not (started or in_folder):
            raise
        prefix = "cut off" if started else "unusable file"
        yield key, fmt, key, Rejection.of(key, f"{prefix}: {exc}", p.name)


# --------------------------------------------------------------------------- duplicates


class _SeenIds:
    """A compact set of ids (64-bit BLAKE2b digests in an open-addressing table: 16
    bytes an id), so de-duplicating millions of messages stays small."""

    __slots__ = ("_count", "_mask", "_table")

    def __init__(self) -> None:
        self._table = array("Q", bytes(8 * 1024))
        self._mask = 1023
        self._count = 0

    def add(self, key: str) -> bool:
        """Whether `key` is new (and now remembered)."""
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        code = int.from_bytes(digest, "little") | 1  # never 0, the empty slot
        table, mask = self._table, self._mask
        i = code & mask
        while True:
            value = table[i]
            if value == 0:
                table[i] = code
                self._count += 1
                if self._count * 2 > len(table):
                    self._grow()
                return True
            if value == code:
                return False
            i = (i + 1) & mask

    def _grow(self) -> None:
        old = self._table
        self._table = array("Q", bytes(8 * len(old) * 2))
        self._mask = len(self._table) - 1
        table, mask = self._table, self._mask
        for code in old:
            if code:
                i = code & mask
                while table[i]:
                    i = (i + 1) & mask
                table[i] = code


def _deduplicated(items: Iterator[Sourced]) -> Iterator[Sourced]:
    """The first communication of each id is kept; a later one is a `Duplicate`."""
    seen = _SeenIds()
    for key, fmt, where, item in items:
        if isinstance(item, Communication) and not seen.add(item.id):
            raw = f"{item.id} {item.subject}".strip()
            yield key, fmt, where, Duplicate.of(where, DUPLICATE, raw, item.id)
            continue
        yield key, fmt, where, item


# --------------------------------------------------------------------------- public


def _items(
    path: str | os.PathLike[str], fmt: str | None, limits: ReadLimits
) -> Iterator[Sourced]:
    """Checks `path` now (raising `InputFileError` before any item), then reads."""
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    p = as_path(path)
    try:
        mode = p.stat().st_mode
    except OSError:
        check_readable(p)  # raises with the reason
        raise
    if stat.S_ISDIR(mode):
        return _deduplicated(_directory_items(p, fmt, limits))
    if fmt == "maildir":
        raise InputFileError(p, "a Maildir is a directory (with cur/ and new/), not a file")
    if not stat.S_ISREG(mode):
        raise InputFileError(p, f"not a regular file ({file_kind(mode)}): refused")
    check_readable(p)
    return _deduplicated(_sourced(p, _resolve(p, fmt), limits, in_folder=False))


def iter_communications(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    limits: ReadLimits | None = None,
    progress: Progress | None = None,
) -> Iterator[Communication | Rejection]:
    """Communications, rejections and duplicates of a mail file or folder, lazily, in
    file order, one message in memory at a time.

    The format comes from `format` (one of `FORMATS`), else the extension, else the
    content (see docs/ingest.md); compressed files (gzip, bzip2, xz) are read as they
    are. A later message with an id seen before is a `Duplicate` (a `Rejection` with
    reason ``"duplicate of an earlier message"``); the first is kept. Raises
    `InputFileError` (before the first item) when the path itself is unusable: missing,
    not a regular file or folder (``/dev/zero``, a FIFO), of no known format.
    """
    stream = _items(path, format, limits or ReadLimits())
    return _public(stream, progress)


def _public(stream: Iterator[Sourced], progress: Progress | None) -> Iterator[Item]:
    ticker = ProgressTicker(progress)
    for _, _, _, item in stream:
        if isinstance(item, FileNote):
            continue
        ticker.advance()
        yield item
    ticker.close()


def read_communications(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    limits: ReadLimits | None = None,
    progress: Progress | None = None,
) -> ReadResult[Communication]:
    """Every communication of a mail file or folder (see `iter_communications`), with
    the rejections, the duplicates and a `FileCount` per file."""
    items: list[Communication] = []
    rejections: list[Rejection] = []
    duplicates: list[Rejection] = []
    counts: dict[str, list[int]] = {}  # file: [read, duplicates, rejected]
    formats: dict[str, str] = {}
    notes: dict[str, str] = {}
    ticker = ProgressTicker(progress)
    for key, fmt, _, item in _items(path, format, limits or ReadLimits()):
        count = counts.get(key)
        if count is None:
            count = counts[key] = [0, 0, 0]
            formats[key] = fmt
        if isinstance(item, FileNote):
            notes[key] = str(item)
            continue
        ticker.advance()
        if isinstance(item, Duplicate):
            duplicates.append(item)
            count[1] += 1
        elif isinstance(item, Rejection):
            rejections.append(item)
            count[2] += 1
        else:
            items.append(item)
            count[0] += 1
    ticker.close()
    files = tuple(
        FileCount(key, formats[key], read, dup, rejected, notes.get(key))
        for key, (read, dup, rejected) in counts.items()
    )
    return ReadResult(tuple(items), tuple(rejections), tuple(duplicates), files)

