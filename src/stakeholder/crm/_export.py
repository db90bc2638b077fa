"""Reading CRM exports: CSV files (or records from an API pull) to accounts and contacts.

A bad row never stops a read: it becomes a `Rejection` with the reason. Rows the
selector does not take are reported as *excluded*, not as errors. Only an unusable file
(missing, a directory, not UTF-8, no header, required columns absent) raises
`InputFileError`.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from typing import Final

from stakeholder._errors import (
    InvalidDomain,
    InvalidRecord,
)
from stakeholder._identity import normalize_host
from stakeholder._model import Account, AccountKind, AccountStatus, Rejection
from stakeholder.crm._columns import (
    ColumnResolver,
    Columns,
    RecordDetails,
    UnknownColumn,
    cell,
    joined,
)
from stakeholder.crm._contacts import _contacts_from
from stakeholder.crm._fields import ACCOUNT_FIELDS, FieldMap
from stakeholder.crm._rows import (
    _NO_DETAILS,
    _csv_rows,
    _csv_table,
    _custom,
    _label,
    _numbered,
    _raw_text,
    _rejection_key,
    _require,
    _rows_by_id,
)
from stakeholder.crm._selection import AccountSelector
from stakeholder.crm._snapshot import (
    CrmContacts,
    CrmRecord,
    CrmSnapshot,
    _new_account,
    _new_record,
    owned_contact_fields,
    paused_gc,
)

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
        if errors:
            label = _label(columns, field_map, column).strip("'")
            warnings.extend(
                Rejection.of(where, f"{label}: {e}; domain ignored", text, record_id)
                for e in errors
            )
    return domains


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
    header, rows = _csv_table(path, lists=True)
    _require(path, header, field_map, ("contact_id", "contact_account_id"))
    with paused_gc():
        return _contacts_from(
            rows, field_map, known_account_ids, excluded_account_ids, header=header
        )[0]


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
    header, rows = _csv_table(contacts, lists=True)
    _require(contacts, header, field_map, ("contact_id", "contact_account_id"))
    taken = {r.account.id for r in snapshot.records if r.taken}
    excluded = {r.account.id for r in snapshot.records if not r.taken}
    with paused_gc():
        read, _ = _contacts_from(
            rows, field_map, taken, excluded, keep_held=True, header=header
        )
        return snapshot.with_contacts(read)
