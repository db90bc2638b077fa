"""Rules from TOML (`tomllib`): `load_rules(path)` and `parse_rules(text)`.

Every problem raises `RuleError` naming the rule (its id, or `#N` before the id is
known, or `-` for the top level), the field (dotted, e.g. `trigger[2].below`) and the
reason. Unknown keys are refused too: a typo must not switch a check off silently.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from stakeholder._errors import InputFileError
from stakeholder._model import CommKind
from stakeholder.alerts._cta import CtaPriority
from stakeholder.alerts._inputs import DEFAULT_STAGES
from stakeholder.alerts._rules import (
    CHANNELS,
    AccountFilter,
    Combine,
    EscalationPolicy,
    LowUsage,
    MissedMilestone,
    MissedTouchpoint,
    NotifySettings,
    Rule,
    RuleError,
    RuleSet,
    Trigger,
)

__all__ = ["load_rules", "parse_rules"]

T = TypeVar("T")

_RULE_KEYS = {
    "id", "name", "stages", "combine", "priority", "notify_priority", "channels", "type",
    "due_days", "cooldown_days", "frequency_days", "filter", "trigger", "escalation",
}
_TRIGGER_KEYS = {
    "missed-milestone": {"kind", "tasks", "within_days"},
    "low-usage": {"kind", "metric", "below", "periods"},
    "missed-touchpoint": {"kind", "within_days", "comm_kind", "subject"},
}
_NOTIFY_KEYS = {"email_from", "smtp_host", "smtp_port", "slack_webhook", "teams_webhook"}


class _Reader:
    """Typed access to one table of the document, raising `RuleError` with context."""

    def __init__(self, rule: str, prefix: str, table: dict[str, Any]) -> None:
        self.rule, self.prefix, self.table = rule, prefix, table

    def fail(self, key: str, reason: str) -> RuleError:
        return RuleError(self.rule, f"{self.prefix}{key}", reason)

    def check_keys(self, allowed: set[str]) -> None:
        for key in sorted(set(self.table) - allowed):
            raise self.fail(key, f"unknown key (known: {', '.join(sorted(allowed))})")

    def get(self, key: str, kind: type[T], default: T | None = None) -> T:
        if key not in self.table:
            if default is None:
                raise self.fail(key, "is required")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(key, f"must be a {kind.__name__}, not {type(value).__name__}")
        return value

    def days(self, key: str, default: int | None = None) -> int:
        value = self.get(key, int, default)
        if value < 0:
            raise self.fail(key, "must be a whole number of days >= 0")
        return value

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.table.get(key, list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, "must be a string or a list of non-empty strings")
        return tuple(v.strip() for v in value)

    def choice(self, key: str, convert: Callable[[str], T], default: T, choices: str) -> T:
        if key not in self.table:
            return default
        raw = self.get(key, str)
        try:
            return convert(raw.strip().lower())
        except ValueError:
            raise self.fail(key, f"{raw!r} is not one of {choices}") from None


def _priority(reader: _Reader, key: str, default: CtaPriority) -> CtaPriority:
    return reader.choice(key, CtaPriority, default, ", ".join(p.value for p in CtaPriority))


def _trigger(rule: str, index: int, table: object) -> Trigger:
    prefix = f"trigger[{index}]."
    if not isinstance(table, dict):
        raise RuleError(rule, f"trigger[{index}]", "must be a table")
    r = _Reader(rule, prefix, table)
    kind = r.get("kind", str)
    if kind not in _TRIGGER_KEYS:
        raise r.fail("kind", f"{kind!r} is not one of {', '.join(sorted(_TRIGGER_KEYS))}")
    r.check_keys(_TRIGGER_KEYS[kind])
    if kind == "missed-milestone":
        within = r.days("within_days") if "within_days" in table else None
        return MissedMilestone(tasks=r.strings("tasks"), within_days=within)
    if kind == "low-usage":
        periods = r.get("periods", int, 1)
        if periods < 1:
            raise r.fail("periods", "must be at least 1")
        metric = r.get("metric", str).strip()
        return LowUsage(metric=metric, below=r.get("below", float), periods=periods)
    comm_kind = r.choice(
        "comm_kind", CommKind, None, ", ".join(k.value for k in CommKind)
    )
    trigger = MissedTouchpoint(
        within_days=r.days("within_days"), comm_kind=comm_kind, subject=r.strings("subject")
    )
    try:
        trigger.matcher()
    except Exception as exc:  # noqa: BLE001 - re.error: a bad pattern, reported as a rule error
        raise r.fail("subject", f"not a regular expression: {exc}") from None
    return trigger


def _filters(rule: str, table: object) -> tuple[AccountFilter, ...]:
    if not isinstance(table, dict):
        raise RuleError(rule, "filter", "must be a table of field = value(s)")
    out = []
    for field in sorted(table):
        raw = table[field]
        negate = field.startswith("not_")
        values = raw if isinstance(raw, list) else [raw]
        if not values or not all(isinstance(v, str | int | float) for v in values):
            raise RuleError(rule, f"filter.{field}", "must be a value or a list of values")
        out.append(AccountFilter(field[4:] if negate else field, values, negate))
    return tuple(out)


def _escalation(rule: str, table: object) -> EscalationPolicy:
    if not isinstance(table, dict):
        raise RuleError(rule, "escalation", "must be a table")
    r = _Reader(rule, "escalation.", table)
    r.check_keys({"after_days", "chain"})
    after = r.days("after_days")
    if after < 1:
        raise r.fail("after_days", "must be at least 1")
    chain = r.strings("chain", ("owner",))
    if not chain:
        raise r.fail("chain", "needs at least one entry")
    return EscalationPolicy(after_days=after, chain=chain)


def _rule(index: int, table: object) -> Rule:
    if not isinstance(table, dict):
        raise RuleError(f"#{index + 1}", "rule", "must be a table")
    label = str(table.get("id", f"#{index + 1}"))
    r = _Reader(label, "", table)
    rule_id = r.get("id", str).strip()
    if not rule_id:
        raise r.fail("id", "must not be empty")
    r.check_keys(_RULE_KEYS)
    triggers = table.get("trigger")
    if not isinstance(triggers, list) or not triggers:
        raise r.fail("trigger", "a rule needs at least one [[rule.trigger]]")
    channels = r.strings("channels", ("in-app",))
    for channel in channels:
        if channel not in CHANNELS:
            raise r.fail("channels", f"{channel!r} is not one of {', '.join(CHANNELS)}")
    return Rule(
        id=rule_id,
        name=r.get("name", str, rule_id),
        triggers=tuple(_trigger(rule_id, i + 1, t) for i, t in enumerate(triggers)),
        stages=r.strings("stages"),
        combine=r.choice("combine", Combine, Combine.ALL, "all, any"),
        filters=_filters(rule_id, table.get("filter", {})),
        type=r.get("type", str, "lifecycle"),
        priority=_priority(r, "priority", CtaPriority.MEDIUM),
        notify_priority=_priority(r, "notify_priority", CtaPriority.HIGH),
        channels=channels,
        due_days=r.days("due_days", 7),
        cooldown_days=r.days("cooldown_days", 0),
        frequency_days=r.days("frequency_days", 0),
        escalation=_escalation(rule_id, table["escalation"]) if "escalation" in table else None,
    )


def parse_rules(text: str) -> RuleSet:
    """A `RuleSet` from TOML text: optional top-level `stages = [...]`, an optional
    `[notify]` table and `[[rule]]` tables (see docs/alerts.md for every key)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError("-", "-", f"not valid TOML: {exc}") from None
    top = _Reader("-", "", doc)
    top.check_keys({"stages", "notify", "rule"})
    stages = top.strings("stages", tuple(s.name for s in DEFAULT_STAGES))
    notify_table = doc.get("notify", {})
    if not isinstance(notify_table, dict):
        raise RuleError("-", "notify", "must be a table")
    n = _Reader("-", "notify.", notify_table)
    n.check_keys(_NOTIFY_KEYS)
    notify = NotifySettings(
        email_from=n.get("email_from", str, "alerts@localhost"),
        smtp_host=n.get("smtp_host", str, ""),
        smtp_port=n.get("smtp_port", int, 25),
        slack_webhook=n.get("slack_webhook", str, ""),
        teams_webhook=n.get("teams_webhook", str, ""),
    )
    rules = doc.get("rule", [])
    if not isinstance(rules, list):
        raise RuleError("-", "rule", "write rules as [[rule]] tables")
    return RuleSet(tuple(_rule(i, t) for i, t in enumerate(rules)), stages=stages, notify=notify)


def load_rules(path: str | os.PathLike[str]) -> RuleSet:
    """`parse_rules` of a file; `InputFileError` when it cannot be read."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(p, str(exc)) from None
    return parse_rules(text)
