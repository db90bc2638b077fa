"""Reading contact rows: each row's values parsed (a bad email or phone rejects the row,
a bad date, stage or count is a warning), one `Contact` per associated account, in one
pass that undoes a row whose id turns out repeated."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Final, NamedTuple

from stakeholder._errors import (
    InvalidEmail,
    InvalidPhone,
    InvalidRecord,
)
from stakeholder._identity import EmailAddress, normalize_phone
from stakeholder._model import Contact, Rejection
from stakeholder.crm._columns import (
    ColumnResolver,
    Columns,
    RecordDetails,
    cell,
    joined,
)
from stakeholder.crm._fields import CONTACT_FIELDS, FieldMap
from stakeholder.crm._rows import _custom, _duplicates, _label, _raw_text, _rejection_key
from stakeholder.crm._snapshot import CrmContacts, _new_contact, owned_contact_fields

_DATE_FORMATS: Final = (
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)


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
        # what was built, in parallel lists (no tuple per row: fewer objects to allocate
        # and for the garbage collector to scan once the read is over)
        self.contacts: list[Contact] = []
        self.wheres: list[str] = []
        self.fieldses: list[Row] = []
        self.owners: list[str] = []
        self.rejections: list[tuple[str, Rejection]] = []
        self.warnings: list[Rejection] = []
        self.warning_owners: list[str] = []
        self.details: dict[str, RecordDetails] = {}
        self.excluded_at: list[int] = []  # positions in `contacts` of excluded accounts'
        self._folded: dict[str, str] = {}  # account id as written -> as stored
        # each record id's first row, the rows of ids met again, rows without an id
        self.first: dict[str, tuple[str, Row, Columns]] = {}
        self.repeated: dict[str, list[tuple[str, Mapping[str, str], Columns]]] = {}
        self.unread: list[Rejection] = []
        self.header: tuple[str, ...] = ()  # the names of the cells of a list row

    def mapping(self, row: Row) -> Mapping[str, str]:
        """A row's fields by column name (a list of cells is read with `header`)."""
        return dict(zip(self.header, row, strict=True)) if type(row) is list else row  # type: ignore[return-value]

    def take(self, where: str, row: Mapping[str, str], columns: Columns) -> None:
        """Read one row: its id checked (a repeated id is set aside for `_duplicates`),
        then its contact(s) built."""
        raw_id = cell(row, columns["contact_id"])
        if not raw_id:
            label = _label(columns, self.field_map, "contact_id")
            self.unread.append(Rejection.of(
                where, f"missing contact id ({label} is empty)", _raw_text(row)
            ))
            return
        record_id = self.field_map.record_id(raw_id)
        entry = (where, row, columns)
        if record_id in self.first:
            where_first, row_first, columns_first = self.first[record_id]
            self.repeated.setdefault(
                record_id, [(where_first, self.mapping(row_first), columns_first)]
            ).append(entry)
            return
        self.first[record_id] = entry
        self.add(record_id, where, row, columns)

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
            if account_id in self.excluded_ids:
                self.excluded_at.append(len(self.contacts))
            self.contacts.append(contact)
            self.wheres.append(where)
            self.fieldses.append(fields)
            self.owners.append(record_id)
            if row_details is not None:
                self.details[contact_id] = row_details

    def drop(self, record_ids: Collection[str]) -> None:
        """Forget everything built from the rows of `record_ids` (the lists of contacts
        are changed in place: `_plain_adder`s hold them)."""
        keep = [i for i, owner in enumerate(self.owners) if owner not in record_ids]
        gone = {c.id for c in self.contacts} - {self.contacts[i].id for i in keep}
        self.contacts[:] = [self.contacts[i] for i in keep]
        self.wheres[:] = [self.wheres[i] for i in keep]
        self.fieldses[:] = [self.fieldses[i] for i in keep]
        self.owners[:] = [self.owners[i] for i in keep]
        self.excluded_at[:] = [
            i for i, c in enumerate(self.contacts) if c.account_id in self.excluded_ids
        ]
        self.rejections = [r for r in self.rejections if r[0] not in record_ids]
        kept = [i for i, owner in enumerate(self.warning_owners) if owner not in record_ids]
        self.warnings = [self.warnings[i] for i in kept]
        self.warning_owners = [self.warning_owners[i] for i in kept]
        self.details = {k: v for k, v in self.details.items() if k not in gone}


_PLAIN_FIELDS: Final = (
    "contact_id", "contact_account_id", "contact_email", "contact_phone", "contact_name",
    "contact_first_name", "contact_last_name", "contact_title", "contact_created_at",
    "contact_first_conversion_at",
)
_GENERAL_FIELDS: Final = (
    "contact_conversions", "contact_deal_stage", "contact_tags", "contact_company",
    "contact_location", "custom_fields",
)

