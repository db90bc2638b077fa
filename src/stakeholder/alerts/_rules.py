"""Alert rules as values: triggers, account filters, escalation, notification settings.

A `Rule` names the stages it watches, its triggers (`MissedMilestone`, `LowUsage`,
`MissedTouchpoint`) combined with `all` or `any`, the accounts it applies to
(`AccountFilter`s), the CTA it opens (type, priority, due date), when it notifies
(`notify_priority`, `channels`), how often it may alert (`cooldown_days`,
`frequency_days`) and how it escalates (`EscalationPolicy`). `load_rules` reads them
from TOML (see `_toml.py`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Any, ClassVar, Final

import attrs

from stakeholder._errors import ConfigurationError
from stakeholder._model import CommKind
from stakeholder.alerts._cta import CtaCategory, CtaPriority
from stakeholder.alerts._inputs import DEFAULT_STAGES, AccountStage

__all__ = [
    "CHANNELS",
    "AccountFilter",
    "Combine",
    "EscalationPolicy",
    "LowUsage",
    "MissedMilestone",
    "MissedTouchpoint",
    "NotifySettings",
    "Rule",
    "RuleError",
    "RuleSet",
    "Trigger",
]

#: The notification channels a rule may name.
CHANNELS: Final = ("email", "in-app", "slack", "teams")


class RuleError(ConfigurationError):
    """A rule that cannot be used: names the `rule`, the `field` and the `reason`."""

    def __init__(self, rule: str, field: str, reason: str) -> None:
        super().__init__(f"rule {rule!r}, field {field!r}: {reason}")
        self.rule, self.field, self.reason = rule, field, reason

    def __reduce__(self) -> tuple[type[RuleError], tuple[str, str, str]]:
        return (type(self), (self.rule, self.field, self.reason))


class Combine(enum.StrEnum):
    """How a rule's triggers combine: every one must fire (`all`) or any one (`any`)."""

    ALL = "all"
    ANY = "any"


def _patterns(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"expected a pattern or a list of patterns, got {value!r}")
    return tuple(sorted({v.strip() for v in value if v.strip()}))


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"expected a string or a list of strings, got {value!r}")
    return tuple(value)


