"""The call-to-action (CTA) model shared by every layer that tells a CSM to act.

A `CTA` is a frozen value: which account, where it came from (`CtaSource`: a rule, a
sponsor change, a person), what kind of non-compliance or risk it is (`category`), how
urgent (`priority`), who should act (`assignee`), what was missed and by how much
(`details`), a due date, a `dedupe_key` (at most one open CTA per key), its lifecycle
(`status`, `opened_at`, `updated_at`, `closed_at`, `close_reason`, `snoozed_until`) and
its escalation level. Changing a CTA returns a new value (`updated`, `closed`,
`snoozed`, `escalated`); nothing here does I/O or reads the clock.

How another layer creates CTAs
------------------------------
Build candidates with `CTA.open(...)`, then let `plan_ctas` reconcile them with the
CTAs already stored; it returns a `CtaPlan` (opened / updated / closed CTAs and the
escalations to record) that the caller applies to a store with
`stakeholder.alerts.apply_cta_plan` (with the CTA repository of a store)::

    from stakeholder.alerts import CTA, CtaCategory, CtaPriority, CtaSource, plan_ctas

    candidate = CTA.open(
        account_id="acme",
        source=CtaSource.sponsor_change("person-42"),
        type="risk",
        reason="champion Jane Doe left Acme",
        category=CtaCategory.SPONSOR_CHANGE,
        priority=CtaPriority.HIGH,
        at=now,
        assignee="csm@example.com",
        details={"old company": "Acme", "new company": "Globex"},
        dedupe_key="sponsor-change:person-42:2026-11-30",
    )
    plan = plan_ctas([candidate], existing=store_ctas, now=now)

`plan_ctas` opens a candidate whose dedupe key has no open CTA, updates the open one
otherwise (reason, details, priority, due date), and never duplicates. Callers that
want to close CTAs pass `close=` (a mapping from dedupe key to a close reason).
The default dedupe key is `"{source.kind}:{source.id}:{account_id}"`: one open CTA per
account and source (per account and rule for rules).

Names are added to, never renamed.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from stakeholder._display import attrs_html
from stakeholder._errors import InvalidRecord
from stakeholder._model import aware_datetime, check_id, enum_member

__all__ = [
    "CTA",
    "CtaCategory",
    "CtaPlan",
    "CtaPriority",
    "CtaSource",
    "CtaStatus",
    "Escalation",
    "SourceKind",
    "cta_id",
    "default_dedupe_key",
    "plan_ctas",
]


class SourceKind(enum.StrEnum):
    """What opened a CTA."""

    RULE = "rule"
    SPONSOR_CHANGE = "sponsor-change"
    MANUAL = "manual"


class CtaStatus(enum.StrEnum):
    """A CTA's lifecycle: open, snoozed until a time, or closed (with a reason)."""

    OPEN = "open"
    SNOOZED = "snoozed"
    CLOSED = "closed"


class CtaCategory(enum.StrEnum):
    """The kind of non-compliance or risk a CTA is about."""

    MISSED_MILESTONE = "missed-milestone"
    LOW_USAGE = "low-usage"
    MISSED_TOUCHPOINT = "missed-touchpoint"
    COMBINED = "combined"
    SPONSOR_CHANGE = "sponsor-change"
    RISK = "risk"
    OPPORTUNITY = "opportunity"
    OTHER = "other"


_PRIORITY_RANK = {"low": 0, "medium": 1, "high": 2, "urgent": 3}


class CtaPriority(enum.StrEnum):
    """How urgent a CTA is; `rank` orders them (low < medium < high < urgent)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for urgent."""
        return _PRIORITY_RANK[self.value]

    def at_least(self, other: CtaPriority) -> bool:
        """Whether this priority is `other` or more urgent."""
        return self.rank >= other.rank


def _to_source_kind(value: object) -> SourceKind:
    return enum_member(SourceKind, value, "source kind")


def _to_status(value: object) -> CtaStatus:
    return enum_member(CtaStatus, value, "status")


def _to_category(value: object) -> CtaCategory:
    return enum_member(CtaCategory, value, "category")


def _to_priority(value: object) -> CtaPriority:
    return enum_member(CtaPriority, value, "priority")


_aware = aware_datetime


