"""Shared contacts: one person's records in several accounts, their primary account,
the tags that say so, and optional copies in the corporate (parent) account.

Pure: no I/O, no clock. See docs/shared-contacts.md for the rules, with examples.

- `find_shared_contacts` links records transitively (union-find) through the canonical
  email (`Contact.email_address`) and/or the E.164 phone (`normalize_phone`), and keeps
  the groups that span two or more distinct accounts.
- `rank_primary` orders one person's records by a public, replaceable cascade of
  `RankingCriterion` objects and says which criterion decided.
- `plan_shared_contact_sync` turns the groups into tag changes and corporate copies;
  `apply_shared_contact_plan` applies a plan to a list of contacts (pure).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

import attrs
import phonenumbers

from stakeholder._errors import ConfigurationError, InvalidPhone, InvalidRecord
from stakeholder._identity import EmailAddress, normalize_phone
from stakeholder._model import Account, Contact, Rejection

__all__ = [
    "BY_CONVERSIONS",
    "BY_CREATED",
    "BY_DEAL_STAGE",
    "BY_FIRST_CONVERSION",
    "BY_RECORD_ID",
    "COPY_ID_PREFIX",
    "DEFAULT_CASCADE",
    "ENGAGING_TAG_PREFIX",
    "PRIMARY_TAG",
    "SECONDARY_TAG",
    "CopyAction",
    "CorporateCopy",
    "MatchLink",
    "MatchOn",
    "Prefer",
    "PrimaryRanking",
    "RankStep",
    "RankingCriterion",
    "SharedContactGroup",
    "SharedContactPlan",
    "SharedContactReport",
    "SharedContacts",
    "TagChange",
    "apply_shared_contact_plan",
    "copy_contact_id",
    "engaging_tag",
    "find_shared_contacts",
    "plan_shared_contact_sync",
    "primary_accounts",
    "rank_primary",
]

PRIMARY_TAG: Final = "primary-shared-contact"
"""System tag on the record of a shared person in their primary account."""
SECONDARY_TAG: Final = "secondary-shared-contact"
"""System tag on every other record of a shared person."""
ENGAGING_TAG_PREFIX: Final = "engaging-in-"
"""Prefix of the tags of a corporate copy: `engaging-in-<Account Name>[-primary]`."""
COPY_ID_PREFIX: Final = "shared-contact:"
"""Corporate copies have the id `shared-contact:<corporate account id>:<person key>`."""

_SYSTEM_TAGS: Final = frozenset({PRIMARY_TAG, SECONDARY_TAG})


class MatchOn(enum.StrEnum):
    """What links two records of one person.

    - `EMAIL`: the same canonical email address.
    - `PHONE`: the same E.164 phone number.
    - `EMAIL_OR_PHONE` (default): either; links chain transitively (A~B by email and
      B~C by phone put A, B and C in one group).
    - `EMAIL_AND_PHONE`: the same email *and* the same phone. The pair is the match key,
      so no chain can form: a record with that email and another phone is someone else
      (or a stale record). Records lacking either value are ignored in this mode.
    """

    EMAIL = "email"
    PHONE = "phone"
    EMAIL_OR_PHONE = "either"
    EMAIL_AND_PHONE = "both"

    @property
    def uses_email(self) -> bool:
        return self is not MatchOn.PHONE

    @property
    def uses_phone(self) -> bool:
        return self is not MatchOn.EMAIL


def _to_match_on(value: object) -> MatchOn:
    if isinstance(value, MatchOn):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        for member in MatchOn:
            if text in (member.value, member.name.lower()):
                return member
    choices = ", ".join(m.value for m in MatchOn)
    raise ConfigurationError(f"match_on must be one of {choices}, not {value!r}")


# --------------------------------------------------------------------------- ranking


class Prefer(enum.StrEnum):
    """Which end of a criterion's values wins."""

    HIGHEST = "highest"
    LOWEST = "lowest"


def _describe(value: object) -> str:
    if value is None:
        return "missing"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


@attrs.frozen
class RankingCriterion:
    """One step of the primary-account cascade.

    `value(record)` gives the record's value (`None` when it has none: missing values
    rank last); `prefer` says whether the highest or the lowest value wins; `label`
    names the step in explanations ("deal stage"). Build your own and pass a cascade
    (any sequence of criteria) to `rank_primary` or `plan_shared_contact_sync`.
    """

    name: str
    label: str
    value: Callable[[Contact], Any] = attrs.field(eq=False)
    prefer: Prefer = attrs.field(default=Prefer.HIGHEST, converter=Prefer)

    def compare(self, a: Contact, b: Contact) -> int:
        """Negative when `a` ranks before `b`, positive when after, 0 on a tie."""
        va, vb = self.value(a), self.value(b)
        if va is None and vb is None:
            return 0
        if va is None:
            return 1
        if vb is None:
            return -1
        if va == vb:
            return 0
        a_first = va > vb if self.prefer is Prefer.HIGHEST else va < vb
        return -1 if a_first else 1

    def describe(self, record: Contact) -> str:
        """The record's value as text (`"missing"` when it has none)."""
        return _describe(self.value(record))


def _deal_stage(c: Contact) -> int | None:
    return c.deal_stage


def _conversions(c: Contact) -> int:
    return c.conversions


def _first_conversion(c: Contact) -> dt.datetime | None:
    return c.first_conversion_at


def _created(c: Contact) -> dt.datetime | None:
    return c.created_at


def _record_id(c: Contact) -> str:
    return c.id