def _priority(value: object) -> CtaPriority:
    try:
        return CtaPriority(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(p.value for p in CtaPriority)
        raise ConfigurationError(f"priority {value!r} is not one of {choices}") from None


def _combine(value: object) -> Combine:
    try:
        return Combine(str(value).strip().lower())
    except ValueError:
        raise ConfigurationError(f"combine {value!r} is not one of all, any") from None


@attrs.frozen
class MissedMilestone:
    """Success-plan tasks still not done past their timeline.

    `tasks` are name patterns (`fnmatch`, case-insensitive; empty: every task of the
    account); a task is due at its `due_at`, else `within_days` (the task's, else this
    trigger's) after the account entered the stage. A task without either never fires.
    """

    tasks: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    within_days: int | None = None

    kind: ClassVar[str] = "missed-milestone"
    category: ClassVar[CtaCategory] = CtaCategory.MISSED_MILESTONE


@attrs.frozen
class LowUsage:
    """A usage `metric` below `below` in each of the account's latest `periods` periods
    (at or before `now`); an account with fewer periods on record does not fire."""

    metric: str
    below: float
    periods: int = 1

    kind: ClassVar[str] = "low-usage"
    category: ClassVar[CtaCategory] = CtaCategory.LOW_USAGE


@attrs.frozen
class MissedTouchpoint:
    """No routed communication matching (`comm_kind`, any of `subject` patterns:
    case-insensitive regular expressions searched in the subject) within `within_days`
    before `now`. Days are counted from the last matching touch, or from the account
    entering its stage when that is later (a new account is not late on day one)."""

    within_days: int
    comm_kind: CommKind | None = None
    subject: tuple[str, ...] = attrs.field(default=(), converter=_patterns)

    kind: ClassVar[str] = "missed-touchpoint"
    category: ClassVar[CtaCategory] = CtaCategory.MISSED_TOUCHPOINT

    @property
    def label(self) -> str:
        """What is missed, in words: `meeting`, `"business review"`, `communication`."""
        what = self.comm_kind.value if self.comm_kind is not None else "communication"
        if self.subject:
            what = f"{what} about {' or '.join(repr(s) for s in self.subject)}"
        return what

    def matcher(self) -> re.Pattern[str] | None:
        """The compiled subject patterns, or `None` when any subject matches."""
        if not self.subject:
            return None
        return re.compile("|".join(f"(?:{p})" for p in self.subject), re.IGNORECASE)


Trigger = MissedMilestone | LowUsage | MissedTouchpoint


def _folded(values: Iterable[object]) -> frozenset[str]:
    return frozenset(str(x).strip().casefold() for x in values)


def _rule_tuple(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    return _check_unique(tuple(rules))


@attrs.frozen
class AccountFilter:
    """Keeps accounts whose `field` (owner, status, stage, or any account field) is one
    of `values` (case-insensitive); `negate` keeps the others instead."""

    field: str
    values: frozenset[str] = attrs.field(converter=_folded)
    negate: bool = False

    def keeps(self, account: AccountStage) -> bool:
        value = account.field(self.field)
        inside = value is not None and value.casefold() in self.values
        return inside != self.negate


@attrs.frozen
class EscalationPolicy:
    """A CTA still open `after_days` after opening moves to level 1 (`chain[1]`), after
    twice that to level 2, ... up to the end of the chain. `chain[0]` is the first
    assignee. Entries: `owner` (the account's owner), `field:NAME` (an account field,
    e.g. `field:manager`), or a literal user / address."""

    after_days: int
    chain: tuple[str, ...] = ("owner",)

    def resolve(self, level: int, account: AccountStage | None) -> str | None:
        """Who level `level` goes to for `account` (`None` when the field is missing)."""
        entry = self.chain[min(level, len(self.chain) - 1)]
        if entry == "owner":
            return account.owner if account is not None else None
        if entry.startswith("field:"):
            return account.field(entry[6:]) if account is not None else None
        return entry

    @property
    def top_level(self) -> int:
        """The highest level the chain reaches."""
        return len(self.chain) - 1


def _trigger_tuple(value: Iterable[Trigger]) -> tuple[Trigger, ...]:
    return tuple(value)


def _filter_tuple(value: Iterable[AccountFilter]) -> tuple[AccountFilter, ...]:
    return tuple(value)


@attrs.frozen
class Rule:
    """One alert rule. See the module docstring and docs/alerts.md for each field."""

    id: str
    name: str
    triggers: tuple[Trigger, ...] = attrs.field(converter=_trigger_tuple)
    stages: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    combine: Combine = attrs.field(default=Combine.ALL, converter=_combine)
    filters: tuple[AccountFilter, ...] = attrs.field(default=(), converter=_filter_tuple)
    type: str = "lifecycle"
    priority: CtaPriority = attrs.field(default=CtaPriority.MEDIUM, converter=_priority)
    notify_priority: CtaPriority = attrs.field(default=CtaPriority.HIGH, converter=_priority)
    channels: tuple[str, ...] = attrs.field(default=("in-app",), converter=_strings)
    due_days: int = 7
    cooldown_days: int = 0
    frequency_days: int = 0
    escalation: EscalationPolicy | None = None

    def __attrs_post_init__(self) -> None:
        if not self.triggers:
            raise RuleError(self.id, "trigger", "a rule needs at least one trigger")
        for name in ("due_days", "cooldown_days", "frequency_days"):
            if getattr(self, name) < 0:
                raise RuleError(self.id, name, "must be a whole number >= 0")
        for channel in self.channels:
            if channel not in CHANNELS:
                raise RuleError(self.id, "channels", f"unknown channel {channel!r}")

    @property
    def category(self) -> CtaCategory:
        """The CTA category: the triggers' kind, or `combined` for several kinds."""
        kinds = {t.category for t in self.triggers}
        return kinds.pop() if len(kinds) == 1 else CtaCategory.COMBINED

    def applies_to(self, account: AccountStage) -> bool:
        """Whether the account is in one of the rule's stages and passes its filters."""
        if self.stages and account.stage.casefold() not in {s.casefold() for s in self.stages}:
            return False
        return all(f.keeps(account) for f in self.filters)

    def notifies(self, priority: CtaPriority) -> bool:
        """Whether a CTA of `priority` notifies under this rule."""
        return priority.at_least(self.notify_priority)


@attrs.frozen
class NotifySettings:
    """Where notifications go: the SMTP server and sender for email, the Slack and Teams
    incoming-webhook URLs. Empty values switch a channel off (with a reason)."""

    email_from: str = "alerts@localhost"
    smtp_host: str = ""
    smtp_port: int = 25
    slack_webhook: str = ""
    teams_webhook: str = ""


def _check_unique(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleError(rule.id, "id", "two rules have this id")
        seen.add(rule.id)
    return tuple(sorted(rules, key=lambda r: r.id))


@attrs.frozen
class RuleSet:
    """Rules (sorted by id, unique ids), the lifecycle stages they may name, and the
    notification settings. `repr` shows counts."""

    rules: tuple[Rule, ...] = attrs.field(converter=_rule_tuple)
    stages: tuple[str, ...] = tuple(s.name for s in DEFAULT_STAGES)
    notify: NotifySettings = NotifySettings()

    def __attrs_post_init__(self) -> None:
        known = {s.casefold() for s in self.stages}
        for rule in self.rules:
            for stage in rule.stages:
                if stage.casefold() not in known:
                    known_text = ", ".join(self.stages)
                    raise RuleError(
                        rule.id, "stages", f"unknown stage {stage!r} (stages: {known_text})"
                    )

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def without(self, rule_id: str) -> RuleSet:
        """This rule set less the rule `rule_id`."""
        return attrs.evolve(self, rules=tuple(r for r in self.rules if r.id != rule_id))

    @classmethod
    def of(cls, rules: Iterable[Rule], **kwargs: Any) -> RuleSet:
        return cls(tuple(rules), **kwargs)

    def __repr__(self) -> str:
        return f"RuleSet(rules={len(self.rules)}, stages={list(self.stages)!r})"