def _to_details(value: object) -> tuple[tuple[str, str], ...]:
    """Details as sorted (name, text) pairs, from a mapping or pairs."""
    if value is None:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    if not isinstance(items, Iterable) or isinstance(items, str):
        raise InvalidRecord(value, "details must be a mapping or (name, text) pairs")
    out: dict[str, str] = {}
    for item in items:
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise InvalidRecord(item, "a detail must be a (name, text) pair")
        name, text = item
        if not isinstance(name, str) or not name:
            raise InvalidRecord(name, "a detail name must be a non-empty string")
        out[name] = str(text)
    return tuple(sorted(out.items()))


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRecord(value, f"{attribute.name} must be an integer >= 0")


def _optional_text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRecord(value, "expected a string")
    return value.strip() or None


@attrs.frozen(order=True)
class CtaSource:
    """Where a CTA came from: `kind` (rule, sponsor change, manual) and that thing's id.

    `str(source)` is `"kind:id"` (for example `"rule:onboarding-30d"`);
    `CtaSource.parse` reads it back.
    """

    kind: SourceKind = attrs.field(converter=_to_source_kind)
    id: str = attrs.field(validator=check_id)

    @classmethod
    def rule(cls, rule_id: str) -> CtaSource:
        """A CTA opened by the alert rule `rule_id`."""
        return cls(SourceKind.RULE, rule_id)

    @classmethod
    def sponsor_change(cls, ref: str) -> CtaSource:
        """A CTA opened by a sponsor change (`ref`: the tracked person or the change)."""
        return cls(SourceKind.SPONSOR_CHANGE, ref)

    @classmethod
    def manual(cls, author: str) -> CtaSource:
        """A CTA a person opened by hand."""
        return cls(SourceKind.MANUAL, author)

    @classmethod
    def parse(cls, text: str) -> CtaSource:
        """Read `"kind:id"` back; raises `InvalidRecord` naming the text otherwise."""
        kind, sep, ident = text.partition(":")
        if not sep:
            raise InvalidRecord(text, "a CTA source is written 'kind:id'")
        return cls(kind, ident)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"


def default_dedupe_key(account_id: str, source: CtaSource) -> str:
    """`"{kind}:{id}:{account_id}"`: one open CTA per account and source."""
    return f"{source}:{account_id}"


def cta_id(dedupe_key: str, opened_at: dt.datetime) -> str:
    """A deterministic CTA id from its dedupe key and opening time (`"cta-"` + 20 hex)."""
    return _cta_id(dedupe_key, id_stamp(opened_at))


def id_stamp(opened_at: dt.datetime) -> str:
    """The opening time as `cta_id` hashes it (computed once for many CTAs)."""
    return opened_at.astimezone(dt.UTC).isoformat()


def _cta_id(dedupe_key: str, stamp: str) -> str:
    text = f"{dedupe_key}\x1f{stamp}".encode("utf-8", "surrogatepass")
    return "cta-" + hashlib.sha256(text).hexdigest()[:20]


