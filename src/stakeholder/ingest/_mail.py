"""Mail readers: RFC 5322 messages (mbox, .eml, LISTSERV logs, JSON) to `Communication`.

Only headers are parsed; bodies are never decoded. Every message either becomes a
`Communication` or a `Rejection` with a reason; nothing stops a batch.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
import itertools
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from stakeholder._errors import (
    InputFileError,
    InvalidRecord,
    MissingDependency,
    StakeholderError,
)
from stakeholder._model import CommKind, Communication, Participant, Rejection, Role
from stakeholder.ingest._files import (
    ReadResult,
    as_path,
    check_readable,
    json_array_records,
    jsonl_records,
    open_binary,
    split_suffix,
)

__all__ = [
    "communication_from_dict",
    "communication_from_message",
    "communication_to_dict",
    "iter_communications",
    "read_communications",
]

Item = Communication | Rejection
Located = tuple[str, Item]  # (where, item)

# --------------------------------------------------------------------------- headers

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FOLD = re.compile(r"\r?\n[ \t]*")
_SPACES = re.compile(r"\s+")
_MSGID = re.compile(r"<([^<>]+)>")
# "jane at example.com": pipermail archives hide "@" this way.
_OBFUSCATED = re.compile(r"(?<![\w.+=-])([\w.+=-]+) at ([\w-]+(?:\.[\w-]+)+)(?![\w-])")
_COMMENT = re.compile(r"\([^()]*\)")
_HEADER_PARSER = BytesHeaderParser(policy=email.policy.compat32)
_ADDRESS_ROLES = (("from", Role.FROM), ("to", Role.TO), ("cc", Role.CC), ("bcc", Role.BCC))


def _unsurrogate(text: str) -> str:
    """Header text from `compat32` keeps undecodable bytes as surrogates: decode them as
    UTF-8 when they are, else as Latin-1 (which cannot fail)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogateescape")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    return text


