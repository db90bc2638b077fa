"""Values to rows and rows to values: the one place each back end's rows become the
library's types (and the rules for what can be stored, shared by every back end so that
they accept and refuse exactly the same things).

Storable text: any string without NUL (PostgreSQL cannot hold it) and without lone
surrogates (not UTF-8). Collections (domains, tags, account ids, evidence, counts) are
stored as JSON text with ASCII escapes, so they carry any string. Datetimes are stored as
ISO 8601 text with their UTC offset (exact round trip) beside an integer sort key:
microseconds since 1970-01-01 UTC.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sized
from typing import Any, Final, Protocol, TypeVar

import attrs

from stakeholder._errors import InvalidRecord
from stakeholder._identity import EmailAddress
from stakeholder._model import Account, CommKind, Contact, Rejection, Role
from stakeholder._ownership import SyncIssue
from stakeholder._progress import Progress, ProgressTicker
from stakeholder._routing import (
    Evidence,
    EvidenceKind,
    Override,
    RouteStatus,
    RoutingDecision,
    Strength,
)
from stakeholder.storage._records import RunRecord, WriteResult

T = TypeVar("T")
K = TypeVar("K")
Item = TypeVar("Item")

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND: Final = dt.timedelta(microseconds=1)

AccountRow = tuple[str, str, str, str, str, str | None, str, str]
ContactRow = tuple[
    str, str, str, str | None, bool, str | None, str | None, str | None,
    str | None, int, str | None, int | None, str,
]
DecisionRow = tuple[
    str, str, str, str, str, str, str, float, str | None, int | None, str | None, str, str,
    str,
]
DecisionAccountRow = tuple[str, str, str, int, int | None]
OverrideRow = tuple[str, str | None, str | None, str, str, str, str, str | None, str | None, int]
SyncIssueRow = tuple[str, str, str, str, str, str]
RunRow = tuple[str, str, str, int, str, str, str]


class Unstorable(Exception):  # noqa: N818 - internal signal, never escapes the package
    """A value that no back end can store; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- checks


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a lone surrogate (not UTF-8)"
    return None


def unstorable_reason(value: object) -> str | None:
    """Why no back end can store `value` in a plain column, or `None` when every back
    end can: the rules of docs/storage.md ("Storable values") for one value. Text
    without NUL and lone surrogates, integers within 64 bits, finite floats,
    timezone-aware datetimes, booleans and `None` are storable; other types are left
    to the field that holds them (this answers `None` for them)."""
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else "does not fit in 64 bits"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"is not a finite number ({value!r})"
    if isinstance(value, dt.datetime) and value.utcoffset() is None:
        return "is a naive datetime (no time zone)"
    return None


def text(value: object, what: str) -> str:
    """`value` as storable text, or `Unstorable`."""
    if type(value) is str and value.isascii() and "\x00" not in value:
        return value
    if not isinstance(value, str):
        raise Unstorable(f"{what} must be a string, not {type(value).__name__}")
    problem = _text_problem(value)
    if problem is not None:
        raise Unstorable(f"{what} {problem}")
    return value


def optional_text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if type(value) is str and value.isascii() and "\x00" not in value:
        return value
    return text(value, what)


def key(value: object, what: str) -> str:
    """A non-empty storable string (ids, comm ids, domains)."""
    if type(value) is str and value and value.isascii() and "\x00" not in value:
        return value
    result = text(value, what)
    if not result:
        raise Unstorable(f"{what} is empty")
    return result