@attrs.frozen
class CTA:
    """A call to action for one account. Build with `CTA.open`; change with the methods.

    `status` is `OPEN`, `SNOOZED` (until `snoozed_until`; `is_active(now)` treats an
    expired snooze as open) or `CLOSED` (`closed_at`, `close_reason`).
    `escalation_level` is 0 until escalated; `occurrences` counts how many evaluations
    found the condition still true (1 when opened).
    """

    id: str = attrs.field(validator=check_id)
    account_id: str = attrs.field(validator=check_id)
    source: CtaSource
    type: str = attrs.field(validator=check_id)
    reason: str
    category: CtaCategory = attrs.field(converter=_to_category)
    priority: CtaPriority = attrs.field(converter=_to_priority)
    dedupe_key: str = attrs.field(validator=check_id)
    opened_at: dt.datetime = attrs.field(validator=_aware)
    updated_at: dt.datetime = attrs.field(validator=_aware)
    assignee: str | None = attrs.field(default=None, converter=_optional_text)
    details: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_to_details)
    due_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    status: CtaStatus = attrs.field(default=CtaStatus.OPEN, converter=_to_status)
    closed_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    close_reason: str | None = attrs.field(default=None, converter=_optional_text)
    snoozed_until: dt.datetime | None = attrs.field(default=None, validator=_aware)
    escalation_level: int = attrs.field(default=0, validator=_non_negative)
    escalated_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    occurrences: int = attrs.field(default=1, validator=_non_negative)

    _repr_html_ = attrs_html

    def __attrs_post_init__(self) -> None:
        if self.status is CtaStatus.CLOSED and self.closed_at is None:
            raise InvalidRecord(self.id, "a closed CTA needs closed_at")
        if self.status is CtaStatus.SNOOZED and self.snoozed_until is None:
            raise InvalidRecord(self.id, "a snoozed CTA needs snoozed_until")

    @classmethod
    def open(
        cls,
        *,
        account_id: str,
        source: CtaSource,
        type: str,
        reason: str,
        category: CtaCategory | str,
        priority: CtaPriority | str,
        at: dt.datetime,
        assignee: str | None = None,
        details: Mapping[str, object] | Iterable[tuple[str, object]] = (),
        due_at: dt.datetime | None = None,
        dedupe_key: str | None = None,
        id: str | None = None,
    ) -> CTA:
        """A new open CTA at `at`; the id and dedupe key default to deterministic ones."""
        key = dedupe_key or default_dedupe_key(account_id, source)
        return cls(
            id=id or cta_id(key, at),
            account_id=account_id,
            source=source,
            type=type,
            reason=reason,
            category=category,
            priority=priority,
            dedupe_key=key,
            opened_at=at,
            updated_at=at,
            assignee=assignee,
            details=details,
            due_at=due_at,
        )

    # ------------------------------------------------------------------ queries

    @property
    def is_closed(self) -> bool:
        """Whether the CTA is closed."""
        return self.status is CtaStatus.CLOSED

    def is_snoozed(self, now: dt.datetime) -> bool:
        """Whether the CTA is snoozed and the snooze has not run out at `now`."""
        return (
            self.status is CtaStatus.SNOOZED
            and self.snoozed_until is not None
            and now < self.snoozed_until
        )

    def is_active(self, now: dt.datetime) -> bool:
        """Open, or snoozed with the snooze run out, at `now` (escalates and notifies)."""
        return not self.is_closed and not self.is_snoozed(now)

    def detail(self, name: str) -> str | None:
        """The detail called `name`, or `None`."""
        return dict(self.details).get(name)

    def __repr__(self) -> str:
        return (
            f"CTA(id={self.id!r}, account_id={self.account_id!r}, source='{self.source}', "
            f"status={self.status.value}, priority={self.priority.value}, "
            f"level={self.escalation_level}, details={len(self.details)})"
        )[:300]

    # ------------------------------------------------------------------ changes

    def updated(
        self,
        *,
        at: dt.datetime,
        reason: str | None = None,
        details: Mapping[str, object] | Iterable[tuple[str, object]] | None = None,
        priority: CtaPriority | str | None = None,
        due_at: dt.datetime | None = None,
        assignee: str | None = None,
    ) -> CTA:
        """This CTA with new facts at `at` (only the arguments given change)."""
        return attrs.evolve(
            self,
            updated_at=at,
            occurrences=self.occurrences + 1,
            reason=self.reason if reason is None else reason,
            details=self.details if details is None else _to_details(details),
            priority=self.priority if priority is None else _to_priority(priority),
            due_at=self.due_at if due_at is None else due_at,
            assignee=self.assignee if assignee is None else assignee,
        )

    def closed(self, *, at: dt.datetime, reason: str) -> CTA:
        """This CTA closed at `at` with `reason` (a closed CTA stays as it was)."""
        if self.is_closed:
            return self
        return attrs.evolve(
            self,
            status=CtaStatus.CLOSED,
            closed_at=at,
            close_reason=reason,
            updated_at=at,
            snoozed_until=None,
        )

    def snoozed(self, *, until: dt.datetime, at: dt.datetime) -> CTA:
        """This CTA snoozed until `until` (it neither escalates nor notifies meanwhile)."""
        if self.is_closed:
            raise InvalidRecord(self.id, "a closed CTA cannot be snoozed")
        return attrs.evolve(self, status=CtaStatus.SNOOZED, snoozed_until=until, updated_at=at)

    def reopened(self, *, at: dt.datetime) -> CTA:
        """A snoozed CTA open again (a closed one stays closed: open a new one)."""
        if self.status is not CtaStatus.SNOOZED:
            return self
        return attrs.evolve(self, status=CtaStatus.OPEN, snoozed_until=None, updated_at=at)

    def escalated(self, *, level: int, at: dt.datetime, assignee: str | None = None) -> CTA:
        """This CTA at escalation `level` from `at` (never lowers the level)."""
        if level <= self.escalation_level:
            return self
        return attrs.evolve(
            self,
            escalation_level=level,
            escalated_at=at,
            updated_at=at,
            assignee=assignee if assignee is not None else self.assignee,
        )


