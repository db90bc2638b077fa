"""Reading CRM exports: CSV files (or records from an API pull) to accounts and contacts.

A bad row never stops a read: it becomes a `Rejection` with the reason. Rows the
selector does not take are reported as *excluded*, not as errors. Only an unusable file
(missing, a directory, not UTF-8, no header, required columns absent) raises
`InputFileError`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import os
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from stakeholder._errors import (
    InputFileError,
    InvalidDomain,
    InvalidEmail,
    InvalidPhone,
    InvalidRecord,
)
from stakeholder._identity import EmailAddress, normalize_host, normalize_phone
from stakeholder._model import Account, AccountKind, Contact, Rejection
from stakeholder.crm._fields import (
    ACCOUNT_FIELDS,
    CONTACT_FIELDS,
    FieldMap,
    cell,
    resolve_columns,
)
from stakeholder.crm._selection import AccountSelector, Selection, SelectionStatus
from stakeholder.ingest._files import csv_data_rows, csv_header

__all__ = [
    "CrmContacts",
    "CrmRecord",
    "CrmSnapshot",
    "crm_accounts_from_records",
    "crm_contacts_from_records",
    "read_crm_accounts",
    "read_crm_contacts",
    "read_crm_export",
]

_DATE_FORMATS: Final = (
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)

# --------------------------------------------------------------------------- values


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch builds millions of small,
    acyclic values (it would rescan them again and again: reading 100,000 rows took
    2.6x as long with it on). Reference counting still frees everything; the previous
    state is restored afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _fields_dict(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


@attrs.frozen
class CrmRecord:
    """One usable account row: the `account` built from it (its `status` set by the
    selection when taken), the raw `fields` (column name to trimmed text) the selector
    reads, its `selection`, and `where` it came from (``file:line``)."""

    account: Account
    fields: Mapping[str, str] = attrs.field(converter=_fields_dict, eq=False)
    selection: Selection
    where: str = ""

    @property
    def taken(self) -> bool:
        return self.selection.taken


def _records(value: Iterable[CrmRecord]) -> tuple[CrmRecord, ...]:
    return tuple(sorted(value, key=lambda r: r.account.id))


def contacts_by_id(value: Iterable[Contact]) -> tuple[Contact, ...]:
    """Contacts as a tuple sorted by id (the converter of every contacts field)."""
    return tuple(sorted(value, key=lambda c: c.id))


@attrs.frozen
class CrmContacts:
    """Contacts read from an export: those kept, those set aside (`rejections`), those
    of accounts the selector excludes (`excluded`) and values dropped from kept rows
    (`warnings`, e.g. an unreadable creation date)."""

    contacts: tuple[Contact, ...] = attrs.field(default=(), converter=contacts_by_id)
    rejections: tuple[Rejection, ...] = ()
    excluded: tuple[Rejection, ...] = ()
    warnings: tuple[Rejection, ...] = ()


@attrs.frozen
class CrmSnapshot:
    """What one CRM export holds, ready for `plan_account_sync`.

    - `records`: every usable account row (taken or excluded), sorted by id;
    - `contacts`: the contacts of those accounts (`selected_contacts` keeps only those
      of taken accounts), sorted by id;
    - `rejections`: rows set aside, each with where and why;
    - `excluded`: rows the selector did not take, and contacts of those accounts;
    - `warnings`: values dropped from rows that were kept (an unparsable website, a
      date, a parent that is the account itself);
    - `contacts_read`: whether contacts were read at all. A snapshot of accounts only
      (`read_crm_accounts`, or `read_crm_export` without a contacts file) leaves the
      held contacts alone when planned, instead of deleting them as gone.
    """

    records: tuple[CrmRecord, ...] = attrs.field(default=(), converter=_records)
    contacts: tuple[Contact, ...] = attrs.field(default=(), converter=contacts_by_id)
    rejections: tuple[Rejection, ...] = ()
    excluded: tuple[Rejection, ...] = ()
    warnings: tuple[Rejection, ...] = ()
    contacts_read: bool = True

    @property
    def accounts(self) -> tuple[Account, ...]:
        """The taken accounts (active and churned), status set, sorted by id."""
        return tuple(r.account for r in self.records if r.taken)

    @property
    def selections(self) -> dict[str, Selection]:
        """Each usable account row's selection, by account id."""
        return {r.account.id: r.selection for r in self.records}

    @property
    def selected_contacts(self) -> tuple[Contact, ...]:
        """Contacts of taken accounts."""
        taken = {r.account.id for r in self.records if r.taken}
        return tuple(c for c in self.contacts if c.account_id in taken)

    def with_contacts(self, contacts: CrmContacts) -> CrmSnapshot:
        """This snapshot with contacts read by `read_crm_contacts` added."""
        return attrs.evolve(
            self,
            contacts_read=True,
            contacts=self.contacts + contacts.contacts,
            rejections=self.rejections + contacts.rejections,
            excluded=self.excluded + contacts.excluded,
            warnings=self.warnings + contacts.warnings,
        )

    def counts(self) -> dict[str, int]:
        statuses = [r.selection.status for r in self.records]
        return {
            "active": statuses.count(SelectionStatus.ACTIVE),
            "churned": statuses.count(SelectionStatus.CHURNED),
            "excluded_accounts": statuses.count(SelectionStatus.EXCLUDED),
            "contacts": len(self.selected_contacts),
            "excluded": len(self.excluded),
            "rejected": len(self.rejections),
            "warnings": len(self.warnings),
        }

    def explain(self) -> str:
        """Counts, then one line per rejection, exclusion and warning."""
        c = self.counts()
        lines = [
            f"{c['active']} active and {c['churned']} churned account(s) taken, "
            f"{c['excluded_accounts']} excluded; {c['contacts']} contact(s) of taken "
            f"accounts; {c['rejected']} row(s) rejected, {c['warnings']} warning(s)"
        ]
        for title, items in (
            ("rejected", self.rejections),
            ("excluded", self.excluded),
            ("warning", self.warnings),
        ):
            lines.extend(f"  {title} {r.where}: {r.reason}" for r in items)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "rejections": [r.to_dict() for r in self.rejections],
            "excluded": [r.to_dict() for r in self.excluded],
            "warnings": [r.to_dict() for r in self.warnings],
        }