def int64(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unstorable(f"{what} must be an integer")
    if not INT64_MIN <= value <= INT64_MAX:
        raise Unstorable(f"{what} does not fit in 64 bits")
    return value


def check_tenant(tenant: object) -> str:
    """A tenant is a non-empty string without NUL or lone surrogates; else `InvalidRecord`."""
    try:
        return key(tenant, "tenant")
    except Unstorable as exc:
        raise InvalidRecord(tenant, exc.reason) from None


def lookup_key(value: object, what: str) -> str | None:
    """A key to look up: `None` when no stored row can have it (so the answer is "not
    found"); `InvalidRecord` when it is not a string at all."""
    if not isinstance(value, str):
        raise InvalidRecord(value, f"{what} must be a string")
    if not value or _text_problem(value) is not None:
        return None
    return value


def instant(value: dt.datetime) -> int:
    """Microseconds since the epoch, UTC: the sort key of an aware datetime."""
    return (value - _EPOCH) // _MICROSECOND


def aware(value: object, what: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise Unstorable(f"{what} must be a timezone-aware datetime")
    return value


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def from_iso(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


_MISSING: Final = object()
_json: Final = json.JSONEncoder(separators=(",", ":")).encode


_SIMPLE: Final = re.compile(r'[ !#-\[\]-~]*')  # printable ASCII but " and \: JSON as is


def _json_strings(values: Iterable[object], what: str) -> str:
    """A JSON array of strings; a fast path for plain ASCII, `json` for the rest."""
    items = _string_list(values, what)
    if not items:
        return "[]"
    if _SIMPLE.fullmatch("".join(items)):
        return '["' + '","'.join(items) + '"]'
    return _json(items)


def _json_string(value: str | None) -> str:
    if value is None:
        return "null"
    if _SIMPLE.fullmatch(value):
        return f'"{value}"'
    return _json(value)


def _trusted(cls: type[T]) -> Callable[..., T]:
    """A constructor for values read back from the store's own rows: it sets the
    fields directly, in `attrs.fields` order, without running converters and
    validators again (the values passed them when they were written, and the
    converters are idempotent). About five times faster than `cls(...)`, which is
    what lets a million contacts load at the speed of the raw driver."""
    fields = attrs.fields(cls)  # type: ignore[arg-type]  # T is an attrs class here
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls, "MISSING": _MISSING}
    params, lines = [], []
    for i, field in enumerate(fields):
        name = field.name
        if field.default is attrs.NOTHING:
            params.append(name)
        else:  # a field added later with a default: filled in as the constructor would
            params.append(f"{name}=MISSING")
            default = field.default
            namespace[f"default{i}"] = default
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                lines.append(f"    if {name} is MISSING: {name} = default{i}.factory()")
            else:
                lines.append(f"    if {name} is MISSING: {name} = default{i}")
        slot = cls.__dict__.get(name)
        if slot is not None and hasattr(slot, "__set__"):  # slotted class: a member
            namespace[f"set{i}"] = slot.__set__
            lines.append(f"    set{i}(o, {name})")
        else:  # a class with a __dict__
            lines.append(f"    object.__setattr__(o, {name!r}, {name})")
    source = "\n".join(
        [f"def build({', '.join(params)}):", "    o = new(cls)", *lines, "    return o"]
    )
    exec(source, namespace)  # noqa: S102 - generated from the class's own field names
    build: Callable[..., T] = namespace["build"]
    return build


def _string_list(values: Iterable[object], what: str) -> list[str]:
    out = []
    for item in values:
        if not isinstance(item, str):
            raise Unstorable(f"{what} must hold strings")
        out.append(item)
    return out


def _id_list(values: Iterable[object], what: str) -> list[str]:
    return [key(item, what) for item in values]


# --------------------------------------------------------------------------- accounts


def account_row(tenant: str, account: object) -> AccountRow:
    if not isinstance(account, Account):
        raise Unstorable(f"expected an Account, got {type(account).__name__}")
    return (
        tenant,
        key(account.id, "id"),
        text(account.name, "name"),
        account.kind.value,
        account.status.value,
        None if account.parent_id is None else key(account.parent_id, "parent_id"),
        _json(sorted(_string_list(account.domains, "domains"))),
        _json(sorted(_string_list(account.aliases, "aliases"))),
    )


def account_from_row(row: tuple[Any, ...]) -> Account:
    """(id, name, kind, status, parent_id, domains, aliases) -> Account."""
    return Account(
        id=row[0],
        name=row[1],
        kind=row[2],
        status=row[3],
        parent_id=row[4],
        domains=frozenset(json.loads(row[5])),
        aliases=frozenset(json.loads(row[6])),
    )


ACCOUNT_COLUMNS: Final = ("id", "name", "kind", "status", "parent_id", "domains", "aliases")


# --------------------------------------------------------------------------- contacts


def _plain(value: object) -> bool:
    """Plain storable ASCII text (the common case, checked without function calls)."""
    return type(value) is str and value.isascii() and "\x00" not in value


def contact_row(tenant: str, contact: object) -> ContactRow:
    if type(contact) is not Contact and not isinstance(contact, Contact):
        raise Unstorable(f"expected a Contact, got {type(contact).__name__}")
    contact_id, account_id = contact.id, contact.account_id
    phone, name, title = contact.phone, contact.name, contact.title
    if not (
        type(contact_id) is str and contact_id.isascii() and "\x00" not in contact_id
        and type(account_id) is str and account_id.isascii() and "\x00" not in account_id
        and contact_id and account_id
    ):
        contact_id, account_id = key(contact_id, "id"), key(account_id, "account_id")
    if not (
        (phone is None or _plain(phone))
        and (name is None or _plain(name))
        and (title is None or _plain(title))
    ):
        phone = optional_text(phone, "phone")
        name = optional_text(name, "name")
        title = optional_text(title, "title")
    email = contact.email
    if type(email) is EmailAddress or isinstance(email, EmailAddress):
        email_text: str | None = text(f"{email.local}@{email.domain}", "email")
        valid = True
    else:
        email_text = optional_text(email, "email")
        valid = False
    created = contact.created_at
    first = contact.first_conversion_at
    conversions = contact.conversions
    deal_stage = contact.deal_stage
    tags = contact.tags
    if not (type(conversions) is int and 0 <= conversions <= INT64_MAX):
        conversions = int64(conversions, "conversions")
    if deal_stage is not None and not (
        type(deal_stage) is int and INT64_MIN <= deal_stage <= INT64_MAX
    ):
        deal_stage = int64(deal_stage, "deal_stage")
    return (
        tenant,
        contact_id,
        account_id,
        email_text,
        valid,
        phone,
        name,
        title,
        None if created is None else aware(created, "created_at").isoformat(),
        conversions,
        None if first is None else aware(first, "first_conversion_at").isoformat(),
        deal_stage,
        _json_strings(sorted(_string_list(tags, "tags")), "tags") if tags else "[]",
    )


CONTACT_COLUMNS: Final = (
    "id", "account_id", "email", "email_valid", "phone", "name", "title", "created_at",
    "conversions", "first_conversion_at", "deal_stage", "tags",
)

_fromiso = dt.datetime.fromisoformat
_loads = json.loads
_new_contact = _trusted(Contact)
_new_email = _trusted(EmailAddress)
_NO_TAGS: Final[frozenset[str]] = frozenset()
_STRING_SETS: Final[dict[str, frozenset[str]]] = {"[]": _NO_TAGS}
_STRING_SETS_KEPT: Final = 4096


def _string_set(text: str) -> frozenset[str]:
    """A JSON array of strings written by `_json_strings`, read back: without a
    backslash no string in it is escaped, so it splits on the separators. The first
    4,096 distinct arrays are remembered: a CRM uses few distinct tag sets, and the
    sets are immutable, so shared."""
    found = _STRING_SETS.get(text)
    if found is not None:
        return found
    result = frozenset(_loads(text) if "\\" in text else text[2:-2].split('","'))
    if len(_STRING_SETS) < _STRING_SETS_KEPT:
        _STRING_SETS[text] = result
    return result


class RowsToContacts(Protocol):
    def __call__(
        self, rows: Iterable[tuple[Any, ...]], out: list[Contact] | None = None, /
    ) -> list[Contact]: ...


def _contacts_trusted(
    rows: Iterable[tuple[Any, ...]], out: list[Contact] | None = None
) -> list[Contact]:
    """Rows in CONTACT_COLUMNS order -> Contacts, through the trusted constructors,
    appended to `out` (a new list when not given)."""
    out = [] if out is None else out
    for (contact_id, account_id, text, valid, phone, name, title, created, conversions,
         first, deal_stage, tags) in rows:
        email = text
        if text is not None and valid:
            local, _, domain = text.rpartition("@")
            email = _new_email(local, domain)
        out.append(
            _new_contact(
                contact_id,
                account_id,
                email,
                phone,
                name,
                title,
                None if created is None else _fromiso(created),
                conversions,
                None if first is None else _fromiso(first),
                deal_stage,
                _string_set(tags),
            )
        )
    return out


def _builder(cls: type[Any]) -> type[Any]:
    """A subclass of the frozen attrs class `cls` that adds nothing but plain attribute
    setting. A row becomes a value by filling one of these, one ordinary attribute
    store per field (no call per field, as `object.__setattr__` on a frozen value
    needs), and then turning it into a `cls` by `__class__` assignment, which CPython
    allows between a class and a subclass of the same layout. What comes out is an
    ordinary `cls` value, equal to one built by the public constructor."""
    namespace = {
        "__slots__": (),
        "__setattr__": object.__setattr__,  # both, or the type keeps a Python-level slot
        "__delattr__": object.__delattr__,
        "__init__": object.__init__,  # `builder()` is then a bare allocation
        "__module__": __name__,
    }
    return type(f"_{cls.__name__}Builder", (cls,), namespace)


_ContactBuilder: Final = _builder(Contact)
_EmailBuilder: Final = _builder(EmailAddress)


def _contacts_swapped(
    rows: Iterable[tuple[Any, ...]], out: list[Contact] | None = None
) -> list[Contact]:
    """Rows in CONTACT_COLUMNS order -> Contacts, through the builders, appended to `out`
    (the hot loop of reading contacts back: about half the time of `_contacts_trusted`)."""
    out = [] if out is None else out
    append = out.append
    fromiso = _fromiso
    known_sets = _STRING_SETS.get
    string_set = _string_set
    contact_class, email_class = Contact, EmailAddress
    contact_builder, email_builder = _ContactBuilder, _EmailBuilder
    for (contact_id, account_id, text, valid, phone, name, title, created, conversions,
         first, deal_stage, tags) in rows:
        if text is not None and valid:
            local, _, domain = text.rpartition("@")
            email = email_builder()
            email.local = local
            email.domain = domain
            email.__class__ = email_class
        else:
            email = text
        contact = contact_builder()
        contact.id = contact_id
        contact.account_id = account_id
        contact.email = email
        contact.phone = phone
        contact.name = name
        contact.title = title
        contact.created_at = None if created is None else fromiso(created)
        contact.conversions = conversions
        contact.first_conversion_at = None if first is None else fromiso(first)
        contact.deal_stage = deal_stage
        tag_set = known_sets(tags)
        contact.tags = string_set(tags) if tag_set is None else tag_set
        contact.__class__ = contact_class
        append(contact)
    return out


def _contacts_by_name(
    rows: Iterable[tuple[Any, ...]], out: list[Contact] | None = None
) -> list[Contact]:
    """Rows -> Contacts through the public constructors (the values changed shape),
    appended to `out`."""
    out = [] if out is None else out
    for row in rows:
        email = row[2]
        if email is not None and row[3]:
            local, _, domain = email.rpartition("@")
            email = EmailAddress(local=local, domain=domain)
        out.append(
            Contact(
                id=row[0], account_id=row[1], email=email, phone=row[4], name=row[5],
                title=row[6], created_at=from_iso(row[7]), conversions=row[8],
                first_conversion_at=from_iso(row[9]), deal_stage=row[10],
                tags=_string_set(row[11]),
            )
        )
    return out


_CONTACT_FIELDS: Final = (
    "id", "account_id", "email", "phone", "name", "title", "created_at", "conversions",
    "first_conversion_at", "deal_stage", "tags",
)


def _fastest_contacts_reader() -> RowsToContacts:
    """The fastest reader that gives exactly what the public constructors give here."""
    if (
        tuple(f.name for f in attrs.fields(Contact)) != _CONTACT_FIELDS
        or tuple(f.name for f in attrs.fields(EmailAddress)) != ("local", "domain")
    ):  # pragma: no cover - only if the values change shape: then go by name, more slowly
        return _contacts_by_name
    sample = (
        "c", "a", "jo@example.com", True, "+1 415", "Jo", None, "2024-01-02T03:04:05+01:00",
        2, None, 3, '["vip"]',
    )
    try:
        swapped = _contacts_swapped([sample])[0]
    except TypeError:  # pragma: no cover - an interpreter that refuses the swap
        return _contacts_trusted
    expected = _contacts_by_name([sample])[0]
    same = (
        type(swapped) is Contact
        and type(swapped.email) is EmailAddress
        and swapped == expected
        and hash(swapped) == hash(expected)
    )
    return _contacts_swapped if same else _contacts_trusted


contacts_from_rows: Final[RowsToContacts] = _fastest_contacts_reader()


def contact_from_row(row: tuple[Any, ...]) -> Contact:
    """A row in CONTACT_COLUMNS order -> Contact."""
    return contacts_from_rows((row,))[0]


# --------------------------------------------------------------------------- decisions


_VALUE: Final[dict[object, str]] = {
    m: m.value for kind in (RouteStatus, CommKind, EvidenceKind, Strength, Role) for m in kind
}
_ROUTE_STATUS: Final = {m.value: m for m in RouteStatus}
_COMM_KIND: Final = {m.value: m for m in CommKind}
_EVIDENCE_KIND: Final = {m.value: m for m in EvidenceKind}
_STRENGTH: Final = {m.value: m for m in Strength}
_ROLE: Final[dict[str | None, Role | None]] = {None: None, **{m.value: m for m in Role}}


def _evidence_json(evidence: Iterable[Evidence]) -> str:
    """A JSON array of `Evidence.to_dict()` objects (written out directly: this runs
    once per stored decision)."""
    parts = []
    for e in evidence:
        role = e.role
        parts.append(
            f'{{"kind":"{_VALUE[e.kind]}","strength":"{_VALUE[e.strength]}",'
            f'"account_ids":{_json_strings(e.account_ids, "evidence account_ids")},'
            f'"address":{_json_string(e.address)},'
            f'"role":{"null" if role is None else chr(34) + _VALUE[role] + chr(34)},'
            f'"detail":{_json_string(e.detail)}}}'
        )
    return f"[{','.join(parts)}]"


def decision_rows(
    tenant: str, decision: object
) -> tuple[DecisionRow, list[DecisionAccountRow]]:
    """The decision's row, and one timeline row per account it belongs to."""
    if type(decision) is not RoutingDecision and not isinstance(decision, RoutingDecision):
        raise Unstorable(f"expected a RoutingDecision, got {type(decision).__name__}")
    comm_id = key(decision.comm_id, "comm_id")
    account_ids = [key(a, "account_ids") for a in decision.account_ids]
    occurred = decision.occurred_at
    occurred_us = None if occurred is None else instant(aware(occurred, "occurred_at"))
    confidence = decision.confidence
    if isinstance(confidence, bool) or not isinstance(confidence, float | int):
        raise Unstorable("confidence must be a number")
    try:
        confidence = float(confidence)
    except OverflowError:
        raise Unstorable("confidence is too large to be a number") from None
    if not math.isfinite(confidence):
        raise Unstorable(f"confidence must be a finite number, not {confidence!r}")
    thread_id = decision.thread_id
    row: DecisionRow = (
        tenant,
        comm_id,
        _VALUE[decision.status],
        _json_strings(account_ids, "account_ids"),
        _json_strings([key(a, "candidates") for a in decision.candidates], "candidates"),
        _evidence_json(decision.evidence),
        text(decision.rule, "rule"),
        confidence,
        None if occurred is None else occurred.isoformat(),
        occurred_us,
        None if thread_id is None else key(thread_id, "thread_id"),
        _VALUE[decision.kind],
        text(decision.subject, "subject"),
        text(decision.reason, "reason"),
    )
    if len(account_ids) == 1:
        return row, [(tenant, account_ids[0], comm_id, 0, occurred_us)]
    seen: set[str] = set()
    timeline: list[DecisionAccountRow] = []
    for position, account_id in enumerate(account_ids):
        if account_id not in seen:
            seen.add(account_id)
            timeline.append((tenant, account_id, comm_id, position, occurred_us))
    return row, timeline


EncodedDecision = tuple[DecisionRow, list[DecisionAccountRow]]


def decision_key(encoded: EncodedDecision) -> tuple[str, RouteStatus]:
    """(comm_id, status) of an encoded decision: what the rule for repeats looks at."""
    row = encoded[0]
    return row[1], _ROUTE_STATUS[row[2]]


DECISION_COLUMNS: Final = (
    "comm_id", "status", "account_ids", "candidates", "evidence", "rule", "confidence",
    "occurred_at", "occurred_us", "thread_id", "kind", "subject", "reason",
)
_new_decision = _trusted(RoutingDecision)
_new_evidence = _trusted(Evidence)


def _enum(table: dict[str, T], kind: Callable[[str], T], value: str) -> T:
    found = table.get(value)
    return kind(value) if found is None else found  # kind() raises for an unknown value


def _evidence_from(data: dict[str, Any]) -> Evidence:
    role = data.get("role")
    return _new_evidence(
        kind=_enum(_EVIDENCE_KIND, EvidenceKind, data["kind"]),
        strength=_enum(_STRENGTH, Strength, data["strength"]),
        account_ids=tuple(data.get("account_ids", ())),
        address=data.get("address"),
        role=None if role is None else _enum(_ROLE, Role, role),  # type: ignore[arg-type]
        detail=data.get("detail", ""),
    )


def decision_from_row(row: tuple[Any, ...]) -> RoutingDecision:
    """A row in DECISION_COLUMNS order -> RoutingDecision."""
    occurred = row[7]
    return _new_decision(
        comm_id=row[0],
        status=_enum(_ROUTE_STATUS, RouteStatus, row[1]),
        account_ids=tuple(_loads(row[2])),
        candidates=() if row[3] == "[]" else tuple(_loads(row[3])),
        evidence=tuple(_evidence_from(e) for e in _loads(row[4])),
        rule=row[5],
        confidence=float(row[6]),
        occurred_at=None if occurred is None else _fromiso(occurred),
        thread_id=row[9],
        kind=_enum(_COMM_KIND, CommKind, row[10]),
        subject=row[11],
        reason=row[12],
    )


def decision_sort_key(decision: RoutingDecision) -> tuple[bool, int, str]:
    """Timeline order: timed first by instant, then comm_id."""
    occurred = decision.occurred_at
    return (occurred is None, 0 if occurred is None else instant(occurred), decision.comm_id)


# --------------------------------------------------------------------------- overrides


def override_row(tenant: str, override: object) -> OverrideRow:
    if not isinstance(override, Override):
        raise Unstorable(f"expected an Override, got {type(override).__name__}")
    at = aware(override.at, "at")
    return (
        tenant,
        None if override.comm_id is None else key(override.comm_id, "comm_id"),
        None if override.thread_id is None else key(override.thread_id, "thread_id"),
        _json(_id_list(override.account_ids, "account_ids")),
        text(override.author, "author"),
        text(override.reason, "reason"),
        at.isoformat(),
        None if override.address is None else key(override.address, "address"),
        None if override.host is None else key(override.host, "host"),
        instant(at),
    )


OVERRIDE_COLUMNS: Final = (
    "comm_id", "thread_id", "account_ids", "author", "reason", "at", "address", "host"
)


def override_from_row(row: tuple[Any, ...]) -> Override:
    """A row in OVERRIDE_COLUMNS order -> Override."""
    return Override(
        account_ids=tuple(_loads(row[2])),
        author=row[3],
        reason=row[4],
        at=_fromiso(row[5]),
        comm_id=row[0],
        thread_id=row[1],
        address=row[6],
        host=row[7],
    )


def override_target(override: Override) -> tuple[int, str]:
    """(0, comm_id), (1, thread_id), (2, address) or (3, host): the order of
    `OverrideRepository.active`."""
    if override.comm_id is not None:
        return (0, override.comm_id)
    if override.thread_id is not None:
        return (1, override.thread_id)
    if override.address is not None:
        return (2, override.address)
    return (3, override.host or "")


# --------------------------------------------------------------------------- sync issues


def sync_issue_row(tenant: str, issue: object) -> SyncIssueRow:
    if not isinstance(issue, SyncIssue):
        raise Unstorable(f"expected a SyncIssue, got {type(issue).__name__}")
    return (
        tenant,
        key(issue.domain, "domain"),
        _json(_id_list(issue.account_ids, "account_ids")),
        text(issue.reason, "reason"),
        text(issue.suggestion, "suggestion"),
        text(getattr(getattr(issue, "kind", None), "value", "conflict"), "kind"),
    )


SYNC_ISSUE_COLUMNS: Final = ("domain", "account_ids", "reason", "suggestion", "kind")


#: Whether `SyncIssue` has its `kind` field (the ownership layer added it).
_ISSUE_HAS_KIND: Final = "kind" in attrs.fields_dict(SyncIssue)


def sync_issue_from_row(row: tuple[Any, ...]) -> SyncIssue:
    extra = {"kind": row[4]} if _ISSUE_HAS_KIND else {}
    return SyncIssue(
        domain=row[0], account_ids=tuple(_loads(row[1])), reason=row[2], suggestion=row[3],
        **extra,
    )


# --------------------------------------------------------------------------- runs


def run_row(tenant: str, run: object) -> RunRow:
    if not isinstance(run, RunRecord):
        raise Unstorable(f"expected a RunRecord, got {type(run).__name__}")
    at = aware(run.at, "at")
    counts = {text(k, "count name"): int64(v, f"count {k!r}") for k, v in run.counts}
    return (
        tenant,
        key(run.run_id, "run_id"),
        at.isoformat(),
        instant(at),
        text(run.operation, "operation"),
        _json(counts),
        text(run.note, "note"),
    )


RUN_COLUMNS: Final = ("run_id", "at", "operation", "counts", "note")


def run_from_row(row: tuple[Any, ...]) -> RunRecord:
    return RunRecord(
        run_id=row[0], at=_fromiso(row[1]), operation=row[2], counts=_loads(row[3]), note=row[4]
    )


# --------------------------------------------------------------------------- batches


def item_id(item: object) -> str | None:
    """The id a rejection names, where the item has one."""
    for attribute in ("id", "comm_id", "domain", "run_id"):
        value = getattr(item, attribute, None)
        if isinstance(value, str):
            return value
    return None


#: How many items a batch write encodes between two progress calls.
PROGRESS_EVERY: Final = 10_000


def ticker(progress: Progress | None, items: Iterable[object]) -> ProgressTicker | None:
    """The progress ticker of one batch write (`None` without a callback): the total is
    known for a sized input. Close it once the write has committed."""
    if progress is None:
        return None
    total = len(items) if isinstance(items, Sized) else None
    return ProgressTicker(progress, total, every=PROGRESS_EVERY)


def finish(result: WriteResult, progress: ProgressTicker | None) -> WriteResult:
    """`result`, after the final progress call (the batch has committed)."""
    if progress is not None:
        progress.close()
    return result


def _encode_into(
    items: Iterable[Item],
    encode: Callable[[Item], T],
    where: str,
    encoded: list[T],
    rejections: list[Rejection],
) -> None:
    append = encoded.append
    for item in items:
        try:
            append(encode(item))
        except Unstorable as exc:
            rejections.append(Rejection.of(where, exc.reason, item, item_id(item)))


def encode_batch(
    items: Iterable[Item],
    encode: Callable[[Item], T],
    item_key: Callable[[T], K] | None,
    where: str,
    *,
    progress: ProgressTicker | None = None,
) -> tuple[list[T], list[Rejection]]:
    """Encode every item; set aside the unstorable ones and, when `item_key` is given,
    every item whose key a later item of the same batch repeats (the later one wins).
    `progress` advances every `PROGRESS_EVERY` items (the caller closes it once the
    write has committed)."""
    encoded: list[T] = []
    rejections: list[Rejection] = []
    if progress is None:
        _encode_into(items, encode, where, encoded, rejections)
    else:
        iterator = iter(items)
        while chunk := list(itertools.islice(iterator, PROGRESS_EVERY)):
            _encode_into(chunk, encode, where, encoded, rejections)
            progress.advance(len(chunk))
    if item_key is None:
        return encoded, rejections
    keys = [item_key(value) for value in encoded]
    if len(set(keys)) == len(keys):
        return encoded, rejections
    last: dict[K, int] = {k: i for i, k in enumerate(keys)}
    kept = []
    for i, value in enumerate(encoded):
        if last[keys[i]] == i:
            kept.append(value)
        else:
            rejections.append(
                Rejection.of(
                    where,
                    "duplicate id in this batch: a later item with the same id was written",
                    repr(keys[i]),
                    keys[i] if isinstance(keys[i], str) else None,
                )
            )
    return kept, rejections


def write_result(written: int, rejections: list[Rejection]) -> WriteResult:
    return WriteResult(written, tuple(rejections))


def one(encode: Callable[[], T], raw: object) -> T:
    """Encode one value for a single-item call: `InvalidRecord` when it cannot be stored."""
    try:
        return encode()
    except Unstorable as exc:
        raise InvalidRecord(raw, exc.reason) from None


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
