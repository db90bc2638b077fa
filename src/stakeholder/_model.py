"""Values: accounts, contacts, participants and communications (attrs, frozen).

Converters clean input, validators reject it. Constructors trust types they are given
(an `EmailAddress` stays as it is) and clean strings; a value that cannot be cleaned
raises a `StakeholderError` subclass with the raw value and a reason.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any, TypeVar

import attrs

from stakeholder._display import attrs_repr
from stakeholder._errors import InvalidEmail, InvalidRecord
from stakeholder._identity import EmailAddress, normalize_host

__all__ = [
    "Account",
    "AccountKind",
    "AccountStatus",
    "CommKind",
    "Communication",
    "Contact",
    "MailHeaders",
    "Participant",
    "Rejection",
    "Role",
]


class AccountKind(enum.StrEnum):
    """What an account is to us: a customer, or a partner (reseller, agency, integrator)."""

    CUSTOMER = "customer"
    PARTNER = "partner"


class AccountStatus(enum.StrEnum):
    """Whether an account is active or churned (churned accounts keep their history)."""

    ACTIVE = "active"
    CHURNED = "churned"


class Role(enum.StrEnum):
    """A participant's role in a communication."""

    FROM = "from"
    TO = "to"
    CC = "cc"
    BCC = "bcc"
    ORGANIZER = "organizer"
    ATTENDEE = "attendee"


class CommKind(enum.StrEnum):
    """What a communication is."""

    EMAIL = "email"
    MEETING = "meeting"
    CALL = "call"


# --------------------------------------------------------------------------- helpers

_E = TypeVar("_E", bound=enum.StrEnum)


def check_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """An id is a non-empty string without NUL (PostgreSQL cannot store NUL in text)."""
    if not isinstance(value, str):
        raise InvalidRecord(value, f"{attribute.name} must be a string")
    if not value:
        raise InvalidRecord(value, f"{attribute.name} is empty")
    if "\x00" in value:
        raise InvalidRecord(value, f"{attribute.name} contains a NUL character")


def _optional_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_id(instance, attribute, value)