# The slots' own setters (a frozen value's __setattr__ refuses), for `open_checked`; every
# field is set there, in this order (checked here, so a new field cannot be forgotten).
_FIELDS: Final = tuple(a.name for a in attrs.fields(CTA))
if _FIELDS != (
    "id",
    "account_id",
    "source",
    "type",
    "reason",
    "category",
    "priority",
    "dedupe_key",
    "opened_at",
    "updated_at",
    "assignee",
    "details",
    "due_at",
    "status",
    "closed_at",
    "close_reason",
    "snoozed_until",
    "escalation_level",
    "escalated_at",
    "occurrences",
):  # pragma: no cover - a field added to CTA must be added to open_checked
    raise AssertionError(f"open_checked sets the CTA fields of an older version: {_FIELDS}")
_SLOTS: Final[dict[str, Any]] = dict(vars(CTA))  # field name -> its slot descriptor
_set_id = _SLOTS["id"].__set__
_set_account_id = _SLOTS["account_id"].__set__
_set_source = _SLOTS["source"].__set__
_set_type = _SLOTS["type"].__set__
_set_reason = _SLOTS["reason"].__set__
_set_category = _SLOTS["category"].__set__
_set_priority = _SLOTS["priority"].__set__
_set_dedupe_key = _SLOTS["dedupe_key"].__set__
_set_opened_at = _SLOTS["opened_at"].__set__
_set_updated_at = _SLOTS["updated_at"].__set__
_set_assignee = _SLOTS["assignee"].__set__
_set_details = _SLOTS["details"].__set__
_set_due_at = _SLOTS["due_at"].__set__
_set_status = _SLOTS["status"].__set__
_set_closed_at = _SLOTS["closed_at"].__set__
_set_close_reason = _SLOTS["close_reason"].__set__
_set_snoozed_until = _SLOTS["snoozed_until"].__set__
_set_escalation_level = _SLOTS["escalation_level"].__set__
_set_escalated_at = _SLOTS["escalated_at"].__set__
_set_occurrences = _SLOTS["occurrences"].__set__


def open_checked(
    *,
    account_id: str,
    source: CtaSource,
    type: str,
    reason: str,
    category: CtaCategory,
    priority: CtaPriority,
    at: dt.datetime,
    stamp: str,
    assignee: str | None,
    details: tuple[tuple[str, str], ...],
    due_at: dt.datetime | None,
    dedupe_key: str,
) -> CTA:
    """`CTA.open` for a caller whose values are already in their checked form (for
    planning many CTAs): ids checked (`check_id`), `category` and `priority` enum
    members, `at` and `due_at` timezone-aware, `stamp` is `id_stamp(at)`,
    `assignee` stripped or `None`, `details` sorted pairs of strings with unique
    names. Equal to `CTA.open` of the same values; the field checks are not re-run."""
    cta: CTA = object.__new__(CTA)
    text = f"{dedupe_key}\x1f{stamp}".encode("utf-8", "surrogatepass")  # as `cta_id`
    _set_id(cta, "cta-" + hashlib.sha256(text).hexdigest()[:20])
    _set_account_id(cta, account_id)
    _set_source(cta, source)
    _set_type(cta, type)
    _set_reason(cta, reason)
    _set_category(cta, category)
    _set_priority(cta, priority)
    _set_dedupe_key(cta, dedupe_key)
    _set_opened_at(cta, at)
    _set_updated_at(cta, at)
    _set_assignee(cta, assignee)
    _set_details(cta, details)
    _set_due_at(cta, due_at)
    _set_status(cta, CtaStatus.OPEN)
    _set_closed_at(cta, None)
    _set_close_reason(cta, None)
    _set_snoozed_until(cta, None)
    _set_escalation_level(cta, 0)
    _set_escalated_at(cta, None)
    _set_occurrences(cta, 1)
    return cta