BY_DEAL_STAGE: Final = RankingCriterion("deal_stage", "deal stage", _deal_stage, Prefer.HIGHEST)
"""The record connected to the deal in the highest stage wins."""
BY_CONVERSIONS: Final = RankingCriterion(
    "conversions", "conversions", _conversions, Prefer.HIGHEST
)
"""The record with the most conversions wins."""
BY_FIRST_CONVERSION: Final = RankingCriterion(
    "first_conversion", "first conversion", _first_conversion, Prefer.LOWEST
)
"""The record with the earliest first conversion wins."""
BY_CREATED: Final = RankingCriterion("created", "created", _created, Prefer.LOWEST)
"""The record created first wins."""
BY_RECORD_ID: Final = RankingCriterion("record_id", "record id", _record_id, Prefer.LOWEST)
"""The record with the smallest id wins (always applied last, so a ranking is total)."""

DEFAULT_CASCADE: Final[tuple[RankingCriterion, ...]] = (
    BY_DEAL_STAGE,
    BY_CONVERSIONS,
    BY_FIRST_CONVERSION,
    BY_CREATED,
    BY_RECORD_ID,
)
"""Highest deal stage, most conversions, earliest first conversion, earliest created,
then the smallest record id."""


@attrs.frozen
class RankStep:
    """Why `winner` ranks above `loser`: the first criterion that told them apart."""

    winner_id: str
    winner_account_id: str
    winner_name: str
    loser_id: str
    loser_account_id: str
    loser_name: str
    criterion: str
    label: str
    winner_value: str
    loser_value: str
    tied_on: tuple[tuple[str, str], ...] = ()
    """(label, value) of each earlier criterion on which the two were equal."""

    def explain(self) -> str:
        text = (
            f"{self.winner_name} wins on {self.label} {self.winner_value} "
            f"over {self.loser_value} ({self.loser_name})"
        )
        if self.tied_on:
            ties = ", ".join(f"{label} ({value})" for label, value in self.tied_on)
            text += f", after ties on {ties}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "winner_id": self.winner_id,
            "winner_account_id": self.winner_account_id,
            "loser_id": self.loser_id,
            "loser_account_id": self.loser_account_id,
            "criterion": self.criterion,
            "winner_value": self.winner_value,
            "loser_value": self.loser_value,
            "tied_on": [label for label, _value in self.tied_on],
            "explanation": self.explain(),
        }


@attrs.frozen
class PrimaryRanking:
    """One person's records, best first, and why the first one is the primary.

    `steps` holds one `RankStep` per other record: how the primary beat it.
    `decided_by` names the criterion that separated the primary from the runner-up
    (`None` for a single record).
    """

    records: tuple[Contact, ...]
    steps: tuple[RankStep, ...]
    cascade: tuple[str, ...]

    @property
    def primary(self) -> Contact:
        return self.records[0]

    @property
    def decided_by(self) -> str | None:
        return self.steps[0].criterion if self.steps else None

    def explain(self) -> str:
        if not self.steps:
            return f"{self.primary.id} is the only record"
        return "; ".join(step.explain() for step in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "order": [c.id for c in self.records],
            "primary_id": self.primary.id,
            "primary_account_id": self.primary.account_id,
            "decided_by": self.decided_by,
            "cascade": list(self.cascade),
            "steps": [s.to_dict() for s in self.steps],
        }


AccountsArg = Iterable[Account] | Mapping[str, Account] | None


def _compare_all(cascade: Sequence[RankingCriterion], a: Contact, b: Contact) -> int:
    for criterion in cascade:
        result = criterion.compare(a, b)
        if result:
            return result
    return (a.account_id > b.account_id) - (a.account_id < b.account_id)


def _full_cascade(cascade: Iterable[RankingCriterion]) -> tuple[RankingCriterion, ...]:
    steps = tuple(cascade)
    for step in steps:
        if not isinstance(step, RankingCriterion):
            raise ConfigurationError(f"a cascade holds RankingCriterion objects, not {step!r}")
    if BY_RECORD_ID not in steps:
        steps += (BY_RECORD_ID,)
    return steps


def _names_of(accounts: AccountsArg) -> dict[str, str]:
    if accounts is None:
        return {}
    if isinstance(accounts, Mapping):
        return {k: a.name for k, a in accounts.items() if isinstance(a, Account)}
    return {a.id: a.name for a in accounts if isinstance(a, Account)}


def _rank(
    records: Sequence[Contact],
    cascade: tuple[RankingCriterion, ...],
    names: Mapping[str, str],
) -> PrimaryRanking:
    ordered = sorted(records, key=functools.cmp_to_key(functools.partial(_compare_all, cascade)))
    accounts_seen: dict[str, int] = defaultdict(int)
    for record in ordered:
        accounts_seen[record.account_id] += 1

    def label(record: Contact) -> str:
        name = names.get(record.account_id, record.account_id)
        return f"{name} [{record.id}]" if accounts_seen[record.account_id] > 1 else name

    primary = ordered[0]
    steps = []
    for other in ordered[1:]:
        tied: list[tuple[str, str]] = []
        for criterion in cascade:
            if criterion.compare(primary, other):
                steps.append(
                    RankStep(
                        winner_id=primary.id,
                        winner_account_id=primary.account_id,
                        winner_name=label(primary),
                        loser_id=other.id,
                        loser_account_id=other.account_id,
                        loser_name=label(other),
                        criterion=criterion.name,
                        label=criterion.label,
                        winner_value=criterion.describe(primary),
                        loser_value=criterion.describe(other),
                        tied_on=tuple(tied),
                    )
                )
                break
            tied.append((criterion.label, criterion.describe(primary)))
        else:  # equal on every criterion: same id in one account twice (caller's data)
            raise InvalidRecord(other.id, "two records with the same id cannot be ranked")
    return PrimaryRanking(tuple(ordered), tuple(steps), tuple(c.name for c in cascade))