Row = Mapping[str, str] | list[str]
"""A contact row: its fields by column name, or (a full row of a CSV file whose header
names are distinct) its trimmed cells in header order."""
RowReader = Callable[[str, Row], None]


def _plain_reader(
    built: _ContactRows, columns: Columns, positions: Mapping[str, int] | None = None
) -> RowReader | None:
    """`built.take` for rows of one column set, its per-field decisions made once for the
    set: each field read from its one column, the contact built from the values
    directly. A row it cannot take as it comes (no id or a repeated one, no account or
    one not known, a value that does not parse, a NUL in an id) goes to `built.take`,
    which says why, so both paths give the same result. `None` when the column set
    needs `built.take` for every row: a field with several columns present, contacts in
    several accounts (a list separator), or a column of conversions, deal stage, tags or
    details. With `positions` (column name to index), rows are lists of cells."""
    field_map = built.field_map
    if field_map.list_separator is not None or any(
        len(columns[f]) > 1 for f in _PLAIN_FIELDS
    ) or any(columns[f] for f in _GENERAL_FIELDS):
        return None
    # each field's key in a row (its column's name, or its index in a list), None when
    # the column set lacks it; every other key is in every row of the set
    keys = [
        (columns[f][0] if positions is None else positions[columns[f][0]]) if columns[f]
        else None
        for f in _PLAIN_FIELDS
    ]
    (id_key, account_key, email_key, phone_key, name_key, first_key, last_key, title_key,
     created_key, converted_key) = keys
    region, tz = field_map.phone_region, field_map.naive_timezone
    dated = created_key is not None or converted_key is not None
    fold, fold15 = field_map.record_id, field_map.salesforce_ids
    folded, known, excluded = built._folded, built.known, built.excluded_ids
    first_rows, take, general, mapping = built.first, built.take, built.add, built.mapping
    parse_email, new_contact = EmailAddress.parse, _new_contact
    contacts, wheres, fieldses = built.contacts, built.wheres, built.fieldses
    owners, excluded_at = built.owners, built.excluded_at

    def read(where: str, row: Row) -> None:
        cells: Any = row  # indexed by `keys`, whichever kind of row it is
        record_id = cells[id_key] if id_key is not None else ""  # cells come trimmed
        if record_id and fold15 and len(record_id) == 15:
            record_id = fold(record_id)
        if not record_id or record_id in first_rows:
            take(where, mapping(row), columns)
            return
        first_rows[record_id] = (where, row, columns)
        text = cells[account_key] if account_key is not None else ""
        account_id = (folded.get(text) or folded.setdefault(text, fold(text))) if text else ""
        try:
            if not account_id or "\x00" in record_id or "\x00" in account_id or (
                account_id not in known and account_id not in excluded
            ):
                raise _NotPlainError
            text = cells[email_key] if email_key is not None else ""
            email = parse_email(text) if text else None
            text = cells[phone_key] if phone_key is not None else ""
            phone = normalize_phone(text, region) if text else None
            name = cells[name_key] if name_key is not None else ""
            if not name:
                first = cells[first_key] if first_key is not None else ""
                last = cells[last_key] if last_key is not None else ""
                name = f"{first} {last}" if first and last else first or last
            created = converted = None
            if dated:
                text = cells[created_key] if created_key is not None else ""
                created = _parse_datetime(text, tz) if text else None
                if text and created is None:
                    raise _NotPlainError
                text = cells[converted_key] if converted_key is not None else ""
                converted = _parse_datetime(text, tz) if text else None
                if text and converted is None:
                    raise _NotPlainError
        except (_NotPlainError, InvalidEmail, InvalidPhone):
            general(record_id, where, mapping(row), columns)
            return
        if account_id in excluded:
            excluded_at.append(len(contacts))
        title = cells[title_key] if title_key is not None else ""
        contacts.append(new_contact(record_id, account_id, email, phone, name or None,
                                    title or None, created, first_conversion_at=converted))
        wheres.append(where)
        fieldses.append(row)
        owners.append(record_id)

    return read


class _NotPlainError(Exception):
    """A row `_plain_reader` leaves to `_ContactRows.add`."""