def _clean(text: str) -> str:
    """Unfold, drop control characters, collapse runs of white space."""
    if text.isprintable() and "  " not in text and text.strip(" ") == text:
        return text  # the common case, without three regular expressions
    text = _CONTROL.sub(" ", _FOLD.sub(" ", text))
    return _SPACES.sub(" ", text).strip()


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words (``=?utf-8?q?...?=``); text that does not decode
    stays as it is. Never raises."""
    if "=?" not in text:
        return text
    decoded = _decode_words(text)
    if ("\ufffd" in decoded and "\ufffd" not in text) or not decoded.strip():
        return text  # did not decode: keep what was written
    return decoded


def _decode_words(text: str) -> str:
    try:
        return str(make_header(decode_header(text)))
    except (LookupError, UnicodeError, ValueError, AssertionError, TypeError, HeaderParseError):
        pass
    try:
        parts = decode_header(text)
    except (ValueError, AssertionError, TypeError, HeaderParseError):
        return text
    out = []
    for part, charset in parts:
        if isinstance(part, bytes):
            try:
                out.append(part.decode(charset or "ascii", "replace"))
            except LookupError:
                out.append(part.decode("utf-8", "replace"))
        else:
            out.append(part)
    return "".join(out)


_WANTED = frozenset(
    ("from", "to", "cc", "bcc", "date", "subject", "message-id", "in-reply-to",
     "references", "comments")
)
Headers = dict[str, list[str]]


def _headers(msg: Message) -> Headers:
    """The headers routing needs, by lower-case name, as text (raw values, surrogates
    decoded), in order."""
    raw_items: Callable[[], Iterable[tuple[str, Any]]] = getattr(
        msg, "raw_items", msg.items
    )
    out: Headers = {}
    for key, value in raw_items():
        name = key.lower()
        if name in _WANTED:
            out.setdefault(name, []).append(_unsurrogate(str(value)))
    return out


def _header(headers: Headers, name: str) -> str | None:
    values = headers.get(name)
    return _clean(values[0]) if values else None


def message_id(text: str | None) -> str | None:
    """The first ``<id>`` in `text` without its angle brackets, else the whole text;
    white space collapsed; `None` when empty."""
    if not text:
        return None
    for match in _MSGID.finditer(text):
        found = match.group(1).strip()
        if found:
            return found
    bare = " ".join(text.strip().strip("<>").split())
    return bare or None


def parse_addresses(text: str) -> list[tuple[str | None, str]]:
    """(display name, address) pairs of an address header, forgiving archive quirks.

    Handles RFC 5322 lists, ``jane at example.com (Jane)`` from pipermail archives (only
    when the header has no ``@`` at all), bare ``Name Words jane@example.com`` from
    LISTSERV logs, and RFC 2047 encoded names. Entries without an ``@`` (empty groups,
    HTML left by archive scrapers) are not addresses and are left out. Never raises.
    """
    text = _clean(text)
    fast = _simple_addresses(text)
    if fast is not None:
        return fast
    return _general_addresses(text)


# Plain lists (`"Name" <a@b>, Name <a@b>, a@b`) take a regular expression instead of
# the general parser; tests check the two agree wherever the fast path applies.
_ADDR = r"[A-Za-z0-9._%+'/!#$&*?^`{|}~=-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_ENTRY = (
    rf'(?:"(?P<q>[^"\\=]*)"\s*<(?P<a1>{_ADDR})>'
    rf"|(?P<n>[A-Za-z0-9.'_-]+(?: [A-Za-z0-9.'_-]+)*)?\s*<(?P<a2>{_ADDR})>"
    rf"|(?P<a3>{_ADDR}))"
)
_SIMPLE_ENTRY = re.compile(rf"\s*{_ENTRY}\s*")


# Pipermail archives: "jane at example.com (Jane Doe)" or "jane@example.com (Jane Doe)".
_PIPERMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9._%+'/!#$&*?^`{|}~=-]+)(?P<at> at |@)"
    r"(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?: \((?P<name>[^()\"\\]*)\))?"
)


def _simple_addresses(text: str) -> list[tuple[str | None, str]] | None:
    """The addresses of a plain list, or `None` when the general parser is needed."""
    alone = _PIPERMAIL.fullmatch(text)
    if alone is not None:
        name = alone.group("name")
        if name and alone.group("at") == " at ":
            name = _OBFUSCATED.sub(r"\1@\2", name)  # as the general parser does
        shown = _clean(decode_words(name)).strip("'\" ") if name else ""
        return [(shown or None, f"{alone.group('local')}@{alone.group('domain')}")]
    out: list[tuple[str | None, str]] = []
    seen: set[str] = set()
    for piece in _split_commas(text):
        match = _SIMPLE_ENTRY.fullmatch(piece)
        if match is None:
            return None
        address = match.group("a1") or match.group("a2") or match.group("a3")
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        name = (match.group("q") or match.group("n") or "").strip().strip("'\" ")
        out.append((_SPACES.sub(" ", name) or None, address))
    return out


_QUOTED_OR_COMMA = re.compile(r'"[^"]*"?|,')


def _split_commas(text: str) -> list[str]:
    """Split on commas outside double quotes."""
    if '"' not in text:
        return text.split(",")
    pieces: list[str] = []
    start = 0
    for match in _QUOTED_OR_COMMA.finditer(text):
        if match.group() == ",":
            pieces.append(text[start : match.start()])
            start = match.end()
    pieces.append(text[start:])
    return pieces


def _general_addresses(text: str) -> list[tuple[str | None, str]]:
    if "@" not in _COMMENT.sub("", text):
        text = _OBFUSCATED.sub(r"\1@\2", text)
        if "@" not in text:
            return []
    if not any(c in text for c in '<("'):
        pairs: list[tuple[str, str]] = []
        for piece in text.split(","):
            pairs.extend(_bare_words(piece))
    else:
        pairs = []
        for name, address in getaddresses([text]):
            hidden = _OBFUSCATED.fullmatch(address.strip())
            if hidden:
                pairs.append((name, f"{hidden.group(1)}@{hidden.group(2)}"))
            elif " " in address.strip():
                found = _bare_words(address)
                if found and name and not found[0][0]:
                    found[0] = (name, found[0][1])
                pairs.extend(found)
            else:
                pairs.append((name, address))
    out: list[tuple[str | None, str]] = []
    seen: set[str] = set()
    for name, written in pairs:
        address = written.strip()
        if "@" not in address or address.lower() in seen:
            continue
        seen.add(address.lower())
        shown = _clean(decode_words(name)).strip("'\" ") if name else ""
        out.append((shown or None, address))
    return out


def _bare_words(piece: str) -> list[tuple[str, str]]:
    """``abdul rasheed m d rasheed@motorola.com``: the words before the first address
    name it; every token with an ``@`` is an address."""
    tokens = piece.split()
    out: list[tuple[str, str]] = []
    words: list[str] = []
    for token in tokens:
        if "@" in token:
            out.append(("" if out else " ".join(words), token.strip("<>,;")))
        elif not out:
            words.append(token)
    return out


def _participants(headers: Headers) -> tuple[Participant, ...]:
    out: list[Participant] = []
    seen: set[tuple[str, Role]] = set()

    def add(values: Iterable[str], role: Role) -> None:
        for value in values:
            for name, address in parse_addresses(value):
                key = (address.lower(), role)
                if key not in seen:
                    seen.add(key)
                    out.append(Participant(address=address, role=role, name=name))

    for header, role in _ADDRESS_ROLES:
        add(headers.get(header, ()), role)
    if not any(p.role in (Role.TO, Role.CC) for p in out):
        # LISTSERV logs keep the original recipients in "Comments: To: ..." / "cc: ...".
        for comment in headers.get("comments", ()):
            head, _, rest = _clean(comment).partition(":")
            comment_role = {"to": Role.TO, "cc": Role.CC}.get(head.strip().lower())
            if comment_role is not None:
                add([rest], comment_role)
    return tuple(out)


def parse_date(text: str | None) -> dt.datetime:
    """A timezone-aware datetime from a Date header (RFC 5322, or asctime as pipermail
    writes it). A date without a zone (or ``-0000``) is taken as UTC. Raises
    `ValueError` with a reason."""
    if text is None or not text.strip():
        raise ValueError("missing Date header")
    cleaned = _clean(text)
    try:
        parsed = parsedate_to_datetime(cleaned)
    except (TypeError, ValueError, OverflowError, IndexError) as exc:
        raise ValueError(f"unparsable Date {cleaned[:80]!r}: {exc}") from None
    if parsed is None:
        raise ValueError(f"unparsable Date {cleaned[:80]!r}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _raw_bytes(msg: Message) -> bytes:
    try:
        return msg.as_bytes(policy=email.policy.compat32)
    except (LookupError, UnicodeError, ValueError, TypeError, AttributeError, IndexError):
        text = "\n".join(f"{k}: {v}" for k, v in _safe_items(msg))
        return text.encode("utf-8", "surrogateescape")


def _safe_items(msg: Message) -> list[tuple[str, str]]:
    raw_items: Callable[[], Iterable[tuple[str, Any]]] = getattr(msg, "raw_items", msg.items)
    return [(k, str(v)) for k, v in raw_items()]


def content_id(raw: bytes) -> str:
    """The id given to a message without a Message-ID: ``sha256:`` and the first 32 hex
    digits of the SHA-256 of its raw bytes (so the same message gets the same id). Files
    hash the bytes as read; `communication_from_message` hashes ``msg.as_bytes()``."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:32]


