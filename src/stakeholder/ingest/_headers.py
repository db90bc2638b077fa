"""Header parsing for the mail readers: RFC 2047 words, declared charsets, address
lists as real archives write them, Message-IDs and dates. Pure functions; never raise
unless documented."""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Callable, Iterable
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from stakeholder._model import MailHeaders, Participant, Role

__all__ = [
    "Headers",
    "clean_text",
    "decode_words",
    "header",
    "headers_of",
    "mail_headers",
    "message_id",
    "parse_addresses",
    "parse_date",
    "participants",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FOLD = re.compile(r"\r?\n[ \t]*")
_SPACES = re.compile(r"\s+")
_MSGID = re.compile(r"<([^<>]+)>")
# "jane at example.com": pipermail archives hide "@" this way.
_OBFUSCATED = re.compile(r"(?<![\w.+=-])([\w.+=-]+) at ([\w-]+(?:\.[\w-]+)+)(?![\w-])")
_COMMENT = re.compile(r"\([^()]*\)")
_ADDRESS_ROLES = (("from", Role.FROM), ("to", Role.TO), ("cc", Role.CC), ("bcc", Role.BCC))


_ESCAPE_SEQUENCE = re.compile(r"\x1b[$(][@AB-J]")


def _unsurrogate(text: str, charset: str | None = None) -> str:
    """Header text as `compat32` gives it (undecodable bytes kept as surrogates) decoded:
    as UTF-8 when it is, else in the message's declared `charset` (Shift-JIS, KOI8-R,
    ...), else as Latin-1 (which cannot fail). 7-bit ISO-2022-JP escape sequences are
    decoded as ISO-2022-JP (or the declared ISO-2022 charset)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogateescape")
        for name in ("utf-8", charset):
            if name:
                try:
                    return data.decode(name)
                except (UnicodeDecodeError, LookupError):
                    pass
        return data.decode("latin-1")
    if "\x1b" in text and _ESCAPE_SEQUENCE.search(text):
        name = charset if charset and charset.startswith("iso-2022") else "iso-2022-jp"
        try:
            return text.encode("ascii").decode(name)
        except (UnicodeError, LookupError):
            return text
    return text


def _clean(text: str) -> str:
    """Unfold, drop control characters, collapse runs of white space."""
    if text.isprintable() and "  " not in text and text.strip(" ") == text:
        return text  # the common case, without three regular expressions
    text = _CONTROL.sub(" ", _FOLD.sub(" ", text))
    return _SPACES.sub(" ", text).strip()


def clean_text(text: str) -> str:
    """`text` unfolded, without control characters, white space collapsed."""
    return _clean(text)


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


_BULK_HEADERS = (
    "list-id", "list-unsubscribe", "precedence", "auto-submitted", "x-auto-response-suppress"
)
_WANTED = frozenset(
    ("from", "to", "cc", "bcc", "date", "subject", "message-id", "in-reply-to",
     "references", "comments", "content-type", *_BULK_HEADERS)
)
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:+-]+)""", re.IGNORECASE)
Headers = dict[str, list[str]]