def _contacts_from(
    rows: Iterable[tuple[str, dict[str, str] | list[str] | str]],
    field_map: FieldMap,
    known_account_ids: Collection[str],
    excluded_account_ids: Collection[str],
    *,
    keep_held: bool = False,
    header: Sequence[str] = (),
) -> tuple[CrmContacts, list[Contact]]:
    """The contacts read, and apart the contacts of excluded accounts (also listed as
    excluded) for a snapshot that keeps them (or, with `keep_held`, among the contacts).

    One pass: each row is built as it is read; a record id met again later undoes what
    its first row built, and `_duplicates` then decides (the earliest of identical rows
    is built again; differing rows are all rejected). A row that is a list holds the
    cells of `header` (distinct names)."""
    excluded_ids = set(excluded_account_ids)
    resolver = ColumnResolver(field_map, CONTACT_FIELDS, "contact")
    built = _ContactRows(field_map, set(known_account_ids), excluded_ids)
    rejections = built.unread
    readers: dict[int, RowReader | None] = {}  # by id() of a resolver's cached columns
    columns_of, take = resolver.columns, built.take
    last_columns: Columns | None = None
    plain: RowReader | None = None
    built.header = tuple(header)
    header_columns, unknown_at = resolver.of_header(header)
    by_position = _plain_reader(built, header_columns, {n: i for i, n in enumerate(header)})
    seen = resolver.seen
    for where, row in rows:
        if isinstance(row, list):  # a full row of a CSV file: its columns are the header's
            for i, name in unknown_at:
                if row[i]:
                    seen(name)
            if by_position is not None:
                by_position(where, row)
            else:
                take(where, built.mapping(row), header_columns)
            continue
        if isinstance(row, str):
            rejections.append(Rejection.of(where, row))
            continue
        columns = columns_of(row)
        if columns is not last_columns:  # another column set: its reader, made once
            last_columns = columns
            if id(columns) not in readers:
                readers[id(columns)] = _plain_reader(built, columns)
            plain = readers[id(columns)]
        if plain is not None:
            plain(where, row)
        else:
            take(where, row, columns)
    if built.repeated:
        built.drop(built.repeated)
        kept, duplicate_rejections = _duplicates(
            ((rid, *entry) for rid, group in sorted(built.repeated.items()) for entry in group),
            "contact",
        )
        rejections.extend(duplicate_rejections)
        for record_id, (where, fields, columns) in sorted(kept.items()):
            built.add(record_id, where, fields, columns)
    rejections.extend(r for _, r in built.rejections)
    return _sorted_contacts(
        built, rejections, excluded_ids=excluded_ids, resolver=resolver, field_map=field_map,
        keep_held=keep_held,
    )


def _sorted_contacts(
    built: _ContactRows,
    rejections: list[Rejection],
    *,
    excluded_ids: set[str],
    resolver: ColumnResolver,
    field_map: FieldMap,
    keep_held: bool,
) -> tuple[CrmContacts, list[Contact]]:
    """Contacts built from the rows, split into kept, of excluded accounts (held apart)
    and rejected (an id that several rows produce)."""
    excluded: list[Rejection] = []
    contacts: list[Contact] = []
    held: list[Contact] = []
    details = built.details
    repeated: set[str] = set()
    if field_map.list_separator is not None:  # only then can two rows make one contact id
        per_id = Counter(c.id for c in built.contacts)
        repeated = {cid for cid, n in per_id.items() if n > 1}
    if not repeated and not excluded_ids:
        contacts = built.contacts
    elif not repeated:  # the contacts of excluded accounts are where `excluded_at` says
        start = 0
        for i in built.excluded_at:
            contacts.extend(built.contacts[start:i])
            start = i + 1
            contact = built.contacts[i]
            excluded.append(Rejection.of(
                built.wheres[i], f"its account {contact.account_id!r} is not selected",
                _raw_text(built.mapping(built.fieldses[i])), contact.id,
            ))
            held.append(contact)
        contacts.extend(built.contacts[start:])
    else:
        for contact, where, fields in zip(
            built.contacts, built.wheres, built.fieldses, strict=True
        ):
            if contact.id not in repeated and contact.account_id not in excluded_ids:
                contacts.append(contact)
                continue
            raw = _raw_text(built.mapping(fields))
            if contact.id in repeated:
                details.pop(contact.id, None)
                rejections.append(Rejection.of(
                    where,
                    f"contact id {contact.id!r} comes out of several rows: none of them is taken",
                    raw,
                    contact.id,
                ))
            else:
                excluded.append(Rejection.of(
                    where, f"its account {contact.account_id!r} is not selected", raw,
                    contact.id,
                ))
                held.append(contact)
    read = CrmContacts(
        contacts=contacts + held if keep_held else contacts,
        rejections=tuple(sorted(rejections, key=_rejection_key)),
        excluded=tuple(sorted(excluded, key=_rejection_key)),
        warnings=tuple(sorted(built.warnings, key=_rejection_key)),
        details=details,
        unknown_columns=resolver.unknown(),
        owned_fields=owned_contact_fields(field_map),
    )
    return read, held
