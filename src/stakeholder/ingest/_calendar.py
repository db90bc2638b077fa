"""iCalendar meeting invites (.ics files, ``text/calendar`` parts of emails) to
`Communication` (kind MEETING).

Needs the optional extra ``stakeholder[calendar]`` (the `icalendar` library), imported
only when a calendar is read. Files are read one VEVENT at a time (the VTIMEZONEs seen
so far travel with each event), so memory stays flat whatever the file's size; an
event cut off by the end of the file is a rejection, never lost silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stakeholder._errors import InputFileError, MissingDependency, StakeholderError
from stakeholder._model import CommKind, Communication, Participant, Rejection, Role
from stakeholder.ingest._files import CORRUPT, FileNote, ReadLimits, open_binary, read_error
from stakeholder.ingest._mbox import read_lines

__all__ = [
    "CalendarNote",
    "calendar_items",
    "communications_from_ical",
    "event_in_text",
    "require_icalendar",
]


CalendarNote = FileNote  # a calendar file without END:VCALENDAR says so with one


def require_icalendar() -> Any:
    """The `icalendar` module, or `MissingDependency` naming the ``calendar`` extra."""
    try:
        import icalendar  # noqa: PLC0415 - optional extra, imported lazily
    except ImportError as exc:
        raise MissingDependency("reading iCalendar (.ics) files", "calendar", "icalendar") from exc
    return icalendar


def _when(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=dt.UTC)
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    raise ValueError(f"DTSTART is not a date or datetime: {value!r}")


def _address(value: object) -> tuple[str, str | None]:
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    params = getattr(value, "params", {}) or {}
    name = params.get("CN")
    return text, (str(name).strip().strip('"') or None) if name else None


def _event_participants(event: Any) -> list[Participant]:
    participants: list[Participant] = []
    seen: set[tuple[str, Role]] = set()
    organizer = event.get("organizer")
    attendees = event.get("attendee") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    entries = ([(organizer, Role.ORGANIZER)] if organizer is not None else []) + [
        (a, Role.ATTENDEE) for a in attendees
    ]
    for value, role in entries:
        address, name = _address(value)
        if "@" not in address or (address.lower(), role) in seen:
            continue
        seen.add((address.lower(), role))
        participants.append(Participant(address=address, role=role, name=name))
    return participants


def _event(event: Any) -> Communication | str:
    from stakeholder.ingest._mail import content_id  # noqa: PLC0415 - avoid an import cycle

    start = event.get("dtstart")
    if start is None:
        return "missing DTSTART"
    try:
        occurred_at = _when(start.dt)
    except (ValueError, AttributeError) as exc:
        return f"unusable DTSTART: {exc}"
    uid = str(event.get("uid") or "").strip()
    if not uid:
        uid = content_id(event.to_ical())
    own_id = uid
    recurrence = event.get("recurrence-id")
    if recurrence is not None:
        try:
            own_id = f"{uid}/{_when(recurrence.dt).isoformat()}"
        except (ValueError, AttributeError):
            own_id = f"{uid}/{recurrence}"
    try:
        return Communication(
            id=own_id,
            occurred_at=occurred_at,
            participants=_event_participants(event),
            thread_id=uid,
            subject=str(event.get("summary") or "").strip(),
            kind=CommKind.MEETING,
        )
    except (StakeholderError, ValueError, TypeError) as exc:
        return getattr(exc, "reason", None) or str(exc)


def _parse_events(text: str, where: str) -> list[Any]:
    icalendar = require_icalendar()
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise InputFileError(where, f"not iCalendar: {exc}") from exc
    return [event for calendar in calendars for event in calendar.walk("VEVENT")]


def _item(event: Any, at: str) -> Communication | Rejection:
    try:
        result = _event(event)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        result = f"unusable VEVENT: {type(exc).__name__}: {exc}"
    if isinstance(result, str):
        summary = str(event.get("summary") or event.get("uid") or "")
        return Rejection.of(at, result, summary, str(event.get("uid") or "") or None)
    return result


def event_in_text(text: str, *, where: str = "<ics>") -> Communication | None:
    """The first readable VEVENT of iCalendar text as a meeting, or `None` (no event,
    or text that is not iCalendar). Raises `MissingDependency` without the extra."""
    try:
        events = _parse_events(text, where)
    except InputFileError:
        return None
    for event in events:
        found = _item(event, where)
        if isinstance(found, Communication):
            return found
    return None


def communications_from_ical(
    text: str, *, where: str = "<ics>"
) -> Iterator[tuple[str, Communication | Rejection]]:
    """(where, item) for every VEVENT of iCalendar text held in memory; `where` gains
    the line of each ``BEGIN:VEVENT``. Raises `InputFileError` when the text is not
    iCalendar. (Files are read with `calendar_items`, one event at a time.)"""
    lines = iter(text.splitlines(keepends=True))
    for at, item in _events(lines, where, ReadLimits()):
        if not isinstance(item, CalendarNote):
            yield at, item


def calendar_items(
    p: Path, limits: ReadLimits | None = None
) -> Iterator[tuple[str, Communication | Rejection | CalendarNote]]:
    """The meetings of one .ics file (plain or compressed), one event at a time."""
    require_icalendar()
    limits = limits or ReadLimits()

    def lines() -> Iterator[str]:
        try:
            with open_binary(p) as stream:
                for line in read_lines(stream.readline, limits.max_record_bytes):
                    yield line.decode("utf-8", "replace")
        except CORRUPT as exc:
            raise read_error(p, exc) from exc

    yield from _events(lines(), str(p), limits)


def _events(
    lines: Iterator[str], where: str, limits: ReadLimits
) -> Iterator[tuple[str, Communication | Rejection | CalendarNote]]:
    """Collect each VEVENT (with the VTIMEZONEs before it) and parse it on its own."""
    timezones: list[str] = []
    block: list[str] | None = None  # lines of the open VEVENT or VTIMEZONE
    kind = ""
    start = size = 0
    began = ended = False
    for number, line in enumerate(lines, start=1):
        name = line.strip().upper()
        if not began:
            if not name:
                continue
            if name != "BEGIN:VCALENDAR":
                raise InputFileError(where, "not iCalendar: it does not start with BEGIN:VCALENDAR")
            began = True
            continue
        if block is None:
            if name in ("BEGIN:VEVENT", "BEGIN:VTIMEZONE"):
                block, kind, start, size = [line], name[6:], number, len(line)
            elif name == "END:VCALENDAR":
                ended = True
            elif name == "BEGIN:VCALENDAR":
                ended = False
            continue
        size += len(line)
        if size <= limits.max_record_bytes:
            block.append(line)
        if name != f"END:{kind}":
            continue
        at = f"{where}:{start}"
        if kind == "VTIMEZONE":
            timezones.append("".join(block))
        elif size > limits.max_record_bytes:
            reason = f"VEVENT over max_record_bytes ({limits.max_record_bytes:,}): not read"
            yield at, Rejection.of(at, reason, "".join(block[:5]))
        else:
            yield from _one_event(timezones, block, at)
        block = None
    if block is not None and kind == "VEVENT":
        at = f"{where}:{start}"
        reason = "cut off: the file ends inside this VEVENT (no END:VEVENT)"
        yield at, Rejection.of(at, reason, "".join(block[:5]))
    if not began:
        return
    if not ended:
        yield where, CalendarNote("truncated: the file has no END:VCALENDAR")


def _one_event(
    timezones: list[str], block: list[str], at: str
) -> Iterator[tuple[str, Communication | Rejection]]:
    text = "BEGIN:VCALENDAR\r\n" + "".join(timezones) + "".join(block) + "END:VCALENDAR\r\n"
    try:
        events = _parse_events(text, at)
    except InputFileError as exc:
        yield at, Rejection.of(at, exc.reason, "".join(block[:5]))
        return
    if not events:
        yield at, Rejection.of(at, "unreadable VEVENT", "".join(block[:5]))
        return
    yield at, _item(events[0], at)
