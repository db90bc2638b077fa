"""Ranking one person's records: the primary-account cascade."""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from stakeholder._display import attrs_repr
from stakeholder._errors import ConfigurationError, InvalidRecord
from stakeholder._model import Account, Contact

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

    __repr__ = attrs_repr

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

    __repr__ = attrs_repr

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