def rank_primary(
    records: Iterable[Contact],
    cascade: Iterable[RankingCriterion] = DEFAULT_CASCADE,
    *,
    accounts: AccountsArg = None,
) -> PrimaryRanking:
    """Rank one person's records; the first is the primary (its account the primary one).

    The cascade is applied criterion by criterion; missing values rank last; the record
    id (smallest first) always ends the cascade, so the order is total. `accounts`
    (optional) gives the names used in explanations ("Elm Park wins on deal stage 5
    over 2 (Oak Lane)"). Raises `InvalidRecord` for no records, a non-`Contact` item or
    two records with the same id; `ConfigurationError` for a cascade that is not made
    of `RankingCriterion` objects.
    """
    items = list(records)
    if not items:
        raise InvalidRecord(items, "there are no records to rank")
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, Contact):
            raise InvalidRecord(item, "expected a Contact")
        if item.id in seen:
            raise InvalidRecord(item.id, "two records with the same id cannot be ranked")
        seen.add(item.id)
    return _rank(items, _full_cascade(cascade), _names_of(accounts))


# --------------------------------------------------------------------------- phones

_PHONE_SEPARATORS: Final = str.maketrans("", "", " -.")
_PLUS_DIGITS: Final = re.compile(r"\+[1-9][0-9]{6,14}")


