"""Field mappings: which CRM column holds which part of an account or a contact.

`FieldMap.salesforce()` uses the standard API names of the Account and Contact objects
(as in Data Loader / Bulk API exports); `FieldMap.hubspot()` the column labels of the
companies and contacts exports. Every field can be overridden with `with_fields`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any, ClassVar, Final

import attrs

from stakeholder._display import attrs_repr
from stakeholder._errors import ConfigurationError
from stakeholder._identity import phone_region

__all__ = ["DealPipeline", "FieldMap", "salesforce_id18"]

_SF_SUFFIX_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SF_ID15: Final = re.compile(r"[A-Za-z0-9]{15}")


def salesforce_id18(record_id: str) -> str:
    """The 18-character, case-insensitive form of a 15-character Salesforce id.

    Reports export 15-character ids, Data Loader and the APIs 18-character ones; folding
    both to 18 characters lets a contact's `AccountId` find its account whichever export
    it came from. Anything that is not a 15-character alphanumeric id is returned as is.

    >>> salesforce_id18("001A000001AbCdE")
    '001A000001AbCdEIAV'
    """
    if not _SF_ID15.fullmatch(record_id):
        return record_id
    suffix = ""
    for start in (0, 5, 10):
        chunk = record_id[start : start + 5]
        bits = sum(1 << i for i, char in enumerate(chunk) if "A" <= char <= "Z")
        suffix += _SF_SUFFIX_ALPHABET[bits]
    return record_id + suffix


def _columns(value: object) -> tuple[str, ...]:
    """One column name or several candidates (the first present in a file wins)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable):
        raise ConfigurationError(f"a column name must be a string, got {value!r}")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ConfigurationError(f"a column name must be a non-empty string, got {item!r}")
        if item.strip() not in out:
            out.append(item.strip())
    return tuple(out)


def _casefolded(value: object) -> frozenset[str]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable):
        raise ConfigurationError(f"expected strings, got {value!r}")
    return frozenset(str(v).strip().casefold() for v in value if str(v).strip())