def _build(msg: Message, raw: bytes | None) -> Communication | str:
    """The communication of `msg`, or the reason it cannot be one."""
    headers = _headers(msg)
    try:
        occurred_at = parse_date(_header(headers, "date"))
    except ValueError as exc:
        return str(exc)
    own_id = message_id(_header(headers, "message-id"))
    if own_id is None:
        own_id = content_id(raw if raw is not None else _raw_bytes(msg))
    references = _header(headers, "references")
    thread_id = (
        message_id(references) or message_id(_header(headers, "in-reply-to")) or own_id
    )
    subject = _header(headers, "subject")
    try:
        return Communication(
            id=own_id,
            occurred_at=occurred_at,
            participants=_participants(headers),
            thread_id=thread_id,
            subject=_clean(decode_words(subject)) if subject else "",
            kind=CommKind.EMAIL,
        )
    except (StakeholderError, ValueError, TypeError) as exc:
        return getattr(exc, "reason", None) or str(exc)


def communication_from_message(msg: Message, *, where: str = "") -> Communication:
    """The `Communication` of one parsed email message.

    id: the Message-ID without angle brackets, or ``sha256:<32 hex>`` of the raw
    message when it has none. thread_id: the first id of References (the thread's
    root), else In-Reply-To, else the message's own id. occurred_at: the Date header,
    tz-aware (no zone means UTC). Participants from From, To, Cc and Bcc with display
    names (RFC 2047 decoded). Raises `InvalidRecord` (reason names `where`) when the
    message cannot be a communication, for example a missing or unparsable Date.
    """
    result = _build(msg, None)
    if isinstance(result, str):
        reason = f"{result} (at {where})" if where else result
        headers = _headers(msg)
        raise InvalidRecord(
            _header(headers, "message-id") or _header(headers, "subject"), reason
        )
    return result