@functools.cache
def _national_prefix(country_code: int) -> re.Pattern[str] | None:
    """The pattern of national prefixes libphonenumber strips for this country code."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    for region in regions:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
            country_code, region
        )
        if metadata is not None and metadata.national_prefix_for_parsing:
            return re.compile(metadata.national_prefix_for_parsing)
    return None


@functools.cache
def _regions_of(country_code: int) -> tuple[tuple[str, re.Pattern[str] | None], ...]:
    """The regions sharing a country code, each with its leading-digits pattern."""
    found = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is not None:
            leading = metadata.leading_digits
            found.append((region, re.compile(leading) if leading is not None else None))
    return tuple(found)


def _is_valid(number: phonenumbers.PhoneNumber) -> bool:
    """`phonenumbers.is_valid_number(number)`, step for step, without validating a number
    twice when several regions share its country code (+1, +44, +7, ...): upstream first
    finds the region by validating against each, then validates against the one found."""
    country_code = number.country_code
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code or 0)
    if country_code is None or not regions:
        return False
    if len(regions) == 1:
        return bool(phonenumbers.is_valid_number_for_region(number, regions[0]))
    national = phonenumbers.national_significant_number(number)
    for region, leading in _regions_of(country_code):
        if leading is not None:
            if leading.match(national):
                return bool(phonenumbers.is_valid_number_for_region(number, region))
        elif phonenumbers.is_valid_number_for_region(number, region):
            return True
    return False


def _e164_fast(raw: str, region: str | None = None) -> str | None:
    """The E.164 form of `raw` when it is certainly valid, else None (never a verdict of
    invalidity: the caller then asks `normalize_phone`, which gives the reason).

    A number written `+<country code><number>` (spaces, hyphens, dots allowed) is not
    re-parsed: its digits become a `PhoneNumber` checked with libphonenumber's own
    validity rules, unless a leading zero or a national prefix could change how
    libphonenumber reads it. Anything else is parsed as `normalize_phone` parses it.
    Either way the result equals `normalize_phone(raw, region)`; tests check it on every
    official example number, written several ways.
    """
    if len(raw) > 64 or not raw.isprintable():
        return None
    text = raw.strip()
    compact = text.translate(_PHONE_SEPARATORS)
    if _PLUS_DIGITS.fullmatch(compact) is not None:
        digits = compact[1:]
        for size in (1, 2, 3):
            country_code = int(digits[:size])
            if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                national = digits[size:]
                prefix = _national_prefix(country_code)
                if (
                    len(national) >= 2
                    and national[0] != "0"
                    and (prefix is None or prefix.match(national) is None)
                ):
                    number = phonenumbers.PhoneNumber(
                        country_code=country_code, national_number=int(national)
                    )
                    return compact if _is_valid(number) else None
                break
    try:
        number = phonenumbers.parse(text, region)
    except (phonenumbers.NumberParseException, ValueError, TypeError):
        return None
    if not _is_valid(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _e164_or_error(raw: str, region: str | None) -> str | InvalidPhone:
    fast = _e164_fast(raw, region)
    if fast is not None:
        return fast
    try:
        return normalize_phone(raw, region)
    except InvalidPhone as exc:
        return exc


# --------------------------------------------------------------------------- groups


@attrs.frozen
class MatchLink:
    """One value shared by several records of a group: how they matched."""

    kind: str
    """`"email"`, `"phone"` or `"email+phone"`."""
    value: str
    record_ids: tuple[str, ...]

    def explain(self) -> str:
        return f"{self.kind} {self.value} ({', '.join(self.record_ids)})"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "record_ids": list(self.record_ids)}


@attrs.frozen
class SharedContactGroup:
    """The records of one person found in two or more distinct accounts.

    `key` identifies the person (its smallest email, else its smallest phone; for
    `EMAIL_AND_PHONE` the pair `email|phone`). `records` are sorted by account id then
    record id; `account_ids` are the distinct accounts, sorted; `ranking` orders the
    records (its first is the `primary`); `links` say which values linked which
    records; `match_keys` are the values that linked them; `emails` and `phones` are
    every canonical email and E.164 phone of its records, whatever the match mode.
    """

    key: str
    records: tuple[Contact, ...]
    account_ids: tuple[str, ...]
    ranking: PrimaryRanking
    links: tuple[MatchLink, ...]
    match_on: MatchOn
    match_keys: tuple[str, ...] = ()
    """The values that linked the records (emails, phones or `email|phone` pairs)."""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    account_names: tuple[tuple[str, str], ...] = ()
    """(account id, name) for the accounts whose names were given."""

    @property
    def primary(self) -> Contact:
        """The record in the primary account."""
        return self.ranking.primary

    @property
    def primary_account_id(self) -> str:
        return self.ranking.primary.account_id

    @property
    def secondaries(self) -> tuple[Contact, ...]:
        """Every other record, best first."""
        return self.ranking.records[1:]

    @property
    def identifiers(self) -> frozenset[str]:
        """The match keys of this group (emails and/or phones, or `email|phone` pairs)."""
        return frozenset(self.match_keys)

    def _name(self, account_id: str) -> str:
        return dict(self.account_names).get(account_id, account_id)

    def explain(self) -> str:
        accounts = ", ".join(self._name(a) for a in self.account_ids)
        links = "; ".join(link.explain() for link in self.links)
        return (
            f"{self.key}: {len(self.records)} records in {len(self.account_ids)} accounts "
            f"({accounts}), matched on {self.match_on.value}: {links}. "
            f"Primary: {self._name(self.primary_account_id)} (record {self.primary.id}): "
            f"{self.ranking.explain()}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "match_on": self.match_on.value,
            "record_ids": [c.id for c in self.records],
            "account_ids": list(self.account_ids),
            "primary_id": self.primary.id,
            "primary_account_id": self.primary_account_id,
            "emails": list(self.emails),
            "phones": list(self.phones),
            "links": [link.to_dict() for link in self.links],
            "ranking": self.ranking.to_dict(),
            "explanation": self.explain(),
        }


@attrs.frozen
class SharedContactReport:
    """What `find_shared_contacts` looked at, set aside and found.

    `received` items in; `out_of_scope` outside `within`; `ignored` in scope but with
    no usable email/phone for the match mode; `rejections` each invalid value or
    unusable record (an invalid email or phone is reported and the record still
    matches on its other value); `single_account` components of several records that
    all sit in one account (duplicates, not shared).
    """

    received: int = 0
    out_of_scope: int = 0
    ignored: int = 0
    matched_records: int = 0
    groups: int = 0
    single_account: int = 0
    rejections: tuple[Rejection, ...] = ()

    def explain(self) -> str:
        return (
            f"{self.received} records: {self.groups} shared people over "
            f"{self.matched_records} records; {self.out_of_scope} out of scope, "
            f"{self.ignored} without a usable email/phone, {self.single_account} "
            f"duplicate sets within one account, {len(self.rejections)} rejected values"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "out_of_scope": self.out_of_scope,
            "ignored": self.ignored,
            "matched_records": self.matched_records,
            "groups": self.groups,
            "single_account": self.single_account,
            "rejections": [r.to_dict() for r in self.rejections],
        }


class SharedContacts(list[SharedContactGroup]):
    """What `find_shared_contacts` returns: a `list[SharedContactGroup]` (sorted by
    key) that also carries the `report` (counts and rejections)."""

    __slots__ = ("report",)

    def __init__(
        self,
        groups: Iterable[SharedContactGroup] = (),
        report: SharedContactReport | None = None,
    ) -> None:
        super().__init__(groups)
        self.report = report if report is not None else SharedContactReport()

    def explain(self) -> str:
        lines = [self.report.explain()]
        lines.extend(group.explain() for group in self)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"groups": [g.to_dict() for g in self], "report": self.report.to_dict()}


def _account_index(accounts: AccountsArg) -> tuple[dict[str, Account], list[Rejection]]:
    """Accounts by id. Identical duplicates count once; conflicting ones are all set
    aside (whatever their order), so their contacts become dangling references."""
    if accounts is None:
        return {}, []
    items: Iterable[object] = accounts.values() if isinstance(accounts, Mapping) else accounts
    by_id: dict[str, list[Account]] = defaultdict(list)
    rejections: list[Rejection] = []
    for item in items:
        if not isinstance(item, Account):
            rejections.append(Rejection.of("account", "expected an Account", item))
            continue
        by_id[item.id].append(item)
    index: dict[str, Account] = {}
    for account_id, found in by_id.items():
        if all(a == found[0] for a in found[1:]):
            index[account_id] = found[0]
        else:
            rejections.append(
                Rejection.of(
                    "account",
                    f"{len(found)} different accounts share this id; none is used",
                    account_id,
                    account_id,
                )
            )
    return index, rejections


def _descendants(index: Mapping[str, Account], root: str) -> frozenset[str]:
    children: dict[str, list[str]] = defaultdict(list)
    for account in index.values():
        if account.parent_id is not None:
            children[account.parent_id].append(account.id)
    seen: set[str] = set()
    stack = list(children.get(root, ()))
    while stack:
        account_id = stack.pop()
        if account_id in seen or account_id == root:
            continue
        seen.add(account_id)
        stack.extend(children.get(account_id, ()))
    return frozenset(seen)


def _dedupe_contacts(items: Iterable[object]) -> tuple[list[Contact], list[Rejection], int]:
    """Contacts with unique ids. Identical repeats count once (one rejection each);
    different records under one id are all set aside, whatever their order."""
    by_id: dict[str, Contact] = {}
    repeats: dict[str, list[Contact]] = {}
    rejections: list[Rejection] = []
    received = 0
    for item in items:
        received += 1
        if not isinstance(item, Contact):
            rejections.append(Rejection.of("contact", "expected a Contact", item))
            continue
        first = by_id.get(item.id)
        if first is None:
            by_id[item.id] = item
        else:
            repeats.setdefault(item.id, [first]).append(item)
    for contact_id, found in repeats.items():
        if all(c == found[0] for c in found[1:]):
            rejections.extend(
                Rejection.of(
                    "contact", "an identical repeat of another record; counted once",
                    contact_id, contact_id,
                )
                for _ in found[1:]
            )
        else:
            del by_id[contact_id]
            rejections.append(
                Rejection.of(
                    "contact",
                    f"{len(found)} different records share this id; none is used",
                    contact_id,
                    contact_id,
                )
            )
    return list(by_id.values()), rejections, received


@attrs.frozen
class _Scan:
    """The working state of one `find_shared_contacts` call (private)."""

    groups: SharedContacts
    in_scope: tuple[Contact, ...]
    accounts: dict[str, Account]
    phones: dict[str, str]


def _scan(
    contacts: Iterable[Contact],
    match_on: MatchOn | str,
    *,
    accounts: AccountsArg,
    within: str | None,
    default_region: str | None,
    cascade: Iterable[RankingCriterion],
    exclude: Callable[[Contact], bool] | None = None,
    within_name: str = "within",
) -> _Scan:
    mode = _to_match_on(match_on)
    steps = _full_cascade(cascade)
    index, rejections = _account_index(accounts)
    scope: frozenset[str] | None = None
    if within is not None:
        if accounts is None:
            raise ConfigurationError(f"{within_name}= needs accounts= to know the account tree")
        if within not in index:
            raise ConfigurationError(f"{within_name}={within!r} is not among the accounts")
        scope = _descendants(index, within)
    if default_region is not None:
        if not isinstance(default_region, str):
            raise ConfigurationError(f"default_region must be a string, not {default_region!r}")
        default_region = default_region.strip().upper() or None
    records, dup_rejections, received = _dedupe_contacts(contacts)
    rejections.extend(dup_rejections)

    use_email, use_phone = mode.uses_email, mode.uses_phone
    both = mode is MatchOn.EMAIL_AND_PHONE
    memo: dict[str, str | InvalidPhone] = {}
    e164_of: dict[str, str] = {}
    in_scope: list[Contact] = []
    keyed: list[Contact] = []
    keys: list[tuple[str, ...]] = []
    out_of_scope = ignored = 0
    for contact in records:
        if exclude is not None and exclude(contact):
            out_of_scope += 1
            continue
        if accounts is not None and contact.account_id not in index:
            rejections.append(
                Rejection.of(
                    "contact.account_id",
                    "the account is not among the accounts",
                    contact.account_id,
                    contact.id,
                )
            )
            continue
        if scope is not None and contact.account_id not in scope:
            out_of_scope += 1
            continue
        in_scope.append(contact)
        email: str | None = None
        phone: str | None = None
        if use_email:
            value = contact.email
            if isinstance(value, EmailAddress):
                email = f"{value.local}@{value.domain}"
            elif value is not None:
                rejections.append(
                    Rejection.of(
                        "contact.email", contact.email_error or "not an email address",
                        value, contact.id,
                    )
                )
        if use_phone and contact.phone is not None:
            raw = contact.phone
            result = memo.get(raw)
            if result is None:
                result = memo[raw] = _e164_or_error(raw, default_region)
            if isinstance(result, str):
                phone = result
                e164_of[contact.id] = result
            else:
                rejections.append(
                    Rejection.of("contact.phone", result.reason, raw, contact.id)
                )
        if both:
            found: tuple[str, ...] = (f"{email}|{phone}",) if email and phone else ()
        elif email and phone:
            found = (email, phone)
        elif email:
            found = (email,)
        elif phone:
            found = (phone,)
        else:
            found = ()
        if found:
            keyed.append(contact)
            keys.append(found)
        else:
            ignored += 1

    # union-find over records; a key's first record stands for it
    parent = list(range(len(keyed)))
    owner: dict[str, int] = {}
    linked: list[int] = []
    for i, found in enumerate(keys):
        for key in found:
            j = owner.setdefault(key, i)
            if j == i:
                continue
            # find roots (path halving) and join the larger root under the smaller
            a = i
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            b = j
            while parent[b] != b:
                parent[b] = parent[parent[b]]
                b = parent[b]
            if a != b:
                if a < b:
                    parent[b] = a
                else:
                    parent[a] = b
            linked.append(i)
            linked.append(j)
    members: dict[int, list[int]] = defaultdict(list)
    for i in set(linked):
        a = i
        while parent[a] != a:
            a = parent[a]
        members[a].append(i)

    names = {account_id: account.name for account_id, account in index.items()}
    groups: list[SharedContactGroup] = []
    matched = single_account = 0
    for component in members.values():
        group_records = [keyed[i] for i in component]
        account_ids = sorted({c.account_id for c in group_records})
        if len(account_ids) < 2:
            single_account += 1
            continue
        matched += len(group_records)
        group_keys = {k for i in component for k in keys[i]}
        groups.append(
            _build_group(
                group_records,
                record_keys=[keys[i] for i in component],
                group_keys=group_keys,
                account_ids=account_ids,
                mode=mode,
                cascade=steps,
                names=names,
                e164_of=e164_of,
                region=default_region,
            )
        )
    groups.sort(key=lambda g: g.key)
    rejections.sort(key=lambda r: (r.record_id or "", r.where, r.reason, r.raw))
    report = SharedContactReport(
        received=received,
        out_of_scope=out_of_scope,
        ignored=ignored,
        matched_records=matched,
        groups=len(groups),
        single_account=single_account,
        rejections=tuple(rejections),
    )
    return _Scan(SharedContacts(groups, report), tuple(in_scope), index, e164_of)


def _build_group(
    records: list[Contact],
    *,
    record_keys: list[tuple[str, ...]],
    group_keys: set[str],
    account_ids: list[str],
    mode: MatchOn,
    cascade: tuple[RankingCriterion, ...],
    names: Mapping[str, str],
    e164_of: Mapping[str, str],
    region: str | None,
) -> SharedContactGroup:
    by_key: dict[str, list[str]] = defaultdict(list)
    for record, found in zip(records, record_keys, strict=True):
        for key in found:
            by_key[key].append(record.id)
    emails = sorted({str(c.email_address) for c in records if c.email_address is not None})
    phones: set[str] = set()
    for c in records:
        if c.id in e164_of:
            phones.add(e164_of[c.id])
        elif c.phone is not None and mode is MatchOn.EMAIL:  # shown, not used to match
            value = _e164_or_error(c.phone, region)
            if isinstance(value, str):
                phones.add(value)
    if mode is MatchOn.EMAIL_AND_PHONE or mode is MatchOn.PHONE:
        key = min(group_keys)
    else:
        key = min((k for k in group_keys if "@" in k), default=None) or min(group_keys)

    def kind(key: str) -> str:
        if mode is MatchOn.EMAIL_AND_PHONE:
            return "email+phone"
        return "email" if "@" in key else "phone"

    links = tuple(
        MatchLink(kind(k), k, tuple(sorted(ids)))
        for k, ids in sorted(by_key.items(), key=lambda kv: (kind(kv[0]), kv[0]))
        if len(ids) > 1
    )
    ordered = tuple(sorted(records, key=lambda c: (c.account_id, c.id)))
    return SharedContactGroup(
        key=key,
        records=ordered,
        account_ids=tuple(account_ids),
        ranking=_rank(ordered, cascade, names),
        links=links,
        match_on=mode,
        match_keys=tuple(sorted(group_keys)),
        emails=tuple(emails),
        phones=tuple(sorted(phones)),
        account_names=tuple((a, names[a]) for a in account_ids if a in names),
    )


def find_shared_contacts(
    contacts: Iterable[Contact],
    match_on: MatchOn | str = MatchOn.EMAIL_OR_PHONE,
    *,
    accounts: AccountsArg = None,
    within: str | None = None,
    default_region: str | None = None,
    cascade: Iterable[RankingCriterion] = DEFAULT_CASCADE,
) -> SharedContacts:
    """Records of one person in two or more distinct accounts, linked transitively.

    Returns a `SharedContacts`: a `list[SharedContactGroup]` sorted by key, with a
    `.report` (counts and `Rejection`s). Invalid emails and phones are reported, not
    raised; records with no usable value for `match_on` are counted as `ignored`.

    - `accounts` (ids and names) is needed for `within` and gives names to
      explanations; when given, contacts of unknown accounts are rejected.
    - `within`: only the descendants (children, grandchildren, ...) of this corporate
      account are considered, not the account itself.
    - `default_region` reads national phone numbers ("020 7946 0018" with `"GB"`).
    - `cascade` ranks each group's records (see `rank_primary`).

    Raises `ConfigurationError` for an unknown `match_on`, `within` without `accounts`
    or a `within` that is not among them.
    """
    return _scan(
        contacts,
        match_on,
        accounts=accounts,
        within=within,
        default_region=default_region,
        cascade=cascade,
    ).groups


def primary_accounts(groups: Iterable[SharedContactGroup]) -> dict[str, str]:
    """Canonical email (`str(EmailAddress)`) -> primary account id, for each shared person.

    The hand-off to routing (`RoutingIndex.build(..., shared=...)`): every email of a
    group maps to that group's primary account. An email found in two groups with
    different primary accounts (possible only with `EMAIL_AND_PHONE`) is left out.
    """
    found: dict[str, set[str]] = defaultdict(set)
    for group in groups:
        for email in group.emails:
            found[email].add(group.primary_account_id)
    return {email: next(iter(ids)) for email, ids in sorted(found.items()) if len(ids) == 1}


# --------------------------------------------------------------------------- plan


def engaging_tag(account_name: str, *, primary: bool = False) -> str:
    """`engaging-in-<Account Name>` (plus `-primary`), the name kept as it is."""
    return f"{ENGAGING_TAG_PREFIX}{account_name}{'-primary' if primary else ''}"


def copy_contact_id(corporate_account_id: str, key: str) -> str:
    """The id of the corporate copy of the person `key`: deterministic, so planning twice
    gives the same id and an applied copy is recognised on the next run."""
    return f"{COPY_ID_PREFIX}{corporate_account_id}:{key}"


@attrs.frozen
class TagChange:
    """Tags to add to and remove from one contact record."""

    contact_id: str
    account_id: str
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()
    reason: str = ""

    def explain(self) -> str:
        parts = []
        if self.add:
            parts.append("add " + ", ".join(sorted(self.add)))
        if self.remove:
            parts.append("remove " + ", ".join(sorted(self.remove)))
        return f"{self.contact_id} ({self.account_id}): {'; '.join(parts)}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "account_id": self.account_id,
            "add": sorted(self.add),
            "remove": sorted(self.remove),
            "reason": self.reason,
        }


class CopyAction(enum.StrEnum):
    """What happens to a corporate copy."""

    CREATE = "create"
    UPDATE = "update"
    REMOVE = "remove"


def _contact_dict(c: Contact) -> dict[str, Any]:
    return {
        "id": c.id,
        "account_id": c.account_id,
        "email": None if c.email is None else str(c.email),
        "phone": c.phone,
        "name": c.name,
        "title": c.title,
        "tags": sorted(c.tags),
    }


@attrs.frozen
class CorporateCopy:
    """One change to the copies in the corporate account.

    `contact` is the copy as it should be (`CREATE`, `UPDATE`) or as it is (`REMOVE`);
    `changed` names the fields an update changes.
    """

    action: CopyAction
    contact: Contact
    group_key: str | None = None
    changed: tuple[str, ...] = ()
    reason: str = ""

    def explain(self) -> str:
        text = f"{self.action.value} {self.contact.id}"
        if self.changed:
            text += f" ({', '.join(self.changed)})"
        return f"{text}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "contact": _contact_dict(self.contact),
            "group_key": self.group_key,
            "changed": list(self.changed),
            "reason": self.reason,
        }


@attrs.frozen
class SharedContactPlan:
    """What to change so that tags and corporate copies match the shared contacts.

    Empty (`is_empty`) when everything is already right: planning, applying the plan
    and planning again yields an empty plan.
    """

    groups: tuple[SharedContactGroup, ...]
    tag_changes: tuple[TagChange, ...]
    copies: tuple[CorporateCopy, ...]
    report: SharedContactReport
    tags: tuple[str, ...] = ()
    corporate_account_id: str | None = None
    copy_to_corporate: bool = False
    match_on: MatchOn = MatchOn.EMAIL_OR_PHONE

    @property
    def is_empty(self) -> bool:
        return not self.tag_changes and not self.copies

    def counts(self) -> dict[str, int]:
        return {
            "shared_people": len(self.groups),
            "tag_changes": len(self.tag_changes),
            "copies_create": sum(c.action is CopyAction.CREATE for c in self.copies),
            "copies_update": sum(c.action is CopyAction.UPDATE for c in self.copies),
            "copies_remove": sum(c.action is CopyAction.REMOVE for c in self.copies),
            "rejections": len(self.report.rejections),
        }

    def explain(self) -> str:
        n = self.counts()
        lines = [
            f"{n['shared_people']} shared people; {n['tag_changes']} records to re-tag; "
            f"copies: {n['copies_create']} to create, {n['copies_update']} to update, "
            f"{n['copies_remove']} to remove; {n['rejections']} rejected values"
        ]
        lines.extend(change.explain() for change in self.tag_changes)
        lines.extend(copy.explain() for copy in self.copies)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": {
                "tags": list(self.tags),
                "corporate_account_id": self.corporate_account_id,
                "copy_to_corporate": self.copy_to_corporate,
                "match_on": self.match_on.value,
            },
            "counts": self.counts(),
            "groups": [g.to_dict() for g in self.groups],
            "tag_changes": [t.to_dict() for t in self.tag_changes],
            "copies": [c.to_dict() for c in self.copies],
            "report": self.report.to_dict(),
        }


def _user_tags(tags: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(tags, str):
        tags = (tags,)
    out: set[str] = set()
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise ConfigurationError(f"a tag must be a non-empty string, not {tag!r}")
        text = tag.strip()
        if text in _SYSTEM_TAGS or text.startswith(ENGAGING_TAG_PREFIX):
            raise ConfigurationError(f"{text!r} is a system tag; choose another user tag")
        out.add(text)
    return tuple(sorted(out))


def _is_copy_of(corporate_account_id: str) -> Callable[[Contact], bool]:
    prefix = f"{COPY_ID_PREFIX}{corporate_account_id}:"

    def is_copy(contact: Contact) -> bool:
        return contact.account_id == corporate_account_id and contact.id.startswith(prefix)

    return is_copy


def _first(values: Iterator[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def _desired_copy(
    group: SharedContactGroup,
    *,
    corporate_account_id: str,
    copy_id: str,
    user_tags: tuple[str, ...],
    accounts: Mapping[str, Account],
    e164_of: Mapping[str, str],
) -> Contact:
    ranked = group.ranking.records
    tags = set(user_tags)
    for account_id in group.account_ids:
        tags.add(engaging_tag(accounts[account_id].name))
    tags.add(engaging_tag(accounts[group.primary_account_id].name, primary=True))
    return Contact(
        id=copy_id,
        account_id=corporate_account_id,
        email=_first(c.email_address for c in ranked),
        phone=_first(e164_of.get(c.id) for c in ranked),
        name=_first(c.name for c in ranked),
        title=_first(c.title for c in ranked),
        tags=frozenset(tags),
    )


def _plan_copies(
    groups: Sequence[SharedContactGroup],
    *,
    existing: Iterable[Contact],
    corporate_account_id: str,
    user_tags: tuple[str, ...],
    accounts: Mapping[str, Account],
    e164_of: Mapping[str, str],
) -> list[CorporateCopy]:
    prefix = f"{COPY_ID_PREFIX}{corporate_account_id}:"
    group_of_identifier: dict[str, SharedContactGroup] = {}
    for group in groups:
        for identifier in group.identifiers:
            group_of_identifier.setdefault(identifier, group)
    claims: dict[str, list[Contact]] = defaultdict(list)
    changes: list[CorporateCopy] = []
    for copy in sorted(existing, key=lambda c: c.id):
        matched = group_of_identifier.get(copy.id[len(prefix) :])
        if matched is None:
            changes.append(
                CorporateCopy(CopyAction.REMOVE, copy, None, (), "the person is no longer shared")
            )
        else:
            claims[matched.key].append(copy)
    for group in groups:
        wanted_id = copy_contact_id(corporate_account_id, group.key)
        found = claims.get(group.key, [])
        keep = next((c for c in found if c.id == wanted_id), found[0] if found else None)
        changes.extend(
            CorporateCopy(
                CopyAction.REMOVE, other, group.key, (),
                f"another copy ({keep.id if keep else wanted_id}) stands for this person",
            )
            for other in found
            if other is not keep
        )
        desired = _desired_copy(
            group,
            corporate_account_id=corporate_account_id,
            copy_id=keep.id if keep else wanted_id,
            user_tags=user_tags,
            accounts=accounts,
            e164_of=e164_of,
        )
        if keep is None:
            changes.append(
                CorporateCopy(
                    CopyAction.CREATE, desired, group.key, (),
                    f"shared by {len(group.account_ids)} child accounts",
                )
            )
            continue
        stale = {t for t in keep.tags if t.startswith(ENGAGING_TAG_PREFIX)} - desired.tags
        updated = attrs.evolve(
            keep,
            email=desired.email if desired.email is not None else keep.email,
            phone=desired.phone if desired.phone is not None else keep.phone,
            name=desired.name if desired.name is not None else keep.name,
            title=desired.title if desired.title is not None else keep.title,
            tags=(keep.tags - stale) | desired.tags,
        )
        changed = tuple(
            field for field in ("email", "phone", "name", "title", "tags")
            if getattr(updated, field) != getattr(keep, field)
        )
        if changed:
            changes.append(
                CorporateCopy(CopyAction.UPDATE, updated, group.key, changed,
                              "the shared person's details or accounts changed")
            )
    changes.sort(key=lambda c: (c.contact.id, c.action.value))
    return changes


def plan_shared_contact_sync(
    accounts: Iterable[Account] | Mapping[str, Account],
    contacts: Iterable[Contact],
    *,
    tags: Iterable[str] | str = (),
    corporate_account_id: str | None = None,
    copy_to_corporate: bool = False,
    match_on: MatchOn | str = MatchOn.EMAIL_OR_PHONE,
    existing_copies: Iterable[Contact] = (),
    default_region: str | None = None,
    cascade: Iterable[RankingCriterion] = DEFAULT_CASCADE,
) -> SharedContactPlan:
    """Plan the tags and corporate copies that make the data say who is shared.

    Scope: the descendants of `corporate_account_id` (every contact of a known account
    when it is `None`). In scope, each record of a shared person should carry the user
    `tags` plus `primary-shared-contact` (its primary record) or
    `secondary-shared-contact`; every other record should carry none of them (so a
    person who stops being shared, or changes primary, is corrected). Other tags are
    never touched.

    With `copy_to_corporate`, each shared person also gets one copy in the corporate
    account, id `copy_contact_id(corporate, key)`, tagged with the user tags,
    `engaging-in-<Account Name>` for every child account it is in and
    `engaging-in-<Account Name>-primary` for its primary one. Existing copies are the
    contacts of the corporate account whose id starts with
    `shared-contact:<corporate>:` plus `existing_copies`; a copy whose key is still one
    of a shared person's emails/phones is kept and updated, others are removed.
    Without `copy_to_corporate`, existing copies are left alone.

    Raises `ConfigurationError` for a user tag that is a system tag, copies without a
    corporate account, or a corporate account that is not among `accounts`.
    """
    user_tags = _user_tags(tags)
    if copy_to_corporate and corporate_account_id is None:
        raise ConfigurationError("copy_to_corporate needs corporate_account_id")
    contact_list = list(contacts)
    is_copy = _is_copy_of(corporate_account_id) if corporate_account_id is not None else None
    scan = _scan(
        contact_list,
        match_on,
        accounts=accounts,
        within=corporate_account_id,
        default_region=default_region,
        cascade=cascade,
        exclude=is_copy,
        within_name="corporate_account_id",
    )
    groups = tuple(scan.groups)
    role: dict[str, tuple[str, SharedContactGroup]] = {}
    for group in groups:
        role[group.primary.id] = (PRIMARY_TAG, group)
        for record in group.secondaries:
            role[record.id] = (SECONDARY_TAG, group)
    managed = frozenset(user_tags) | _SYSTEM_TAGS
    tag_changes: list[TagChange] = []
    for contact in scan.in_scope:
        assigned = role.get(contact.id)
        desired = frozenset((*user_tags, assigned[0])) if assigned else frozenset()
        add = desired - contact.tags
        remove = (contact.tags & managed) - desired
        if not add and not remove:
            continue
        if assigned is None:
            reason = "not a shared contact"
        else:
            group = assigned[1]
            which = "primary" if assigned[0] == PRIMARY_TAG else "secondary"
            reason = f"{which} record of shared contact {group.key}"
        tag_changes.append(TagChange(contact.id, contact.account_id, add, remove, reason))
    tag_changes.sort(key=lambda t: (t.contact_id, t.account_id))

    copies: list[CorporateCopy] = []
    if copy_to_corporate and corporate_account_id is not None:
        existing: dict[str, Contact] = {}
        for item in (*contact_list, *existing_copies):
            if isinstance(item, Contact) and is_copy is not None and is_copy(item):
                existing.setdefault(item.id, item)
        copies = _plan_copies(
            groups,
            existing=existing.values(),
            corporate_account_id=corporate_account_id,
            user_tags=user_tags,
            accounts=scan.accounts,
            e164_of=scan.phones,
        )
    return SharedContactPlan(
        groups=groups,
        tag_changes=tuple(tag_changes),
        copies=tuple(copies),
        report=scan.groups.report,
        tags=user_tags,
        corporate_account_id=corporate_account_id,
        copy_to_corporate=copy_to_corporate,
        match_on=_to_match_on(match_on),
    )


def apply_shared_contact_plan(
    contacts: Iterable[Contact], plan: SharedContactPlan
) -> list[Contact]:
    """The contacts with the plan applied (a new list; nothing is modified).

    Tag changes apply to the record with that id and account; removed copies are
    dropped; updated copies replace the record with their id (or are appended when
    the copy was only passed as `existing_copies`); created copies are appended,
    sorted by id. Items that are not `Contact`s pass through unchanged.
    """
    by_key = {(t.contact_id, t.account_id): t for t in plan.tag_changes}
    removed = {
        (c.contact.id, c.contact.account_id)
        for c in plan.copies
        if c.action is CopyAction.REMOVE
    }
    written = {
        (c.contact.id, c.contact.account_id): c.contact
        for c in plan.copies
        if c.action is not CopyAction.REMOVE
    }
    items: Iterable[object] = contacts
    out: list[Any] = []
    for item in items:
        if not isinstance(item, Contact):
            out.append(item)
            continue
        key = (item.id, item.account_id)
        if key in removed:
            continue
        if key in written:
            out.append(written.pop(key))
            continue
        change = by_key.get(key)
        if change is None:
            out.append(item)
        else:
            out.append(attrs.evolve(item, tags=(item.tags - change.remove) | change.add))
    out.extend(written[key] for key in sorted(written))
    return out
