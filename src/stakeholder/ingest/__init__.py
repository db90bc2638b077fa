"""Readers that turn files into `stakeholder` values.

CRM exports (accounts, contacts, overrides) come from CSV, JSON Lines or JSON files;
each reader returns a `ReadResult` of the items it could build and a `Rejection` for
every record it set aside, and raises `InputFileError` only when the file itself is
unusable. Mail (mbox, .eml, Maildir, LISTSERV logs, JSON, iCalendar; gzip, bzip2 or xz
compressed) becomes `Communication`s the same way, lazily with `iter_communications`,
with repeated messages counted as `Duplicate`s and sizes bounded by `ReadLimits`.
See docs/ingest.md for the columns and rules.
"""

from __future__ import annotations

from stakeholder.ingest._files import (
    DEFAULT_MAX_FIELD_BYTES,
    DEFAULT_MAX_RECORD_BYTES,
    DUPLICATE,
    Duplicate,
    FileCount,
    ReadLimits,
    ReadResult,
)
from stakeholder.ingest._mail import (
    communication_from_dict,
    communication_from_message,
    communication_to_dict,
)
from stakeholder.ingest._records import read_accounts, read_contacts, read_overrides
from stakeholder.ingest._sources import FORMATS, iter_communications, read_communications

__all__ = [
    "DEFAULT_MAX_FIELD_BYTES",
    "DEFAULT_MAX_RECORD_BYTES",
    "DUPLICATE",
    "FORMATS",
    "Duplicate",
    "FileCount",
    "ReadLimits",
    "ReadResult",
    "communication_from_dict",
    "communication_from_message",
    "communication_to_dict",
    "iter_communications",
    "read_accounts",
    "read_communications",
    "read_contacts",
    "read_overrides",
]
