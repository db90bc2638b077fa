"""Splitting an mbox into messages: real envelope lines only, mboxrd/mboxo quoting undone,
bounded memory.

A line starting ``From `` opens a new message only when it is a real envelope line
(``From <sender> <date with a month name and a time>``) and a real header block follows
it: the next line is a header field. When the line before it is not blank (pipermail
archives sometimes leave the blank line out), the header block must also carry a
``Message-ID``, ``Received`` or ``Return-Path`` field before it ends; a forwarded block
pasted into a body (``From``, ``Date``, ``Subject`` only) is then body text, not a
phantom message. Every other ``From `` line is body text. Lines starting ``>From ``,
``>>From ``... lose one ``>`` (mboxrd; for mboxo the result is the same for the lines a
writer quoted). The blank line a writer puts between two messages is not part of
either.

Memory: one message at a time. Bytes of a message past ``max_record_bytes`` are not
kept (the message is read from what was kept, flagged as cut); a single line longer
than that is never held whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import attrs

__all__ = ["MboxPart", "is_envelope", "read_lines", "split_mbox"]

_ENVELOPE = re.compile(
    rb"From [^\s]+(?: at [^\s]+)?[ \t]+[^\n]*?"
    rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[^\n]*?\d{1,2}:\d\d"
)
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_STRONG = re.compile(rb"(?:message-id|received|return-path)[ \t]*:", re.IGNORECASE)
_LOOKAHEAD_LINES = 200  # a header block longer than this without a strong field: body


def is_envelope(line: bytes) -> bool:
    """Whether `line` (with its newline) is an mbox envelope line: ``From``, a sender, a
    date with a month name and a time. A line cut by the end of the file is not."""
    return line.endswith(b"\n") and _ENVELOPE.match(line) is not None


@attrs.frozen
class MboxPart:
    """One message of an mbox: the line number of its envelope line (0 for text before
    the first envelope line), its bytes (unquoted, without the envelope line and the
    separating blank line), and whether bytes past the size limit were left out."""

    line: int
    data: bytes
    cut: bool = False


def read_lines(
    read: Callable[[int], bytes],
    limit: int,
    failure: list[BaseException] | None = None,
    errors: tuple[type[BaseException], ...] = (),
) -> Iterator[bytes]:
    """Lines from `read` (a ``readline(size)``), none longer than `limit` bytes: the
    first `limit` bytes of a longer line come as one piece without its newline and the
    rest of the line is skipped, a piece at a time. When `failure` is given, an
    exception of the `errors` types ends the lines and is appended to it."""
    piece = min(limit, 1 << 20)
    try:
        while line := read(limit):
            if len(line) < limit or line[-1:] == b"\n":
                yield line
                continue
            yield line
            del line  # not held while the rest of an overlong line is skipped
            while (rest := read(piece)) and not rest.endswith(b"\n"):
                pass
    except errors as exc:
        if failure is None:
            raise
        failure.append(exc)


def _unquote(line: bytes) -> bytes:
    if line[:1] == b">" and line.lstrip(b">").startswith(b"From "):
        return line[1:]
    return line


class _Message:
    """The message being collected; keeps at most `limit` bytes."""

    __slots__ = ("cut", "line", "lines", "room")

    def __init__(self, line: int, limit: int) -> None:
        self.line = line
        self.lines: list[bytes] = []
        self.room = limit  # bytes it may still keep
        self.cut = False

    def add(self, line: bytes) -> None:
        if len(line) >= self.room:
            self.cut, self.room = True, 0  # keeps nothing more
            return
        self.lines.append(_unquote(line))
        self.room -= len(line)

    def part(self) -> MboxPart | None:
        data = b"".join(self.lines)
        if not self.line and not data.strip():
            return None  # nothing before the first envelope line
        if self.cut:
            pass  # the end was not kept: no separator to take off
        elif data.endswith(b"\n\n"):
            data = data[:-1]
        elif data.endswith(b"\r\n\r\n"):
            data = data[:-2]
        return MboxPart(self.line, data, self.cut)


def split_mbox(
    lines: Iterator[bytes], *, max_record_bytes: int = 16 << 20, body_froms: list[int] | None = None
) -> Iterator[MboxPart]:
    """The messages of an mbox given as lines (see the module docstring for the rules).
    Text before the first envelope line, if any, comes first with line number 0.
    ``body_froms[0]`` (when given) counts the lines starting ``From `` that were read as
    body text."""
    froms = starts = 0  # lines starting "From " (not quoted) seen; messages started
    current = _Message(0, max_record_bytes)
    pending: list[bytes] = []  # an envelope line and the lines after it, undecided
    pending_line = 0
    pending_blank = True
    previous_blank = True
    number = 0
    for line in lines:
        number += 1
        if not pending and line[:5] != b"From " and line[:1] != b">" and len(line) < current.room:
            current.lines.append(line)  # the common case, inline
            current.room -= len(line)
            previous_blank = line in (b"\n", b"\r\n")
            continue
        if pending:
            pending.append(line)
            verdict = _decide(pending, pending_blank, final=False)
            if verdict is None:
                continue
            if verdict:
                starts += 1
                found = current.part()
                if found is not None:
                    yield found
                current = _Message(pending_line, max_record_bytes)
                for kept in pending[1:]:
                    current.add(kept)
                previous_blank = not line.strip()
                pending = []
                continue
            # not a message start: the envelope-looking line is body text
            for kept in pending[:-1]:
                current.add(kept)
            previous_blank = not pending[-2].strip()
            pending = []
            # the last line is looked at afresh (it may open a message itself)
        if line[:5] == b"From ":
            froms += 1
            if is_envelope(line):
                pending, pending_line, pending_blank = [line], number, previous_blank
                continue
        current.add(line)
        previous_blank = not line.strip()
    if pending and _decide(pending, pending_blank, final=True):
        starts += 1
        found = current.part()
        if found is not None:
            yield found
        current = _Message(pending_line, max_record_bytes)
        pending = pending[1:]
    for kept in pending:
        current.add(kept)
    if body_froms is not None:
        body_froms[0] += froms - starts
    found = current.part()
    if found is not None:
        yield found


def _decide(pending: list[bytes], after_blank: bool, *, final: bool) -> bool | None:
    """Whether the envelope line ``pending[0]`` opens a message, given the lines after
    it so far; `None` while undecided."""
    if len(pending) == 1:
        return after_blank if final else None  # nothing after it: a cut file
    if _HEADER_LINE.match(pending[1]) is None:
        if not pending[1].endswith(b"\n"):  # the last line of a cut file
            return after_blank if final else None
        return False
    if after_blank:
        return True
    last = pending[-1]
    if _STRONG.match(last):
        return True
    if len(pending) > 2 and (not last.strip() or not (
        _HEADER_LINE.match(last) or last[:1] in (b" ", b"\t")
    )):
        return False  # the header block ended (or never was one) without a strong field
    if len(pending) > _LOOKAHEAD_LINES:
        return False
    return False if final else None