@attrs.frozen(order=True)
class Escalation:
    """One escalation of a CTA: to `level` (and `assignee`) at `at`, with `reason`.

    `id` is deterministic (CTA id and level), so recording it twice changes nothing.
    """

    cta_id: str = attrs.field(validator=check_id)
    level: int = attrs.field(validator=_non_negative)
    at: dt.datetime = attrs.field(validator=_aware)
    reason: str
    assignee: str | None = attrs.field(default=None, converter=_optional_text)

    @property
    def id(self) -> str:
        """`"{cta_id}/L{level}"`: one escalation per CTA and level."""
        return f"{self.cta_id}/L{self.level}"


@attrs.frozen
class CtaPlan:
    """What to change in the CTA store: CTAs to insert (`opened`) and to replace
    (`updated`, `closed`, each the new version), and `escalations` to record.

    Plans of several layers combine with `+`. `repr` shows counts.
    """

    opened: tuple[CTA, ...] = ()
    updated: tuple[CTA, ...] = ()
    closed: tuple[CTA, ...] = ()
    escalations: tuple[Escalation, ...] = ()

    def __add__(self, other: CtaPlan) -> CtaPlan:
        return CtaPlan(
            opened=self.opened + other.opened,
            updated=self.updated + other.updated,
            closed=self.closed + other.closed,
            escalations=self.escalations + other.escalations,
        )

    @property
    def is_empty(self) -> bool:
        """Whether the plan changes nothing."""
        return not (self.opened or self.updated or self.closed or self.escalations)

    @property
    def changed(self) -> tuple[CTA, ...]:
        """Every CTA the plan writes (opened, updated, closed), in that order."""
        return self.opened + self.updated + self.closed

    def __repr__(self) -> str:
        return (
            f"CtaPlan(opened={len(self.opened)}, updated={len(self.updated)}, "
            f"closed={len(self.closed)}, escalations={len(self.escalations)})"
        )


def _open_by_key(existing: Iterable[CTA]) -> dict[str, CTA]:
    out: dict[str, CTA] = {}
    for cta in existing:
        if cta.is_closed:
            continue
        held = out.get(cta.dedupe_key)
        if held is None or (cta.opened_at, cta.id) < (held.opened_at, held.id):
            out[cta.dedupe_key] = cta
    return out


def _same_facts(old: CTA, new: CTA) -> bool:
    return (
        old.reason == new.reason
        and old.details == new.details
        and old.priority == new.priority
        and old.due_at == new.due_at
    )


def plan_ctas(
    candidates: Iterable[CTA],
    *,
    existing: Iterable[CTA],
    now: dt.datetime,
    close: Mapping[str, str] | None = None,
) -> CtaPlan:
    """Reconcile candidate CTAs with the stored ones at `now`; pure and idempotent.

    A candidate whose dedupe key has no open (or snoozed) CTA is opened; one that has
    is an update of that CTA when its reason, details, priority or due date differ
    (nothing otherwise). `close` maps dedupe keys to close reasons: their open CTAs
    close. Candidates sharing a dedupe key: the one with the smallest id wins.
    """
    held = _open_by_key(existing)
    chosen: dict[str, CTA] = {}
    for cand in candidates:
        other = chosen.get(cand.dedupe_key)
        if other is None or cand.id < other.id:
            chosen[cand.dedupe_key] = cand
    opened: list[CTA] = []
    updated: list[CTA] = []
    for key in sorted(chosen):
        cand = chosen[key]
        old = held.get(key)
        if old is None:
            opened.append(cand)
        elif not _same_facts(old, cand):
            updated.append(
                old.updated(
                    at=now,
                    reason=cand.reason,
                    details=cand.details,
                    priority=cand.priority,
                    due_at=cand.due_at,
                )
            )
    closed = [
        held[key].closed(at=now, reason=why)
        for key, why in sorted((close or {}).items())
        if key in held and key not in chosen
    ]
    return CtaPlan(opened=tuple(opened), updated=tuple(updated), closed=tuple(closed))
