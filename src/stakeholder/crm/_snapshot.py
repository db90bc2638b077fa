"""The values a CRM read returns: `CrmRecord`, `CrmContacts`, `CrmSnapshot`, and how
they are built fast (trusted constructors, the paused garbage collector)."""

from __future__ import annotations

import contextlib
import gc
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

import attrs

from stakeholder._display import attrs_repr
from stakeholder._model import Account, Contact, Rejection
from stakeholder.crm._columns import (
    RecordDetails,
    UnknownColumn,
)
from stakeholder.crm._fields import FieldMap
from stakeholder.crm._selection import Selection, SelectionStatus

__all__ = [
    "CONTACT_DATA_FIELDS",
    "CrmContacts",
    "CrmRecord",
    "CrmSnapshot",
    "contacts_by_id",
    "owned_contact_fields",
    "paused_gc",
]


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

    __repr__ = attrs_repr

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

    __repr__ = attrs_repr

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