def aware_datetime(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """attrs validator: `None` or a timezone-aware datetime (other layers' values use it)."""
    if value is None:
        return
    if not isinstance(value, dt.datetime):
        raise InvalidRecord(value, f"{attribute.name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord(value, f"{attribute.name} must be timezone-aware")


def _to_strs(value: object) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable):
        raise InvalidRecord(value, "expected a string or an iterable of strings")
    out = set()
    for item in value:
        if not isinstance(item, str):
            raise InvalidRecord(item, "expected a string")
        stripped = item.strip()
        if stripped:
            out.add(stripped)
    return frozenset(out)


def _to_domains(value: object) -> frozenset[str]:
    """Declared domains: canonical host names (IDNA ASCII, lower-case)."""
    return frozenset(normalize_host(d) for d in _to_strs(value))


def _to_email(value: object) -> EmailAddress | str | None:
    """An `EmailAddress`, or the raw text kept as it is when it cannot be parsed.

    A contact never refuses to exist because of a bad email: batch consumers count it as
    skipped, with the reason from `Contact.email_error`.
    """
    if value is None or isinstance(value, EmailAddress):
        return value
    if not isinstance(value, str):
        raise InvalidRecord(value, "email must be a string or an EmailAddress")
    if not value.strip():
        return None
    try:
        return EmailAddress.parse(value)
    except InvalidEmail:
        return value


def _to_phone(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRecord(value, "phone must be a string")
    return value.strip() or None


def _to_optional_str(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRecord(value, "expected a string")
    return value.strip() or None


def _to_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRecord(value, "expected an integer")
    return value


def _to_optional_int(value: object) -> int | None:
    return None if value is None else _to_int(value)


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 0:
        raise InvalidRecord(value, f"{attribute.name} must be >= 0")


_aware = aware_datetime


def enum_member(kind: type[_E], value: object, field: str | None = None) -> _E:
    """`value` as a member of `kind`: a member, or its value in any case and spacing;
    `field` names the value in the error (other layers' converters use it)."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value.strip().lower())
        except ValueError:
            pass
    choices = ", ".join(m.value for m in kind)
    what = f"{field} must be" if field else "expected"
    raise InvalidRecord(value, f"{what} one of {choices}")


_enum_member = enum_member


def _to_account_kind(value: object) -> AccountKind:
    return _enum_member(AccountKind, value)


def _to_account_status(value: object) -> AccountStatus:
    return _enum_member(AccountStatus, value)


def _to_role(value: object) -> Role:
    return _enum_member(Role, value)


def _to_comm_kind(value: object) -> CommKind:
    return _enum_member(CommKind, value)


def _strip_if_str(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _to_subject(value: object) -> object:
    return "" if value is None else value


# --------------------------------------------------------------------------- values


@attrs.frozen
class Account:
    """A customer or partner account.

    `domains` are its declared domains (its website); `aliases` are other names it goes
    by (used to break ties on subject lines); `parent_id` links a site to its corporate
    account.
    """

    id: str = attrs.field(validator=check_id)
    name: str = attrs.field(converter=_strip_if_str)
    kind: AccountKind = attrs.field(default=AccountKind.CUSTOMER, converter=_to_account_kind)
    status: AccountStatus = attrs.field(
        default=AccountStatus.ACTIVE, converter=_to_account_status
    )
    parent_id: str | None = attrs.field(default=None, validator=_optional_id)
    domains: frozenset[str] = attrs.field(factory=frozenset, converter=_to_domains)
    aliases: frozenset[str] = attrs.field(factory=frozenset, converter=_to_strs)

    __repr__ = attrs_repr

    @name.validator
    def _check_name(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or not value:
            raise InvalidRecord(value, "name must be a non-empty string")

    @parent_id.validator
    def _check_parent(self, attribute: attrs.Attribute[Any], value: str | None) -> None:
        if value is not None and value == self.id:
            raise InvalidRecord(value, "an account cannot be its own parent")


@attrs.frozen
class Contact:
    """One record of a person in one account (a person in three accounts is three records).

    `email` accepts a string (parsed) or an `EmailAddress`. Text that does not parse is
    kept as it is: `email_address` is then `None` and `email_error` says why. `phone`
    stays as written (national numbers need a region to read; see `e164()`).
    `deal_stage` is a rank: higher is further along.
    """

    id: str = attrs.field(validator=check_id)
    account_id: str = attrs.field(validator=check_id)
    email: EmailAddress | str | None = attrs.field(default=None, converter=_to_email)
    phone: str | None = attrs.field(default=None, converter=_to_phone)
    name: str | None = attrs.field(default=None, converter=_to_optional_str)
    title: str | None = attrs.field(default=None, converter=_to_optional_str)
    created_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    conversions: int = attrs.field(default=0, converter=_to_int, validator=_non_negative)
    first_conversion_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    deal_stage: int | None = attrs.field(default=None, converter=_to_optional_int)
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=_to_strs)

    __repr__ = attrs_repr

    @property
    def email_address(self) -> EmailAddress | None:
        """The parsed address, or `None` when there is none or it did not parse."""
        return self.email if isinstance(self.email, EmailAddress) else None

    @property
    def email_error(self) -> str | None:
        """Why `email` did not parse, or `None`."""
        if isinstance(self.email, str):
            try:
                EmailAddress.parse(self.email)
            except InvalidEmail as exc:
                return exc.reason
        return None


@attrs.frozen
class Participant:
    """Someone on a communication. `address` stays the raw string: it is parsed during
    routing, so one bad address cannot make a communication unconstructible."""

    address: str = attrs.field()
    role: Role = attrs.field(default=Role.TO, converter=_to_role)
    name: str | None = attrs.field(default=None, converter=_to_optional_str)

    @address.validator
    def _check_address(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str):
            raise InvalidRecord(value, "address must be a string")


def _to_participants(value: object) -> tuple[Participant, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidRecord(value, "participants must be an iterable of Participant")
    out = []
    for item in value:
        if not isinstance(item, Participant):
            raise InvalidRecord(item, "expected a Participant")
        out.append(item)
    return tuple(out)


@attrs.frozen
class MailHeaders:
    """The mail headers that say a message is list, bulk or automated mail, as read
    (unfolded, stripped; `None` when absent). Only these five are kept: the value stays
    small whatever the message carried."""

    list_id: str | None = attrs.field(default=None, converter=_to_optional_str)
    list_unsubscribe: str | None = attrs.field(default=None, converter=_to_optional_str)
    precedence: str | None = attrs.field(default=None, converter=_to_optional_str)
    auto_submitted: str | None = attrs.field(default=None, converter=_to_optional_str)
    x_auto_response_suppress: str | None = attrs.field(default=None, converter=_to_optional_str)

    @property
    def is_list(self) -> bool:
        """A mailing-list message: `List-Id` or `List-Unsubscribe` is present."""
        return self.list_id is not None or self.list_unsubscribe is not None

    @property
    def is_bulk(self) -> bool:
        """List, bulk or automated mail: a list header, `Precedence: bulk|list|junk`,
        `Auto-Submitted` other than `no`, or `X-Auto-Response-Suppress` present."""
        precedence = (self.precedence or "").strip().lower()
        auto = (self.auto_submitted or "no").strip().lower()
        return (
            self.is_list
            or precedence in {"bulk", "list", "junk"}
            or auto != "no"
            or self.x_auto_response_suppress is not None
        )


@attrs.frozen
class Communication:
    """An email, meeting or call. `occurred_at` is timezone-aware."""

    id: str = attrs.field(validator=check_id)
    occurred_at: dt.datetime = attrs.field(validator=_aware)
    participants: tuple[Participant, ...] = attrs.field(converter=_to_participants)
    thread_id: str | None = attrs.field(default=None, validator=_optional_id)
    subject: str = attrs.field(default="", converter=_to_subject)
    kind: CommKind = attrs.field(default=CommKind.EMAIL, converter=_to_comm_kind)
    headers: MailHeaders | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(MailHeaders))
    )

    __repr__ = attrs_repr

    @occurred_at.validator
    def _check_present(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            raise InvalidRecord(value, "occurred_at is required")

    @subject.validator
    def _check_subject(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str):
            raise InvalidRecord(value, "subject must be a string")

@attrs.frozen
class Rejection:
    """An input item a batch call set aside instead of raising: where it came from, its
    raw value (as text, shortened to 200 characters), and why."""

    where: str
    reason: str
    raw: str = ""
    record_id: str | None = None

    __repr__ = attrs_repr

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "reason": self.reason,
            "raw": self.raw,
            "record_id": self.record_id,
        }

    @classmethod
    def of(cls, where: str, reason: str, raw: object = "", record_id: object = None) -> Rejection:
        """Build one from anything: `raw` becomes shortened text, ids stay if strings."""
        text = raw if isinstance(raw, str) else repr(raw)
        if len(text) > 200:
            text = text[:200] + f"...<{len(text)} chars>"
        return cls(where, reason, text, record_id if isinstance(record_id, str) else None)