def declared_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type value, lower-case, when it names a
    codec Python knows; else `None`."""
    found = _CHARSET.search(content_type or "")
    if found is None:
        return None
    name = found.group(1).lower()
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def headers_of(msg: Message) -> Headers:
    """The headers the readers use, by lower-case name, as text (raw values, 8-bit
    bytes decoded as UTF-8 or in the declared charset), in order."""
    raw_items: Callable[[], Iterable[tuple[str, Any]]] = getattr(
        msg, "raw_items", msg.items
    )
    raw: list[tuple[str, str]] = []
    charset = None
    for key, value in raw_items():
        name = key.lower()
        if name in _WANTED:
            raw.append((name, str(value)))
            if name == "content-type" and charset is None:
                charset = declared_charset(str(value))
    out: Headers = {}
    for name, value in raw:
        out.setdefault(name, []).append(_unsurrogate(value, charset))
    return out


def header(headers: Headers, name: str) -> str | None:
    """The first value of header `name` (lower-case), unfolded and cleaned."""
    values = headers.get(name)
    return _clean(values[0]) if values else None


def mail_headers(headers: Headers) -> MailHeaders | None:
    """The list / bulk / automated-mail headers of a message; `None` when it has none."""
    values = [header(headers, name) for name in _BULK_HEADERS]
    if not any(values):
        return None
    return MailHeaders(*(_shorten(v) for v in values))


def _shorten(value: str | None, limit: int = 500) -> str | None:
    return value if value is None or len(value) <= limit else value[:limit]


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
    if _NUL_LIKE.search(text):
        # a control character inside an address would change it once dropped: keep it
        # visible (``a\\x00b@acme.com``) so the address fails to parse and is set aside
        text = _NUL_LIKE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    text = _clean(text)
    fast = _simple_addresses(text)
    if fast is not None:
        return fast
    return _general_addresses(text)


_NUL_LIKE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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


_QUOTED_OR_COMMA = re.compile(r'"(?:[^"\\]|\\.)*"?|\([^()]*\)?|<[^<>]*>?|,')
_QUOTED_OR_SEPARATOR = re.compile(r'"(?:[^"\\]|\\.)*"?|\([^()]*\)?|<[^<>]*>?|[,;]')


def _split_commas(text: str, *, semicolons: bool = False) -> list[str]:
    """Split on commas (and semicolons, which end a group) outside double quotes,
    comments and angle brackets."""
    if '"' not in text and "(" not in text and "<" not in text:
        return text.replace(";", ",").split(",") if semicolons else text.split(",")
    pieces: list[str] = []
    start = 0
    pattern = _QUOTED_OR_SEPARATOR if semicolons else _QUOTED_OR_COMMA
    for match in pattern.finditer(text):
        if match.group() in (",", ";"):
            pieces.append(text[start : match.start()])
            start = match.end()
    pieces.append(text[start:])
    return pieces


# `team: a@x.com, b@y.com;`: a group's name is not a person's name.
_GROUP_NAME = re.compile(r'\s*[^,:;<>"@()\[\]]+:(?!//)\s*')
_ANGLE = re.compile(
    r'\s*(?P<name>(?:"(?:[^"\\]|\\.)*"|[^<>"])*?)\s*<(?P<addr>[^<>]*)>\s*'
    r"(?:\((?P<after>[^()]*)\))?\s*"
)


def _angle(piece: str) -> tuple[str, str] | None:
    """``Name <address>`` (the angle address is the address whatever the name holds,
    even another address; a comment inside the brackets is dropped); `None` otherwise."""
    match = _ANGLE.fullmatch(piece)
    if match is None:
        return None
    address = _COMMENT.sub("", match.group("addr")).strip().removeprefix("mailto:")
    name = match.group("name").strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    elif not name and match.group("after"):
        name = match.group("after")
    return name, address


def _general_addresses(text: str) -> list[tuple[str | None, str]]:
    if "@" not in _COMMENT.sub("", text):
        text = _OBFUSCATED.sub(r"\1@\2", text)
        if "@" not in text:
            return []
    pairs: list[tuple[str, str]] = []
    for entry in _split_commas(text, semicolons=";" in text):
        group = _GROUP_NAME.match(entry) if ":" in entry else None
        piece = entry[group.end() :] if group else entry  # `team: a@x.com`: not a name
        if not piece.strip():
            continue
        angle = _angle(piece) if "<" in piece else None
        if angle is not None:
            pairs.append(angle)
        elif not any(c in piece for c in '<("'):
            pairs.extend(_bare_words(piece))
        else:
            pairs.extend(_getaddresses(piece))
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


def _getaddresses(piece: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, address in getaddresses([piece]):
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
    return pairs


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


def participants(headers: Headers) -> tuple[Participant, ...]:
    """The people of a message's From, To, Cc and Bcc (LISTSERV ``Comments: To:`` when
    there are no recipients), one per address and role, with display names."""
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