def _separator(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 1 or value.isspace():
        raise ConfigurationError(f"list_separator must be one character, got {value!r}")
    return value


def _region(value: object) -> str | None:
    if value is None:
        return None
    try:
        return phone_region(value)
    except ConfigurationError as exc:
        raise ConfigurationError(f"phone_region: {exc}") from None


def _tz(value: object) -> dt.tzinfo:
    if not isinstance(value, dt.tzinfo):
        raise ConfigurationError(f"naive_timezone must be a tzinfo, got {value!r}")
    return value


def _stage_key(text: str) -> str:
    """A stage name compared ignoring case, spaces and punctuation: HubSpot's label
    ``Decision Maker Bought-In`` and its internal name ``decisionmakerboughtin`` meet."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _stages(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable):
        raise ConfigurationError(f"deal stages must be strings, got {value!r}")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not _stage_key(item):
            raise ConfigurationError(f"a deal stage must be a non-empty name, got {item!r}")
        out.append(item.strip())
    return tuple(out)


@attrs.frozen
class DealPipeline:
    """Deal-stage names in pipeline order, and how they become the rank `Contact.deal_stage`
    holds (higher is further along, as the primary-contact cascade reads it).

    The n-th stage of `stages` has rank n (from 1); a stage in `lost` has rank 0, below
    every open stage (a lost deal is not further along than an open one). Names are
    compared ignoring case, spaces and punctuation, so a CRM's labels and its internal
    names both match. A cell holding a whole number is taken as the rank itself; any
    other name is unknown (`rank` returns `None`, and readers warn).
    """

    stages: tuple[str, ...] = attrs.field(converter=_stages)
    lost: tuple[str, ...] = attrs.field(default=(), converter=_stages)
    _ranks: dict[str, int] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        ranks: dict[str, int] = {}
        for rank, name in [*((i, s) for i, s in enumerate(self.stages, 1)),
                           *((0, s) for s in self.lost)]:
            key = _stage_key(name)
            if key in ranks:
                raise ConfigurationError(f"deal stage {name!r} is listed twice")
            ranks[key] = rank
        object.__setattr__(self, "_ranks", ranks)

    @classmethod
    def hubspot(cls) -> DealPipeline:
        """HubSpot's default sales pipeline."""
        return cls(
            stages=(
                "Appointment Scheduled",
                "Qualified To Buy",
                "Presentation Scheduled",
                "Decision Maker Bought-In",
                "Contract Sent",
                "Closed Won",
            ),
            lost=("Closed Lost",),
        )

    @classmethod
    def salesforce(cls) -> DealPipeline:
        """Salesforce's default opportunity stages."""
        return cls(
            stages=(
                "Prospecting",
                "Qualification",
                "Needs Analysis",
                "Value Proposition",
                "Id. Decision Makers",
                "Perception Analysis",
                "Proposal/Price Quote",
                "Negotiation/Review",
                "Closed Won",
            ),
            lost=("Closed Lost",),
        )

    def rank(self, name: str) -> int | None:
        """The rank of a stage name (or of a whole number written as text), else `None`."""
        text = name.strip()
        if text.isdigit():
            return int(text)
        return self._ranks.get(_stage_key(text))

    def to_dict(self) -> dict[str, Any]:
        return {"stages": list(self.stages), "lost": list(self.lost)}


def _pipeline(value: object) -> DealPipeline | None:
    if value is None or isinstance(value, DealPipeline):
        return value
    if isinstance(value, Iterable):
        return DealPipeline(_stages(value))
    raise ConfigurationError(f"pipeline must be a DealPipeline or stage names, got {value!r}")


def _custom(value: object) -> tuple[str, ...]:
    return tuple(sorted(_columns(value)))


_REQUIRED: Final = {"account_id", "account_name", "contact_id", "contact_account_id"}
ACCOUNT_FIELDS: Final = (
    "account_id",
    "account_name",
    "account_parent_id",
    "account_website",
    "account_extra_domains",
    "account_type",
    "account_location",
)
"""The column fields of an accounts export, in `FieldMap.COLUMN_FIELDS` order."""
CONTACT_FIELDS: Final = (
    "contact_id",
    "contact_account_id",
    "contact_email",
    "contact_phone",
    "contact_first_name",
    "contact_last_name",
    "contact_name",
    "contact_title",
    "contact_created_at",
    "contact_deal_stage",
    "contact_conversions",
    "contact_first_conversion_at",
    "contact_tags",
    "contact_company",
    "contact_location",
)
"""The column fields of a contacts export, in `FieldMap.COLUMN_FIELDS` order."""


@attrs.frozen
class FieldMap:
    """Column names of a CRM's account and contact exports, and how to read them.

    Each column field holds one name or several candidates; for each record, the first
    candidate with a value in that record is used (names are matched ignoring case and
    surrounding spaces), so a record that leaves a field out (as CRM APIs do for empty
    fields) reads the same as one with the field empty. The location fields are the
    exception: every candidate with a value is kept, joined with ``", "`` (city, state,
    country). `account_id`, `account_name`, `contact_id` and `contact_account_id` are
    required; a missing optional column leaves that part of every record empty.

    Options: `list_separator` splits multi-value cells (HubSpot's ``;``: several
    associated companies, additional domains); `partner_types` are the account type
    values (compared ignoring case) that make an account a partner; `salesforce_ids`
    folds 15-character ids to 18 characters; `phone_region` reads national phone
    numbers (without it only international ``+...`` numbers parse); `naive_timezone`
    is given to date-times written without an offset (HubSpot writes local times);
    `pipeline` turns deal-stage names into ranks (`DealPipeline`; `None` reads only
    numbers); `custom_fields` are further columns kept as they are, by name, on the
    records' `details`. Multi-value tags are split on `list_separator` (``;`` when it
    is not set).
    """

    COLUMN_FIELDS: ClassVar[tuple[str, ...]] = ACCOUNT_FIELDS + CONTACT_FIELDS

    crm: str
    account_id: tuple[str, ...] = attrs.field(converter=_columns)
    account_name: tuple[str, ...] = attrs.field(converter=_columns)
    account_parent_id: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    account_website: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    account_extra_domains: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    account_type: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    account_location: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    contact_id: tuple[str, ...] = attrs.field(default=("Id",), converter=_columns)
    contact_account_id: tuple[str, ...] = attrs.field(
        default=("AccountId",), converter=_columns
    )
    contact_email: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    contact_phone: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    contact_first_name: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    contact_last_name: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    contact_name: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    contact_title: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    contact_created_at: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    contact_deal_stage: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    contact_conversions: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    contact_first_conversion_at: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    contact_tags: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    contact_company: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    contact_location: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    list_separator: str | None = attrs.field(default=None, converter=_separator)
    partner_types: frozenset[str] = attrs.field(factory=frozenset, converter=_casefolded)
    salesforce_ids: bool = False
    phone_region: str | None = attrs.field(default=None, converter=_region)
    naive_timezone: dt.tzinfo = attrs.field(default=dt.UTC, converter=_tz)
    pipeline: DealPipeline | None = attrs.field(default=None, converter=_pipeline)
    custom_fields: tuple[str, ...] = attrs.field(default=(), converter=_custom)

    __repr__ = attrs_repr

    def __attrs_post_init__(self) -> None:
        for name in sorted(_REQUIRED):
            if not getattr(self, name):
                raise ConfigurationError(f"the field map needs a column for {name}")

    @classmethod
    def salesforce(cls) -> FieldMap:
        """Standard API names of the Salesforce Account and Contact objects."""
        return cls(
            crm="salesforce",
            account_id="Id",
            account_name="Name",
            account_parent_id="ParentId",
            account_website="Website",
            account_type="Type",
            account_location=("BillingCity", "BillingState", "BillingCountry"),
            contact_id="Id",
            contact_account_id="AccountId",
            contact_email="Email",
            contact_phone=("Phone", "MobilePhone"),
            contact_first_name="FirstName",
            contact_last_name="LastName",
            contact_name="Name",
            contact_title="Title",
            contact_created_at="CreatedDate",
            contact_deal_stage=("Deal_Stage__c", "StageName"),
            contact_conversions=("Conversions__c", "Number_of_Conversions__c"),
            contact_first_conversion_at=("First_Conversion_Date__c", "First_Conversion__c"),
            contact_tags=("Tags__c", "Tags"),
            contact_company=("Account.Name", "Company", "CompanyName"),
            contact_location=("MailingCity", "MailingState", "MailingCountry"),
            pipeline=DealPipeline.salesforce(),
            partner_types=(
                "Channel Partner / Reseller",
                "Installation Partner",
                "Technology Partner",
            ),
            salesforce_ids=True,
        )

    @classmethod
    def hubspot(cls) -> FieldMap:
        """Column labels of HubSpot's companies and contacts exports."""
        return cls(
            crm="hubspot",
            account_id="Record ID",
            account_name=("Company name", "Name"),
            account_parent_id=("Parent Company ID", "Parent Company", "Associated Company"),
            account_website=("Company Domain Name", "Website URL"),
            account_extra_domains="Additional Domains",
            account_type="Type",
            account_location=("City", "State/Region", "Country/Region"),
            contact_id="Record ID",
            contact_account_id=(
                "Associated Company IDs",
                "Associated Company IDs (Primary)",
                "Company ID",
                "Associated Company ID",
            ),
            contact_email="Email",
            contact_phone=("Phone Number", "Mobile Phone Number"),
            contact_first_name="First Name",
            contact_last_name="Last Name",
            contact_title="Job Title",
            contact_created_at="Create Date",
            contact_deal_stage=("Deal Stage", "Deal stage"),
            contact_conversions="Number of Form Submissions",
            contact_first_conversion_at="First Conversion Date",
            contact_tags="Tags",
            contact_company="Company Name",
            contact_location=("City", "State/Region", "Country/Region"),
            pipeline=DealPipeline.hubspot(),
            list_separator=";",
            partner_types=("Partner", "Reseller"),
        )

    @classmethod
    def named(cls, crm: str) -> FieldMap:
        """`salesforce()` or `hubspot()` by name (as the CLI's ``--crm`` takes it)."""
        key = crm.strip().lower() if isinstance(crm, str) else crm
        if key == "salesforce":
            return cls.salesforce()
        if key == "hubspot":
            return cls.hubspot()
        raise ConfigurationError(f"unknown CRM {crm!r}: expected 'salesforce' or 'hubspot'")

    def with_fields(self, **columns: str | Iterable[str] | None) -> FieldMap:
        """A copy with some columns renamed, e.g. ``with_fields(account_name="Legal_Name__c")``.

        A value may be one name, several candidates, or `None` / ``()`` to ignore an
        optional column. Unknown field names raise `ConfigurationError`."""
        unknown = sorted(set(columns) - set(self.COLUMN_FIELDS))
        if unknown:
            raise ConfigurationError(
                f"unknown field(s) {', '.join(unknown)}; known: {', '.join(self.COLUMN_FIELDS)}"
            )
        return attrs.evolve(self, **columns)  # type: ignore[arg-type]

    def with_options(self, **options: Any) -> FieldMap:
        """A copy with reading options changed (`list_separator`, `partner_types`,
        `salesforce_ids`, `phone_region`, `naive_timezone`, `pipeline`, `custom_fields`)."""
        allowed = {"list_separator", "partner_types", "salesforce_ids", "phone_region",
                   "naive_timezone", "pipeline", "custom_fields"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ConfigurationError(
                f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}"
            )
        return attrs.evolve(self, **options)

    def record_id(self, raw: str) -> str:
        """An id as stored: trimmed, and folded to 18 characters for Salesforce."""
        text = raw.strip()
        return salesforce_id18(text) if self.salesforce_ids and len(text) == 15 else text

    def columns(self) -> dict[str, tuple[str, ...]]:
        """Every column field and its candidate names."""
        return {name: getattr(self, name) for name in self.COLUMN_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"crm": self.crm}
        out.update({k: list(v) for k, v in self.columns().items()})
        out.update(
            list_separator=self.list_separator,
            partner_types=sorted(self.partner_types),
            salesforce_ids=self.salesforce_ids,
            phone_region=self.phone_region,
            naive_timezone=str(self.naive_timezone),
            pipeline=None if self.pipeline is None else self.pipeline.to_dict(),
            custom_fields=list(self.custom_fields),
        )
        return out

    def known_columns(self) -> frozenset[str]:
        """Every column name this map reads (any candidate, custom fields included),
        case-folded."""
        names = {c.casefold() for cs in self.columns().values() for c in cs}
        return frozenset(names | {c.casefold() for c in self.custom_fields})