# --------------------------------------------------------------------------- CSV files


Rows = Iterator[tuple[str, dict[str, str] | str]]


def _csv_rows(path: str | os.PathLike[str]) -> tuple[list[str], Rows]:
    """The header of a CSV file and an iterator of (where, row or error) pairs.

    Cells are trimmed; a row with more cells than the header is an error, one with fewer
    has the missing cells empty. UTF-8 (a byte-order mark is dropped) only."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "no such file")
    if p.is_dir():
        raise InputFileError(p, "is a directory, not a file")
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            p, f"not UTF-8 ({exc.reason} at byte {exc.start}); export as CSV UTF-8"
        ) from exc
    except OSError as exc:
        raise InputFileError(p, exc.strerror or str(exc)) from exc
    if "\x00" in text:
        raise InputFileError(p, "contains NUL bytes: not a CSV text file")
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines, strict=True)
    header = [h.strip() for h in csv_header(p, reader)]
    if not any(header):
        raise InputFileError(p, "the header row is empty")

    def rows() -> Iterator[tuple[str, dict[str, str] | str]]:
        for where, row in csv_data_rows(p, reader):
            if isinstance(row, str):
                yield where, row
                continue
            if len(row) > len(header):
                yield where, f"the row has {len(row)} cells but the header has {len(header)}"
                continue
            fields: dict[str, str] = {}
            for name, value in zip(header, row, strict=False):
                if name and name not in fields:
                    fields[name] = value.strip()
            yield where, fields

    return header, rows()


def _require(
    path: object, header: Sequence[str], field_map: FieldMap, fields: Iterable[str]
) -> None:
    columns = resolve_columns(header, field_map, fields)
    missing = [f for f in fields if columns[f] is None]
    if missing:
        wanted = "; ".join(
            f"{f} ({' or '.join(repr(c) for c in getattr(field_map, f))})" for f in missing
        )
        raise InputFileError(
            path, f"the header lacks required column(s) {wanted}; it has {list(header)!r}"
        )


# --------------------------------------------------------------------------- accounts


def _website_domains(text: str, separator: str | None) -> tuple[list[str], list[str]]:
    """Host names in a website / domain cell, and the reasons for parts that are not."""
    parts = [text] if separator is None else text.split(separator)
    hosts: list[str] = []
    errors: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        candidate = part if "://" in part else f"//{part}"
        try:
            host = urllib.parse.urlsplit(candidate).hostname or ""
        except ValueError as exc:
            errors.append(f"{part!r} is not a web address ({exc})")
            continue
        try:
            hosts.append(normalize_host(host or part))
        except InvalidDomain as exc:
            errors.append(f"{part!r} has no usable host name ({exc.reason})")
    return hosts, errors


def _raw_text(fields: Mapping[str, str]) -> str:
    return ",".join(fields.values())


def _duplicates(
    rows: Iterable[tuple[str, str, Mapping[str, str], Any]], what: str
) -> tuple[dict[str, tuple[str, Mapping[str, str], Any]], list[Rejection]]:
    """Rows by id: identical repeats keep one (the others rejected as repeats); ids with
    differing rows are rejected altogether, whatever the order of the rows."""
    first: dict[str, tuple[str, Mapping[str, str], Any]] = {}
    repeated: dict[str, list[tuple[str, Mapping[str, str], Any]]] = {}
    for record_id, where, fields, built in rows:
        entry = (where, fields, built)
        if record_id in first:
            repeated.setdefault(record_id, [first[record_id]]).append(entry)
        else:
            first[record_id] = entry
    kept = {k: v for k, v in first.items() if k not in repeated}
    rejections: list[Rejection] = []
    for record_id, group in repeated.items():
        wheres = ", ".join(w for w, _, _ in group)
        contents = {tuple(sorted(f.items())) for _, f, _ in group}
        if len(contents) == 1:
            earliest = min(group, key=lambda g: _line_key(g[0]))
            kept[record_id] = earliest
            rejections.extend(
                Rejection.of(
                    where,
                    f"duplicate {what} id {record_id!r}: the same row as {earliest[0]}",
                    _raw_text(fields),
                    record_id,
                )
                for where, fields, _ in group
                if where != earliest[0]
            )
        else:
            rejections.extend(
                Rejection.of(
                    where,
                    f"duplicate {what} id {record_id!r} with differing rows ({wheres}): "
                    "none of them is taken",
                    _raw_text(fields),
                    record_id,
                )
                for where, fields, _ in group
            )
    return kept, rejections


def _rows_by_id(
    rows: Iterable[tuple[str, dict[str, str] | str]],
    field_map: FieldMap,
    fields: Sequence[str],
    what: str,
) -> tuple[
    dict[str, tuple[str, Mapping[str, str], Any]], dict[str, str | None] | None, list[Rejection]
]:
    """The first pass over the rows of an export of `what` ("account" or "contact"):
    the rows by id (`_duplicates`), the columns of `fields` resolved against the first
    usable row (`None` when there is none), and the rows rejected so far (unreadable,
    no id, duplicate id)."""
    id_field = f"{what}_id"
    rejections: list[Rejection] = []
    parsed: list[tuple[str, str, Mapping[str, str], Any]] = []
    columns: dict[str, str | None] | None = None
    for where, row in rows:
        if isinstance(row, str):
            rejections.append(Rejection.of(where, row))
            continue
        if columns is None:
            columns = resolve_columns(row.keys(), field_map, fields)
        raw_id = cell(row, columns[id_field])
        if not raw_id:
            rejections.append(
                Rejection.of(
                    where,
                    f"missing {what} id ({columns[id_field]!r} is empty)",
                    _raw_text(row),
                )
            )
            continue
        parsed.append((field_map.record_id(raw_id), where, row, None))
    kept, duplicate_rejections = _duplicates(parsed, what)
    rejections.extend(duplicate_rejections)
    return kept, columns, rejections


def _line_key(where: str) -> tuple[str, int]:
    head, _, tail = where.rpartition(":")
    return (head, int(tail)) if tail.isdigit() else (where, 0)


def crm_accounts_from_records(
    records: Iterable[tuple[str, Mapping[str, object]] | Mapping[str, object]],
    field_map: FieldMap,
    selector: AccountSelector,
    *,
    source: str = "records",
) -> CrmSnapshot:
    """Accounts from records already in memory (an API pull): mappings of field name to
    value, or ``(where, mapping)`` pairs. Same rules as `read_crm_accounts`."""
    with paused_gc():
        return _accounts(_numbered(records, source), field_map, selector)


def _numbered(
    records: Iterable[tuple[str, Mapping[str, object]] | Mapping[str, object]], source: str
) -> Iterator[tuple[str, dict[str, str] | str]]:
    items: Iterable[object] = records
    for index, item in enumerate(items, start=1):
        mapping: object
        if isinstance(item, tuple) and len(item) == 2:
            where, mapping = str(item[0]), item[1]
        else:
            where, mapping = f"{source}:{index}", item
        if not isinstance(mapping, Mapping):
            yield where, f"expected a mapping of field names, got {type(mapping).__name__}"
            continue
        yield where, {
            str(k).strip(): ("" if v is None else str(v).strip()) for k, v in mapping.items()
        }


def read_crm_accounts(
    path: str | os.PathLike[str], field_map: FieldMap, selector: AccountSelector
) -> CrmSnapshot:
    """Read a CSV export of accounts (Salesforce Account, HubSpot companies).

    Every row becomes a `CrmRecord` (with its selection), a `Rejection` (missing id or
    name, duplicate id, unreadable row) or, when the selector does not take it, an
    *excluded* entry. Raises `InputFileError` when the file cannot be used."""
    header, rows = _csv_rows(path)
    _require(path, header, field_map, ("account_id", "account_name"))
    with paused_gc():
        return _accounts(rows, field_map, selector)


def _accounts(
    rows: Iterable[tuple[str, dict[str, str] | str]],
    field_map: FieldMap,
    selector: AccountSelector,
) -> CrmSnapshot:
    kept, columns, rejections = _rows_by_id(rows, field_map, ACCOUNT_FIELDS, "account")
    warnings: list[Rejection] = []
    if columns is None:
        return CrmSnapshot(rejections=tuple(rejections), contacts_read=False)

    ids = set(kept)
    names: dict[str, list[str]] = defaultdict(list)
    for record_id, (_, fields, _) in kept.items():
        name = cell(fields, columns["account_name"])
        if name:
            names[name.casefold()].append(record_id)

    records: list[CrmRecord] = []
    excluded: list[Rejection] = []
    for record_id in sorted(kept):
        where, fields, _ = kept[record_id]
        name = cell(fields, columns["account_name"])
        if not name:
            rejections.append(
                Rejection.of(
                    where,
                    f"missing account name ({columns['account_name']!r} is empty)",
                    _raw_text(fields),
                    record_id,
                )
            )
            continue
        parent = _parent(cell(fields, columns["account_parent_id"]), field_map, ids, names)
        if parent == record_id:
            warnings.append(
                Rejection.of(where, "the account names itself as parent; parent ignored",
                             parent, record_id)
            )
            parent = None
        domains: list[str] = []
        for column in ("account_website", "account_extra_domains"):
            text = cell(fields, columns[column])
            if not text:
                continue
            separator = field_map.list_separator if column == "account_extra_domains" else None
            hosts, errors = _website_domains(text, separator)
            domains.extend(hosts)
            warnings.extend(
                Rejection.of(where, f"{columns[column]}: {e}; domain ignored", text, record_id)
                for e in errors
            )
        kind = (
            AccountKind.PARTNER
            if cell(fields, columns["account_type"]).casefold() in field_map.partner_types
            else AccountKind.CUSTOMER
        )
        selection = selector.classify(fields)
        try:
            account = Account(
                id=record_id,
                name=name,
                kind=kind,
                status=selection.status.account_status or "active",
                parent_id=parent,
                domains=domains,
            )
        except InvalidRecord as exc:
            rejections.append(Rejection.of(where, exc.reason, _raw_text(fields), record_id))
            continue
        records.append(CrmRecord(account, fields, selection, where))
        if not selection.taken:
            excluded.append(
                Rejection.of(where, f"not selected: {selection.reason}", name, record_id)
            )
    return CrmSnapshot(
        records=records,
        rejections=tuple(sorted(rejections, key=_rejection_key)),
        excluded=tuple(sorted(excluded, key=_rejection_key)),
        warnings=tuple(sorted(warnings, key=_rejection_key)),
        contacts_read=False,
    )


def _rejection_key(r: Rejection) -> tuple[str, str, tuple[str, int], str]:
    return (r.record_id or "", r.reason, _line_key(r.where), r.raw)


def _parent(
    text: str, field_map: FieldMap, ids: Collection[str], names: Mapping[str, list[str]]
) -> str | None:
    """The parent's id: an id in the export, else the one account of that name in the
    export (HubSpot writes associated companies by name), else the id as written (the
    parent may be outside the export)."""
    if not text:
        return None
    as_id = field_map.record_id(text)
    if as_id in ids:
        return as_id
    named = names.get(text.casefold(), [])
    if len(named) == 1:
        return named[0]
    return as_id


# --------------------------------------------------------------------------- contacts


def read_crm_contacts(
    path: str | os.PathLike[str],
    field_map: FieldMap,
    known_account_ids: Collection[str],
    *,
    excluded_account_ids: Collection[str] = (),
) -> CrmContacts:
    """Read a CSV export of contacts (Salesforce Contact, HubSpot contacts).

    A contact is rejected for a missing id, a duplicate id, an unparsable email or
    phone, or no account / an account not in `known_account_ids`; a contact of an
    account in `excluded_account_ids` is reported as excluded. A contact associated
    with several accounts (HubSpot) becomes one record per account, with ids
    ``<id>/<account id>``. Raises `InputFileError` when the file cannot be used."""
    header, rows = _csv_rows(path)
    _require(path, header, field_map, ("contact_id", "contact_account_id"))
    with paused_gc():
        return _contacts_from(rows, field_map, known_account_ids, excluded_account_ids)[0]


def crm_contacts_from_records(
    records: Iterable[tuple[str, Mapping[str, object]] | Mapping[str, object]],
    field_map: FieldMap,
    known_account_ids: Collection[str],
    *,
    excluded_account_ids: Collection[str] = (),
    source: str = "records",
) -> CrmContacts:
    """Contacts from records already in memory; same rules as `read_crm_contacts`."""
    with paused_gc():
        return _contacts_from(
            _numbered(records, source), field_map, known_account_ids, excluded_account_ids
        )[0]


def _parse_datetime(text: str, tz: dt.tzinfo) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        value = None
        for fmt in _DATE_FORMATS:
            try:
                value = dt.datetime.strptime(text, fmt)  # the zone is added below
                break
            except ValueError:
                continue
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=tz)
    return value


def _contacts_from(
    rows: Iterable[tuple[str, dict[str, str] | str]],
    field_map: FieldMap,
    known_account_ids: Collection[str],
    excluded_account_ids: Collection[str],
) -> tuple[CrmContacts, list[Contact]]:
    """The contacts read, and apart the contacts of excluded accounts (also listed as
    excluded) for a snapshot that keeps them."""
    known = set(known_account_ids)
    excluded_ids = set(excluded_account_ids)
    kept, columns, rejections = _rows_by_id(rows, field_map, CONTACT_FIELDS, "contact")
    excluded: list[Rejection] = []
    warnings: list[Rejection] = []
    contacts: list[Contact] = []
    held: list[Contact] = []
    built: list[tuple[Contact, str, str]] = []
    if columns is None:
        return CrmContacts(rejections=tuple(rejections)), held
    for record_id in sorted(kept):
        where, fields, _ = kept[record_id]
        raw = _raw_text(fields)
        account_text = cell(fields, columns["contact_account_id"])
        parts = (
            [account_text]
            if field_map.list_separator is None
            else account_text.split(field_map.list_separator)
        )
        account_ids = sorted({field_map.record_id(a) for a in parts if a.strip()})
        if not account_ids:
            rejections.append(
                Rejection.of(
                    where,
                    f"the contact has no account ({columns['contact_account_id']!r} is empty)",
                    raw,
                    record_id,
                )
            )
            continue
        email_text = cell(fields, columns["contact_email"])
        email: EmailAddress | None = None
        if email_text:
            try:
                email = EmailAddress.parse(email_text)
            except InvalidEmail as exc:
                rejections.append(
                    Rejection.of(where, f"unparsable email {email_text!r}: {exc.reason}", raw,
                                 record_id)
                )
                continue
        phone_text = cell(fields, columns["contact_phone"])
        phone: str | None = None
        if phone_text:
            try:
                phone = normalize_phone(phone_text, field_map.phone_region)
            except InvalidPhone as exc:
                rejections.append(
                    Rejection.of(where, f"unparsable phone {phone_text!r}: {exc.reason}", raw,
                                 record_id)
                )
                continue
        name = cell(fields, columns["contact_name"])
        if not name:
            name = " ".join(
                p for p in (cell(fields, columns["contact_first_name"]),
                            cell(fields, columns["contact_last_name"])) if p
            )
        created_text = cell(fields, columns["contact_created_at"])
        created = _parse_datetime(created_text, field_map.naive_timezone) if created_text else None
        if created_text and created is None:
            warnings.append(
                Rejection.of(
                    where,
                    f"{columns['contact_created_at']}: {created_text!r} is not a date-time; "
                    "creation time ignored",
                    created_text,
                    record_id,
                )
            )
        for account_id in account_ids:
            contact_id = record_id if len(account_ids) == 1 else f"{record_id}/{account_id}"
            if account_id not in known and account_id not in excluded_ids:
                rejections.append(
                    Rejection.of(where, f"unknown account {account_id!r}", raw, contact_id)
                )
                continue
            try:
                contact = Contact(
                    id=contact_id,
                    account_id=account_id,
                    email=email,
                    phone=phone,
                    name=name or None,
                    title=cell(fields, columns["contact_title"]) or None,
                    created_at=created,
                )
            except InvalidRecord as exc:
                rejections.append(Rejection.of(where, exc.reason, raw, contact_id))
                continue
            built.append((contact, where, raw))
    per_id = Counter(c.id for c, _, _ in built)
    for contact, where, raw in built:
        if per_id[contact.id] > 1:
            rejections.append(
                Rejection.of(
                    where,
                    f"contact id {contact.id!r} comes out of several rows: none of them is taken",
                    raw,
                    contact.id,
                )
            )
        elif contact.account_id in excluded_ids:
            excluded.append(
                Rejection.of(
                    where, f"its account {contact.account_id!r} is not selected", raw, contact.id
                )
            )
            held.append(contact)
        else:
            contacts.append(contact)
    read = CrmContacts(
        contacts=contacts,
        rejections=tuple(sorted(rejections, key=_rejection_key)),
        excluded=tuple(sorted(excluded, key=_rejection_key)),
        warnings=tuple(sorted(warnings, key=_rejection_key)),
    )
    return read, held


def read_crm_export(
    accounts: str | os.PathLike[str],
    contacts: str | os.PathLike[str] | None,
    field_map: FieldMap,
    selector: AccountSelector,
) -> CrmSnapshot:
    """Read an accounts export and (optionally) a contacts export into one snapshot.

    Contacts of every usable account row are kept in `contacts` (a later plan with
    another selector may take their account); those of excluded accounts are also
    listed in `excluded`."""
    snapshot = read_crm_accounts(accounts, field_map, selector)
    if contacts is None:
        return snapshot
    header, rows = _csv_rows(contacts)
    _require(contacts, header, field_map, ("contact_id", "contact_account_id"))
    taken = {r.account.id for r in snapshot.records if r.taken}
    excluded = {r.account.id for r in snapshot.records if not r.taken}
    with paused_gc():
        read, held = _contacts_from(rows, field_map, taken, excluded)
        return snapshot.with_contacts(attrs.evolve(read, contacts=read.contacts + tuple(held)))
