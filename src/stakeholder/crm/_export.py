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
import operator
import os
import re
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, NamedTuple

import attrs

from stakeholder._errors import (
    InputFileError,
    InvalidDomain,
    InvalidEmail,
    InvalidPhone,
    InvalidRecord,
)
from stakeholder._identity import EmailAddress, normalize_host, normalize_phone
from stakeholder._model import Account, AccountKind, AccountStatus, Contact, Rejection
from stakeholder.crm._columns import (
    ColumnResolver,
    Columns,
    RecordDetails,
    UnknownColumn,
    cell,
    joined,
)
from stakeholder.crm._fields import ACCOUNT_FIELDS, CONTACT_FIELDS, FieldMap
from stakeholder.crm._selection import AccountSelector, Selection, SelectionStatus
from stakeholder.ingest._files import csv_header

__all__ = [
    "CrmContacts",
    "CrmRecord",
    "CrmSnapshot",
    "RecordDetails",
    "UnknownColumn",
    "crm_accounts_from_records",
    "crm_contacts_from_records",
    "owned_contact_fields",
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


def _trusted_builder(cls: type[Any]) -> Callable[..., Any]:
    """A constructor of `cls` (a slotted attrs class) that sets the fields without running
    converters and validators, for values the reader has already parsed into their
    canonical form. Defaults are filled in as the public constructor fills them; the
    result equals (and hashes like) the value the public constructor builds from the same
    arguments (tests check it)."""
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    params, lines = [], []
    for i, field in enumerate(attrs.fields(cls)):
        name = field.name
        namespace[f"set{i}"] = cls.__dict__[name].__set__
        if field.default is attrs.NOTHING:
            params.append(name)
        elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            namespace[f"factory{i}"] = field.default.factory
            params.append(f"{name}=None")
            lines.append(f"    if {name} is None: {name} = factory{i}()")
        else:
            namespace[f"default{i}"] = field.default
            params.append(f"{name}=default{i}")
        lines.append(f"    set{i}(o, {name})")
    source = "\n".join([f"def build({', '.join(params)}):", "    o = new(cls)", *lines,
                        "    return o"])
    exec(source, namespace)  # noqa: S102 - generated from the class's own field names
    build: Callable[..., Any] = namespace["build"]
    return build


_new_contact: Final = _trusted_builder(Contact)
_new_account: Final = _trusted_builder(Account)


def _fields_dict(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


@attrs.frozen
class CrmRecord:
    """One usable account row: the `account` built from it (its `status` set by the
    selection when taken), the raw `fields` (column name to trimmed text) the selector
    reads, its `selection`, `where` it came from (``file:line``) and its `details`
    (location, custom fields)."""

    account: Account
    fields: Mapping[str, str] = attrs.field(converter=_fields_dict, eq=False)
    selection: Selection
    where: str = ""
    details: RecordDetails = attrs.field(factory=RecordDetails)

    @property
    def taken(self) -> bool:
        return self.selection.taken


_new_record: Final = _trusted_builder(CrmRecord)
"""`CrmRecord` from a reader's own fresh `fields` dict (not copied again)."""


def _records(value: Iterable[CrmRecord]) -> tuple[CrmRecord, ...]:
    return tuple(sorted(value, key=lambda r: r.account.id))


def contacts_by_id(value: Iterable[Contact]) -> tuple[Contact, ...]:
    """Contacts as a tuple sorted by id (the converter of every contacts field)."""
    return tuple(sorted(value, key=_BY_ID))


_BY_ID: Final = operator.attrgetter("id")


CONTACT_DATA_FIELDS: Final = frozenset(
    {"email", "phone", "name", "title", "created_at", "conversions", "first_conversion_at",
     "deal_stage", "tags"}
)
"""The `Contact` fields (beside `id` and `account_id`) a CRM export can supply."""


def owned_contact_fields(field_map: FieldMap) -> frozenset[str]:
    """The `Contact` fields the CRM owns under `field_map`: those it maps a column to.
    A sync writes these as exported and leaves the others as the store holds them."""
    columns = {
        "email": field_map.contact_email,
        "phone": field_map.contact_phone,
        "name": field_map.contact_name + field_map.contact_first_name
        + field_map.contact_last_name,
        "title": field_map.contact_title,
        "created_at": field_map.contact_created_at,
        "conversions": field_map.contact_conversions,
        "first_conversion_at": field_map.contact_first_conversion_at,
        "deal_stage": field_map.contact_deal_stage,
        "tags": field_map.contact_tags,
    }
    return frozenset(name for name, cols in columns.items() if cols)


def _details(value: Mapping[str, RecordDetails]) -> dict[str, RecordDetails]:
    return {k: value[k] for k in sorted(value) if value[k]}


def _unknown_columns(value: Iterable[UnknownColumn]) -> tuple[UnknownColumn, ...]:
    return tuple(sorted(value))


@attrs.frozen
class CrmContacts:
    """Contacts read from an export: those kept, those set aside (`rejections`), those
    of accounts the selector excludes (`excluded`) and values dropped from kept rows
    (`warnings`, e.g. an unreadable creation date), each contact's `details` (company,
    location, custom fields; only contacts that have some), the columns no field reads
    (`unknown_columns`) and the `Contact` fields the export owns (`owned_fields`)."""

    contacts: tuple[Contact, ...] = attrs.field(default=(), converter=contacts_by_id)
    rejections: tuple[Rejection, ...] = ()
    excluded: tuple[Rejection, ...] = ()
    warnings: tuple[Rejection, ...] = ()
    details: Mapping[str, RecordDetails] = attrs.field(
        factory=dict, converter=_details, eq=False, repr=False
    )
    unknown_columns: tuple[UnknownColumn, ...] = attrs.field(
        default=(), converter=_unknown_columns
    )
    owned_fields: frozenset[str] = CONTACT_DATA_FIELDS


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
      held contacts alone when planned, instead of deleting them as gone;
    - `details`: company, location and custom fields of contacts, by contact id;
    - `unknown_columns`: columns of either export that no field reads, with counts;
    - `owned_fields`: the `Contact` fields the CRM owns (those the field map reads);
      a sync leaves the others as the store holds them.
    """

    records: tuple[CrmRecord, ...] = attrs.field(default=(), converter=_records)
    contacts: tuple[Contact, ...] = attrs.field(default=(), converter=contacts_by_id)
    rejections: tuple[Rejection, ...] = ()
    excluded: tuple[Rejection, ...] = ()
    warnings: tuple[Rejection, ...] = ()
    contacts_read: bool = True
    details: Mapping[str, RecordDetails] = attrs.field(
        factory=dict, converter=_details, eq=False, repr=False
    )
    unknown_columns: tuple[UnknownColumn, ...] = attrs.field(
        default=(), converter=_unknown_columns
    )
    owned_fields: frozenset[str] = CONTACT_DATA_FIELDS

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
            details={**self.details, **contacts.details},
            unknown_columns=self.unknown_columns + contacts.unknown_columns,
            owned_fields=contacts.owned_fields,
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
            "unknown_columns": len(self.unknown_columns),
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
        lines.extend(f"  {u.explain()}" for u in self.unknown_columns)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "rejections": [r.to_dict() for r in self.rejections],
            "excluded": [r.to_dict() for r in self.excluded],
            "warnings": [r.to_dict() for r in self.warnings],
            "unknown_columns": [u.to_dict() for u in self.unknown_columns],
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

    width = len(header)
    plain = all(header) and len(set(header)) == width  # no empty or repeated names
    strip = str.strip

    def rows() -> Iterator[tuple[str, dict[str, str] | str]]:
        # `ingest`'s `csv_data_rows` (the same rows, places and reasons: blank lines
        # skipped, an unreadable row reported), in this one generator: it is the hot loop
        name = str(p)
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield f"{name}:{start}", f"unreadable CSV row: {exc}"
                start = reader.line_num + 1
                continue
            where = f"{name}:{start}"
            start = reader.line_num + 1
            if not "".join(row).strip():
                continue  # blank line
            if len(row) > width:
                yield where, f"the row has {len(row)} cells but the header has {width}"
                continue
            if plain and len(row) == width:
                yield where, dict(zip(header, map(strip, row), strict=False))
                continue
            fields: dict[str, str] = {}
            for column, value in zip(header, row, strict=False):
                if column and column not in fields:
                    fields[column] = value.strip()
            yield where, fields

    return header, rows()


def _require(
    path: object, header: Sequence[str], field_map: FieldMap, fields: Iterable[str]
) -> None:
    present = {h.strip().casefold() for h in header}
    missing = [
        f for f in fields if not any(c.casefold() in present for c in getattr(field_map, f))
    ]
    if missing:
        wanted = "; ".join(
            f"{f} ({' or '.join(repr(c) for c in getattr(field_map, f))})" for f in missing
        )
        raise InputFileError(
            path, f"the header lacks required column(s) {wanted}; it has {list(header)!r}"
        )


# --------------------------------------------------------------------------- accounts


_PLAIN_HOST: Final = re.compile(r"(?:https?://)?([A-Za-z0-9.-]+)(?:[/?#].*)?", re.DOTALL)


def _plain_host(text: str) -> str | None:
    """The host of a website written plainly (``acme.com``, ``https://www.acme.com/x``),
    as `urllib.parse.urlsplit` reads it, lower-cased; `None` for anything else (ports,
    user info, IPv6, other schemes), which goes through `urlsplit`."""
    found = _PLAIN_HOST.fullmatch(text)
    return None if found is None else found.group(1).lower()


def _website_domains(text: str, separator: str | None) -> tuple[list[str], list[str]]:
    """Host names in a website / domain cell, and the reasons for parts that are not."""
    parts = [text] if separator is None else text.split(separator)
    hosts: list[str] = []
    errors: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        host = _plain_host(part)
        if host is None:
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


def _label(columns: Columns, field_map: FieldMap, field: str) -> str:
    """The column a message names for `field`: the one present, else the map's first."""
    names = columns.get(field) or getattr(field_map, field)
    return repr(names[0]) if names else field


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
    kept = {k: v for k, v in first.items() if k not in repeated} if repeated else first
    rejections: list[Rejection] = []
    for record_id, group in repeated.items():
        wheres = ", ".join(w for w, _, _ in group)
        contents = {tuple(sorted((k, v) for k, v in f.items() if v)) for _, f, _ in group}
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
    resolver: ColumnResolver,
    what: str,
) -> tuple[dict[str, tuple[str, Mapping[str, str], Columns]], list[Rejection]]:
    """The first pass over the rows of an export of `what` ("account" or "contact"):
    the rows by id (`_duplicates`), each with its own columns (resolved from its own
    keys by `resolver`, which counts unknown columns), and the rows rejected so far
    (unreadable, no id, duplicate id)."""
    id_field = f"{what}_id"
    rejections: list[Rejection] = []
    parsed: list[tuple[str, str, Mapping[str, str], Columns]] = []
    columns_of = resolver.columns
    record_id = field_map.record_id
    for where, row in rows:
        if isinstance(row, str):
            rejections.append(Rejection.of(where, row))
            continue
        columns = columns_of(row)
        raw_id = cell(row, columns[id_field])
        if not raw_id:
            rejections.append(
                Rejection.of(
                    where,
                    f"missing {what} id ({_label(columns, field_map, id_field)} is empty)",
                    _raw_text(row),
                )
            )
            continue
        parsed.append((record_id(raw_id), where, row, columns))
    kept, duplicate_rejections = _duplicates(parsed, what)
    rejections.extend(duplicate_rejections)
    return kept, rejections


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
    resolver = ColumnResolver(
        field_map, ACCOUNT_FIELDS, "account", also_known=(selector.status_field,)
    )
    kept, rejections = _rows_by_id(rows, field_map, resolver, "account")
    warnings: list[Rejection] = []
    ids = set(kept)
    names: dict[str, list[str]] = defaultdict(list)
    for record_id, (_, fields, columns) in kept.items():
        name = cell(fields, columns["account_name"])
        if name:
            names[name.casefold()].append(record_id)

    records: list[CrmRecord] = []
    excluded: list[Rejection] = []
    for record_id in sorted(kept):
        where, fields, columns = kept[record_id]
        name = cell(fields, columns["account_name"])
        if not name:
            rejections.append(
                Rejection.of(
                    where,
                    f"missing account name ({_label(columns, field_map, 'account_name')} "
                    "is empty)",
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
        domains = _account_domains(
            where, record_id, fields, columns, field_map=field_map, warnings=warnings
        )
        kind = (
            AccountKind.PARTNER
            if cell(fields, columns["account_type"]).casefold() in field_map.partner_types
            else AccountKind.CUSTOMER
        )
        selection = selector.classify(fields)
        status = selection.status.account_status or AccountStatus.ACTIVE
        try:
            if "\x00" in record_id or (parent is not None and "\x00" in parent):
                account = Account(id=record_id, name=name, kind=kind, status=status,
                                  parent_id=parent, domains=domains)  # says why
            else:  # values parsed above into their canonical form
                account = _new_account(record_id, name, kind, status, parent,
                                       frozenset(domains))
        except InvalidRecord as exc:
            rejections.append(Rejection.of(where, exc.reason, _raw_text(fields), record_id))
            continue
        location = joined(fields, columns["account_location"])
        custom = _custom(fields, columns) if columns["custom_fields"] else ()
        details = RecordDetails(location=location or None, custom=custom) if (
            location or custom
        ) else _NO_DETAILS
        records.append(_new_record(account, fields, selection, where, details))
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
        unknown_columns=resolver.unknown(),
    )


def _account_domains(
    where: str,
    record_id: str,
    fields: Mapping[str, str],
    columns: Columns,
    *,
    field_map: FieldMap,
    warnings: list[Rejection],
) -> list[str]:
    """The hosts of an account's website and extra-domain cells; parts that are not
    host names become warnings."""
    domains: list[str] = []
    for column in ("account_website", "account_extra_domains"):
        text = cell(fields, columns[column])
        if not text:
            continue
        separator = field_map.list_separator if column == "account_extra_domains" else None
        hosts, errors = _website_domains(text, separator)
        domains.extend(hosts)
        label = _label(columns, field_map, column).strip("'")
        warnings.extend(
            Rejection.of(where, f"{label}: {e}; domain ignored", text, record_id)
            for e in errors
        )
    return domains


_NO_DETAILS: Final = RecordDetails()


def _custom(fields: Mapping[str, str], columns: Columns) -> tuple[tuple[str, str], ...]:
    """The custom fields with a value, by the name the field map gives them."""
    names = columns["custom_fields"]
    return tuple((name, fields[name]) for name in names if fields.get(name))


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


_DATE_FIELDS: Final = (
    ("contact_created_at", "created_at", "creation time"),
    ("contact_first_conversion_at", "first_conversion_at", "first conversion"),
)


def _contact_values(
    where: str,
    record_id: str,
    fields: Mapping[str, str],
    columns: Columns,
    *,
    field_map: FieldMap,
    warnings: list[Rejection],
) -> dict[str, Any] | Rejection:
    """The `Contact` keyword values of one contact row (the ids apart), or the rejection
    of the row (an unparsable email or phone). Values that cannot be read but do not
    make the row unusable (a date, a deal stage, a count) are left out with a warning."""
    values: dict[str, Any] = {}
    get = fields.get  # one column per field is the rule: read it without calling `cell`
    names = columns["contact_email"]
    email_text = (get(names[0]) or "") if len(names) == 1 else cell(fields, names)
    if email_text:
        try:
            values["email"] = EmailAddress.parse(email_text)
        except InvalidEmail as exc:
            return Rejection.of(where, f"unparsable email {email_text!r}: {exc.reason}",
                                _raw_text(fields), record_id)
    names = columns["contact_phone"]
    phone_text = (get(names[0]) or "") if len(names) == 1 else cell(fields, names)
    if phone_text:
        try:
            values["phone"] = normalize_phone(phone_text, field_map.phone_region)
        except InvalidPhone as exc:
            return Rejection.of(where, f"unparsable phone {phone_text!r}: {exc.reason}",
                                _raw_text(fields), record_id)
    names = columns["contact_name"]
    name = (get(names[0]) or "") if len(names) == 1 else cell(fields, names)
    if not name:
        names = columns["contact_first_name"]
        first = (get(names[0]) or "") if len(names) == 1 else cell(fields, names)
        names = columns["contact_last_name"]
        last = (get(names[0]) or "") if len(names) == 1 else cell(fields, names)
        name = f"{first} {last}" if first and last else first or last
    if name:
        values["name"] = name
    names = columns["contact_title"]
    title = (get(names[0]) or "") if len(names) == 1 else cell(fields, names)
    if title:
        values["title"] = title
    for field, key, what in _DATE_FIELDS:
        names = columns[field]
        text = (get(names[0]) or "") if len(names) == 1 else cell(fields, names)
        if text:
            when = _parse_datetime(text, field_map.naive_timezone)
            if when is None:
                _warn(_Row(where, record_id, fields, columns, field_map, warnings), field, text,
                      f"{text!r} is not a date-time; {what} ignored")
            else:
                values[key] = when
    if columns["contact_conversions"] or columns["contact_deal_stage"] or columns[
        "contact_tags"
    ]:
        _cascade_values(values, _Row(where, record_id, fields, columns, field_map, warnings))
    return values


class _Row(NamedTuple):
    """One contact row being read, for the readers of its optional values."""

    where: str
    record_id: str
    fields: Mapping[str, str]
    columns: Columns
    field_map: FieldMap
    warnings: list[Rejection]


def _warn(row: _Row, field: str, text: str, what: str) -> None:
    label = _label(row.columns, row.field_map, field).strip("'")
    row.warnings.append(Rejection.of(row.where, f"{label}: {what}", text, row.record_id))


def _cascade_values(values: dict[str, Any], row: _Row) -> None:
    """Conversions, deal stage (ranked by the pipeline) and tags of a contact row."""
    fields, columns, field_map = row.fields, row.columns, row.field_map
    text = cell(fields, columns["contact_conversions"])
    if text:
        number = text[:-2] if text.endswith(".0") else text
        if number.isdigit():
            values["conversions"] = int(number)
        else:
            _warn(row, "contact_conversions", text,
                  f"{text!r} is not a whole number of conversions; 0 taken")
    text = cell(fields, columns["contact_deal_stage"])
    if text:
        pipeline = field_map.pipeline
        if pipeline is not None:
            rank = pipeline.rank(text)
        else:
            rank = int(text) if text.isdigit() else None
        if rank is None:
            _warn(row, "contact_deal_stage", text,
                  f"{text!r} is not a stage of the pipeline; deal stage ignored")
        else:
            values["deal_stage"] = rank
    text = cell(fields, columns["contact_tags"])
    if text:
        separator = field_map.list_separator or ";"
        values["tags"] = frozenset(t.strip() for t in text.split(separator) if t.strip())


def _contact_details(fields: Mapping[str, str], columns: Columns) -> RecordDetails | None:
    """Company, location and custom fields of a contact row (`None` when it has none)."""
    if not (columns["contact_company"] or columns["contact_location"]
            or columns["custom_fields"]):
        return None
    company = cell(fields, columns["contact_company"]) if columns["contact_company"] else ""
    location = joined(fields, columns["contact_location"]) if columns["contact_location"] else ""
    custom = _custom(fields, columns) if columns["custom_fields"] else ()
    if not (company or location or custom):
        return None
    return RecordDetails(company or None, location or None, custom)


class _ContactRows:
    """The contacts built so far from the rows of one export, each output tagged with
    the record id of the row it came from (so a row found repeated later can be undone)."""

    def __init__(
        self, field_map: FieldMap, known: set[str], excluded_ids: set[str]
    ) -> None:
        self.field_map = field_map
        self.known = known
        self.excluded_ids = excluded_ids
        self.built: list[tuple[Contact, str, Mapping[str, str], str]] = []
        self.rejections: list[tuple[str, Rejection]] = []
        self.warnings: list[Rejection] = []
        self.warning_owners: list[str] = []
        self.details: dict[str, RecordDetails] = {}
        self._folded: dict[str, str] = {}  # account id as written -> as stored

    def _account_ids(self, text: str) -> list[str]:
        separator = self.field_map.list_separator
        if separator is not None:
            return sorted(
                {self.field_map.record_id(a) for a in text.split(separator) if a.strip()}
            )
        if not text:
            return []
        folded = self._folded.get(text)
        if folded is None:
            folded = self._folded[text] = self.field_map.record_id(text)
        return [folded]

    def add(self, record_id: str, where: str, fields: Mapping[str, str], columns: Columns) -> None:
        """Build the contact(s) of one row (one per associated account)."""
        field_map = self.field_map
        account_ids = self._account_ids(cell(fields, columns["contact_account_id"]))
        if not account_ids:
            label = _label(columns, field_map, "contact_account_id")
            self.rejections.append((record_id, Rejection.of(
                where, f"the contact has no account ({label} is empty)", _raw_text(fields),
                record_id,
            )))
            return
        warnings = self.warnings
        warned = len(warnings)
        values = _contact_values(
            where, record_id, fields, columns, field_map=field_map, warnings=warnings
        )
        if len(warnings) > warned:
            self.warning_owners.extend([record_id] * (len(warnings) - warned))
        if isinstance(values, Rejection):
            self.rejections.append((record_id, values))
            return
        row_details = _contact_details(fields, columns)
        known, single = self.known, len(account_ids) == 1
        for account_id in account_ids:
            contact_id = record_id if single else f"{record_id}/{account_id}"
            if account_id not in known and account_id not in self.excluded_ids:
                self.rejections.append((record_id, Rejection.of(
                    where, f"unknown account {account_id!r}", _raw_text(fields), contact_id
                )))
                continue
            try:
                if "\x00" in contact_id or "\x00" in account_id:  # the constructor says why
                    contact = Contact(id=contact_id, account_id=account_id, **values)
                else:  # values parsed above into their canonical form
                    contact = _new_contact(id=contact_id, account_id=account_id, **values)
            except InvalidRecord as exc:
                self.rejections.append(
                    (record_id, Rejection.of(where, exc.reason, _raw_text(fields), contact_id))
                )
                continue
            self.built.append((contact, where, fields, record_id))
            if row_details is not None:
                self.details[contact_id] = row_details

    def drop(self, record_ids: Collection[str]) -> None:
        """Forget everything built from the rows of `record_ids`."""
        gone = {b[0].id for b in self.built if b[3] in record_ids}
        self.built = [b for b in self.built if b[3] not in record_ids]
        self.rejections = [r for r in self.rejections if r[0] not in record_ids]
        kept = [i for i, owner in enumerate(self.warning_owners) if owner not in record_ids]
        self.warnings = [self.warnings[i] for i in kept]
        self.warning_owners = [self.warning_owners[i] for i in kept]
        self.details = {k: v for k, v in self.details.items() if k not in gone}


def _contacts_from(
    rows: Iterable[tuple[str, dict[str, str] | str]],
    field_map: FieldMap,
    known_account_ids: Collection[str],
    excluded_account_ids: Collection[str],
) -> tuple[CrmContacts, list[Contact]]:
    """The contacts read, and apart the contacts of excluded accounts (also listed as
    excluded) for a snapshot that keeps them.

    One pass: each row is built as it is read; a record id met again later undoes what
    its first row built, and `_duplicates` then decides (the earliest of identical rows
    is built again; differing rows are all rejected)."""
    excluded_ids = set(excluded_account_ids)
    resolver = ColumnResolver(field_map, CONTACT_FIELDS, "contact")
    built = _ContactRows(field_map, set(known_account_ids), excluded_ids)
    rejections: list[Rejection] = []
    first: dict[str, tuple[str, Mapping[str, str], Columns]] = {}
    repeated: dict[str, list[tuple[str, Mapping[str, str], Columns]]] = {}
    columns_of, record_id_of, add = resolver.columns, field_map.record_id, built.add
    for where, row in rows:
        if isinstance(row, str):
            rejections.append(Rejection.of(where, row))
            continue
        columns = columns_of(row)
        raw_id = cell(row, columns["contact_id"])
        if not raw_id:
            rejections.append(Rejection.of(
                where, f"missing contact id ({_label(columns, field_map, 'contact_id')} is "
                "empty)", _raw_text(row),
            ))
            continue
        record_id = record_id_of(raw_id)
        entry = (where, row, columns)
        if record_id in first:
            repeated.setdefault(record_id, [first[record_id]]).append(entry)
            continue
        first[record_id] = entry
        add(record_id, where, row, columns)
    if repeated:
        built.drop(repeated)
        kept, duplicate_rejections = _duplicates(
            ((rid, *entry) for rid, group in sorted(repeated.items()) for entry in group),
            "contact",
        )
        rejections.extend(duplicate_rejections)
        for record_id, (where, fields, columns) in sorted(kept.items()):
            add(record_id, where, fields, columns)
    rejections.extend(r for _, r in built.rejections)
    return _sorted_contacts(
        [(c, w, f) for c, w, f, _ in built.built], rejections, built.warnings,
        excluded_ids=excluded_ids, details=built.details, resolver=resolver,
        field_map=field_map,
    )


def _sorted_contacts(
    built: list[tuple[Contact, str, Mapping[str, str]]],
    rejections: list[Rejection],
    warnings: list[Rejection],
    *,
    excluded_ids: set[str],
    details: dict[str, RecordDetails],
    resolver: ColumnResolver,
    field_map: FieldMap,
) -> tuple[CrmContacts, list[Contact]]:
    """Contacts built from the rows, split into kept, of excluded accounts (held apart)
    and rejected (an id that several rows produce)."""
    excluded: list[Rejection] = []
    contacts: list[Contact] = []
    held: list[Contact] = []
    repeated: set[str] = set()
    if field_map.list_separator is not None:  # only then can two rows make one contact id
        per_id = Counter(c.id for c, _, _ in built)
        repeated = {cid for cid, n in per_id.items() if n > 1}
    for contact, where, fields in built:
        if contact.id not in repeated and contact.account_id not in excluded_ids:
            contacts.append(contact)
            continue
        raw = _raw_text(fields)
        if contact.id in repeated:
            details.pop(contact.id, None)
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
        details=details,
        unknown_columns=resolver.unknown(),
        owned_fields=owned_contact_fields(field_map),
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