def _parse_bytes(data: bytes) -> Message:
    """Headers only: bodies are not needed to route mail, and skipping them is fast
    (the parser is given the header block alone)."""
    ends = [i for i in (data.find(b"\n\n"), data.find(b"\n\r\n")) if i != -1]
    return _HEADER_PARSER.parsebytes(data[: min(ends) + 1] if ends else data)


def _message_item(data: bytes, where: str) -> Item:
    try:
        msg = _parse_bytes(data)
        result = _build(msg, data)
    except (RecursionError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - one bad message must never stop a batch
        return Rejection.of(where, f"cannot parse message: {type(exc).__name__}: {exc}", data)
    if isinstance(result, str):
        record_id = message_id(_header(_headers(msg), "message-id"))
        return Rejection.of(where, result, _summary(data), record_id)
    return result


def _summary(data: bytes) -> str:
    return data[:400].decode("utf-8", "replace")


# --------------------------------------------------------------------------- dicts


def communication_to_dict(comm: Communication) -> dict[str, Any]:
    """JSON-ready dict: ``id``, ``occurred_at`` (ISO 8601 with offset), ``thread_id``,
    ``subject``, ``kind``, ``participants``: a list of ``{address, role, name}``."""
    return {
        "id": comm.id,
        "occurred_at": comm.occurred_at.isoformat(),
        "thread_id": comm.thread_id,
        "subject": comm.subject,
        "kind": comm.kind.value,
        "participants": [
            {"address": p.address, "role": p.role.value, "name": p.name}
            for p in comm.participants
        ],
    }


def _occurred_at(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidRecord(value, "occurred_at is not an ISO 8601 datetime") from None
    else:
        raise InvalidRecord(value, "occurred_at must be an ISO 8601 string")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def communication_from_dict(data: Mapping[str, Any]) -> Communication:
    """The inverse of `communication_to_dict`. ``thread_id``, ``subject``, ``kind`` and
    participant ``role`` / ``name`` may be left out (defaults: none, ``""``, email, to,
    none); a naive ``occurred_at`` is UTC. Raises `InvalidRecord` with a reason."""
    if not isinstance(data, Mapping):
        raise InvalidRecord(data, "a communication must be a JSON object")
    for key in ("id", "occurred_at"):
        if data.get(key) in (None, ""):
            raise InvalidRecord(data, f"missing {key}")
    people = data.get("participants", [])
    if not isinstance(people, list):
        raise InvalidRecord(people, "participants must be a list")
    participants = []
    for person in people:
        if not isinstance(person, Mapping) or "address" not in person:
            raise InvalidRecord(person, "a participant must be an object with an address")
        participants.append(
            Participant(
                address=person["address"],
                role=person.get("role") or Role.TO,
                name=person.get("name"),
            )
        )
    return Communication(
        id=data["id"],
        occurred_at=_occurred_at(data["occurred_at"]),
        participants=participants,
        thread_id=data.get("thread_id"),
        subject=data.get("subject") or "",
        kind=data.get("kind") or CommKind.EMAIL,
    )


_RAW_KEYS = ("raw", "text", "message", "rfc822")


def _dict_item(fields: Mapping[str, Any], where: str, raw: str) -> Item:
    if "participants" not in fields and "occurred_at" not in fields:
        for key in _RAW_KEYS:
            value = fields.get(key)
            if isinstance(value, str):
                return _message_item(value.encode("utf-8", "surrogateescape"), where)
    try:
        return communication_from_dict(fields)
    except (StakeholderError, ValueError, TypeError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        return Rejection.of(where, reason, raw, fields.get("id"))


# --------------------------------------------------------------------------- files

_SEPARATOR_LISTSERV = re.compile(rb"^={73}\r?\n?$")
_LISTSERV_SUFFIX = re.compile(r"\.log\d{4}[a-z]?$", re.IGNORECASE)
_MAIL_FORMATS = {
    ".mbox": "mbox",
    ".mbx": "mbox",
    ".eml": "eml",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".ics": "ics",
    ".ical": "ics",
    ".txt": "mbox-txt",
}


def mail_format(p: Path) -> tuple[str, bool] | None:
    """(format, gzipped) of a mail file by its extension, or `None` when unknown."""
    suffix, gzipped = split_suffix(p)
    if _LISTSERV_SUFFIX.search(p.name.removesuffix(".gz")):
        return "listserv", gzipped
    fmt = _MAIL_FORMATS.get(suffix)
    return None if fmt is None else (fmt, gzipped)


def _mbox_items(p: Path, gzipped: bool) -> Iterator[Located]:
    """Split an mbox on every line starting with ``From `` (as the stdlib `mailbox`
    module does); `where` is the line number of that separator."""
    with open_binary(p, gzipped) as stream:
        first = _first_line(stream, p)
        if first is not None and not first.startswith(b"From "):
            raise InputFileError(p, "not an mbox: the first line does not start with 'From '")
        for number, data in split_mbox(_blocks(stream, p)):
            if number:
                yield _located(data, f"{p}:{number}")
            elif data.strip():
                text = data.decode("utf-8", "replace")
                reason = "text before the first 'From ' line is not a message"
                yield _rejected(f"{p}:1", reason, text)


def _blocks(stream: Any, p: Path, size: int = 1 << 20) -> Iterator[bytes]:
    try:
        while block := stream.read(size):
            yield block
    except (EOFError, OSError, zlib.error) as exc:
        raise InputFileError(p, f"unreadable or corrupt data: {exc}") from exc


def split_mbox(blocks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number of its ``From `` line, bytes after that line) for each message of an
    mbox given as blocks of bytes. Text before the first ``From `` line, if any, comes
    first with line number 0. Works on whole blocks with `bytes.find`, not line by
    line."""
    parts: list[bytes] = []  # the current message so far
    number = 0  # line number of the current message's "From " line; 0 = preamble
    line = 1  # line number of the first line of `data`
    carry = b""
    for block in itertools.chain(blocks, [None]):
        if block is None:
            data, carry = carry, b""
            if not data:
                break
        else:
            data = carry + block
            cut = data.rfind(b"\n") + 1
            data, carry = data[:cut], data[cut:]
            if not data:
                continue
        # data starts at the start of a line and holds whole lines
        position = 0
        counted_to, counted_line = 0, line
        if data.startswith(b"From "):
            separator = 0
        else:
            found = data.find(b"\nFrom ")
            separator = -1 if found == -1 else found + 1
        while separator != -1:
            parts.append(data[position:separator])
            if number or any(part.strip() for part in parts):
                yield number, b"".join(parts)
            counted_line += data.count(b"\n", counted_to, separator)
            counted_to = separator
            number = counted_line
            end = data.find(b"\n", separator)
            position = len(data) if end == -1 else end + 1
            parts = []
            following = data.find(b"\nFrom ", position - 1)
            separator = -1 if following == -1 else following + 1
        parts.append(data[position:])
        line = counted_line + data.count(b"\n", counted_to)
    if number or any(part.strip() for part in parts):
        yield number, b"".join(parts)


def _first_line(stream: Any, path: Path) -> bytes | None:
    """The first non-blank line, leaving the stream at its start."""
    try:
        head = stream.read(65536)
        stream.seek(0)
    except (EOFError, OSError, zlib.error) as exc:
        raise InputFileError(path, f"unreadable or corrupt data: {exc}") from exc
    for line in head.splitlines():
        if line.strip():
            return bytes(line)
    return None


def _lines(stream: Any, p: Path) -> Iterator[bytes]:
    try:
        yield from stream
    except (EOFError, OSError, zlib.error) as exc:
        raise InputFileError(p, f"unreadable or corrupt data: {exc}") from exc


def _listserv_items(p: Path, gzipped: bool) -> Iterator[Located]:
    """LISTSERV notebook logs: messages separated by a line of 73 ``=``."""
    with open_binary(p, gzipped) as stream:
        lines: list[bytes] = []
        start = 0
        for number, line in enumerate(_lines(stream, p), start=1):
            if _SEPARATOR_LISTSERV.match(line):
                if start:
                    yield _located(b"".join(lines), f"{p}:{start}")
                elif any(x.strip() for x in lines):
                    yield _rejected(
                        f"{p}:1", "text before the first separator is not a message",
                        b"".join(lines).decode("utf-8", "replace"),
                    )
                start, lines = number, []
            else:
                lines.append(line)
        if start:
            yield _located(b"".join(lines), f"{p}:{start}")
        elif any(x.strip() for x in lines):
            raise InputFileError(p, "not a LISTSERV log: no separator line of 73 '='")


def _eml_items(p: Path, gzipped: bool) -> Iterator[Located]:
    with open_binary(p, gzipped) as stream:
        data = b"".join(_lines(stream, p))
    if not data.strip():
        yield _rejected(f"{p}:1", "empty message file")
        return
    yield _located(data, f"{p}:1")


def _json_items(p: Path, fmt: str, gzipped: bool) -> Iterator[Located]:
    source = jsonl_records(p, gzipped) if fmt == "jsonl" else json_array_records(p, gzipped)
    for record in source:
        if record.fields is None:
            yield _rejected(record.where, record.error or "unusable record", record.raw)
        else:
            yield record.where, _dict_item(record.fields, record.where, record.raw)


def _file_items(p: Path, fmt: str, gzipped: bool) -> Iterator[Located]:
    if fmt in ("mbox", "mbox-txt"):
        return _mbox_items(p, gzipped)
    if fmt == "listserv":
        return _listserv_items(p, gzipped)
    if fmt == "eml":
        return _eml_items(p, gzipped)
    if fmt in ("jsonl", "json"):
        return _json_items(p, fmt, gzipped)
    from stakeholder.ingest._calendar import calendar_items  # noqa: PLC0415 - optional extra

    return calendar_items(p, gzipped)


def _directory_items(root: Path) -> Iterator[Located]:
    """Every file under `root` (sorted, recursive); files of unknown format are
    rejected (by name), never skipped silently."""
    for path in sorted(x for x in root.rglob("*") if x.is_file()):
        found = mail_format(path)
        if found is None:
            yield _rejected(str(path), "not a mail file: unknown extension", path.name)
            continue
        try:
            yield from _file_items(path, *found)
        except (InputFileError, MissingDependency) as exc:
            yield _rejected(str(path), f"unusable file: {exc}", path.name)


def _located(data: bytes, where: str) -> Located:
    return where, _message_item(data, where)


def _rejected(where: str, reason: str, raw: object = "") -> Located:
    return where, Rejection.of(where, reason, raw)


def _deduplicated(items: Iterator[Located]) -> Iterator[Item]:
    """Keep the first communication of each id; later ones become rejections."""
    seen: dict[str, str] = {}
    for where, item in items:
        if isinstance(item, Communication):
            first = seen.get(item.id)
            if first is not None:
                yield Rejection.of(
                    where,
                    f"duplicate id {item.id!r} (first seen at {first}; the first is kept)",
                    item.subject,
                    item.id,
                )
                continue
            seen[item.id] = where
        yield item


def iter_communications(path: str | os.PathLike[str]) -> Iterator[Communication | Rejection]:
    """Communications (and rejections) of a mail file or directory, lazily, in file
    order, one message in memory at a time.

    Formats by extension (``.gz`` accepted): ``.mbox`` (and pipermail ``.txt``
    archives), ``.eml``, LISTSERV logs (``.LOGyymmx``), ``.jsonl`` / ``.ndjson`` /
    ``.json`` (dicts as `communication_to_dict` writes them, or objects holding a raw
    message under ``raw``, ``text``, ``message`` or ``rfc822``), ``.ics`` (needs the
    ``calendar`` extra) and directories of such files. A later message with an id seen
    before is rejected; the first is kept. Raises `InputFileError` (before the first
    item) when the path itself is unusable.
    """
    p = as_path(path)
    if p.is_dir():
        return _deduplicated(_directory_items(p))
    found = mail_format(p)
    if found is None:
        raise InputFileError(
            path,
            f"unknown extension {split_suffix(p)[0] or '(none)'!r}: expected .mbox, .eml, "
            ".jsonl, .ndjson, .json, .ics, .txt (pipermail), a LISTSERV .LOGyymmx log "
            "or a directory",
        )
    check_readable(p)
    if found[0] == "ics":
        from stakeholder.ingest._calendar import require_icalendar  # noqa: PLC0415

        require_icalendar()
    return _deduplicated(_file_items(p, *found))


def read_communications(path: str | os.PathLike[str]) -> ReadResult[Communication]:
    """Every communication of a mail file or directory (see `iter_communications`)."""
    items: list[Communication] = []
    rejections: list[Rejection] = []
    for item in iter_communications(path):
        if isinstance(item, Rejection):
            rejections.append(item)
        else:
            items.append(item)
    return ReadResult(tuple(items), tuple(rejections))
