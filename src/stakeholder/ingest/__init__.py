"""Readers that turn files into `stakeholder` values.

CRM exports (accounts, contacts, overrides) come from CSV, JSON Lines or JSON files;
each reader returns a `ReadResult` of the items it could build and a `Rejection` for
every record it set aside, and raises `InputFileError` only when the file itself is
unusable. Mail (mbox, .eml, LISTSERV logs, JSON, iCalendar) becomes `Communication`s
the same way, lazily with `iter_communications`. See docs/ingest.md for the columns and rules.
"""

from __future__ import annotations

from stakeholder.ingest._files import ReadResult
from stakeholder.ingest._mail import (
    communication_from_dict,
    communication_from_message,
    communication_to_dict,
    iter_communications,
    read_communications,
)
from stakeholder.ingest._records import read_accounts, read_contacts, read_overrides

__all__ = [
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
