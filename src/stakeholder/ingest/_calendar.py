"""iCalendar meeting invites (.ics) to `Communication` (kind MEETING).

Needs the optional extra ``stakeholder[calendar]`` (the `icalendar` library), imported
only when a calendar file is read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stakeholder._errors import InputFileError, MissingDependency, StakeholderError
from stakeholder._model import CommKind, Communication, Participant, Rejection, Role
from stakeholder.ingest._files import read_text_file

__all__ = ["calendar_items", "communications_from_ical", "require_icalendar"]

_BEGIN_EVENT = re.compile(r"^BEGIN:VEVENT\s*$", re.IGNORECASE | re.MULTILINE)


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
    try:
        return Communication(
            id=own_id,
            occurred_at=occurred_at,
            participants=participants,
            thread_id=uid,
            subject=str(event.get("summary") or "").strip(),
            kind=CommKind.MEETING,
        )
    except (StakeholderError, ValueError, TypeError) as exc:
        return getattr(exc, "reason", None) or str(exc)


def communications_from_ical(
    text: str, *, where: str = "<ics>"
) -> Iterator[tuple[str, Communication | Rejection]]:
    """(where, item) for every VEVENT of iCalendar text; `where` gains the line of each
    ``BEGIN:VEVENT``. Raises `InputFileError` when the text is not iCalendar."""
    icalendar = require_icalendar()
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise InputFileError(where, f"not iCalendar: {exc}") from exc
    starts = [text.count("\n", 0, m.start()) + 1 for m in _BEGIN_EVENT.finditer(text)]
    events = [event for calendar in calendars for event in calendar.walk("VEVENT")]
    for index, event in enumerate(events):
        at = f"{where}:{starts[index]}" if len(starts) == len(events) else f"{where}:#{index}"
        try:
            result = _event(event)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            result = f"unusable VEVENT: {type(exc).__name__}: {exc}"
        if isinstance(result, str):
            summary = str(event.get("summary") or event.get("uid") or "")
            yield at, Rejection.of(at, result, summary, str(event.get("uid") or "") or None)
        else:
            yield at, result


def calendar_items(p: Path, gzipped: bool) -> Iterator[tuple[str, Communication | Rejection]]:
    """The meetings of one .ics file."""
    yield from communications_from_ical(read_text_file(p, gzipped), where=str(p))
