"""Evaluating rules: a pure function of (accounts' stages, tasks, usage, routed decisions,
rules, existing CTAs, now) returning an `AlertPlan`.

Per account (by id) and rule (by id): the rule applies when the account is in one of
its stages and passes its filters; its triggers fire or not; the result is combined
(`all` / `any`). A firing rule opens a CTA (unless one is open for the account and rule:
then that one is updated when the facts changed; unless the rule's cooldown after the
last close, or its frequency since the last opening, has not passed). A rule that no
longer fires, or no longer applies, closes its open CTA with a reason. Open CTAs older
than the escalation period escalate. CTAs at or above the notify priority produce
deliveries. Evaluating again with the plan applied, at the same `now`, plans nothing.

CTAs of rules that are not in the rule set, and of accounts absent from the input, are
left as they are: removing a rule never opens, closes or escalates anything.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

import attrs

from stakeholder._errors import ConfigurationError
from stakeholder._model import Account, check_id
from stakeholder._progress import Progress, ProgressTicker
from stakeholder._routing import RoutingDecision
from stakeholder.alerts._cta import (
    CTA,
    CtaCategory,
    CtaPlan,
    CtaPriority,
    CtaSource,
    CtaStatus,
    Escalation,
    SourceKind,
    _optional_text,
    id_stamp,
    open_checked,
)
from stakeholder.alerts._inputs import AccountStage, Task, UsageRecord
from stakeholder.alerts._outbox import Delivery, delivery_for
from stakeholder.alerts._rules import (
    Combine,
    EscalationPolicy,
    LowUsage,
    MissedTouchpoint,
    Rule,
    RuleSet,
)
from stakeholder.alerts._triggers import Facts, Hits, TouchIndex, trigger_hits

__all__ = ["AlertPlan", "Violation", "evaluate_rules", "find_violations", "plan_escalation"]

_DAY = dt.timedelta(days=1)
_CTA_TYPE = attrs.fields(CTA).type


@attrs.frozen
class Violation:
    """A rule firing for an account at evaluation time, with what was missed."""

    rule_id: str
    account_id: str
    details: tuple[tuple[str, str], ...]


@attrs.frozen
class AlertPlan:
    """What one evaluation wants done: the CTA changes, the deliveries to enqueue, the
    violations found, and counts of what was suppressed (cooldown, frequency, snooze) or
    skipped (and why). `repr` shows counts; `summary()` the numbers a person reads."""

    now: dt.datetime
    ctas: CtaPlan
    deliveries: tuple[Delivery, ...] = ()
    violations: tuple[Violation, ...] = ()
    suppressed: tuple[tuple[str, int], ...] = ()
    skipped: tuple[tuple[str, int], ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether the plan changes nothing and sends nothing."""
        return self.ctas.is_empty and not self.deliveries

    def non_compliant(self) -> frozenset[tuple[str, str]]:
        """(rule id, account id) of every violation."""
        return frozenset((v.rule_id, v.account_id) for v in self.violations)

    def summary(self) -> dict[str, int]:
        """Opened, updated, closed, escalated, and `notify <channel>` counts."""
        out = {
            "opened": len(self.ctas.opened),
            "updated": len(self.ctas.updated),
            "closed": len(self.ctas.closed),
            "escalated": len(self.ctas.escalations),
        }
        for channel, count in sorted(Counter(d.channel for d in self.deliveries).items()):
            out[f"notify {channel}"] = count
        return out

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.summary().items())
        return f"AlertPlan({counts}, violations={len(self.violations)})"


def plan_escalation(
    cta: CTA, policy: EscalationPolicy, account: AccountStage | None, now: dt.datetime
) -> tuple[CTA, tuple[Escalation, ...]]:
    """`cta` escalated to the level its age calls for (level k after k * `after_days`
    open), with one `Escalation` per level crossed; unchanged (and no records) when it is
    closed, snoozed at `now`, or already at that level. Idempotent."""
    if not cta.is_active(now):
        return cta, ()
    target = min(policy.top_level, (now - cta.opened_at) // (policy.after_days * _DAY))
    if target <= cta.escalation_level:
        return cta, ()
    records = []
    for level in range(cta.escalation_level + 1, target + 1):
        who = policy.resolve(level, account)
        records.append(
            Escalation(
                cta_id=cta.id,
                level=level,
                at=now,
                reason=f"open {(now - cta.opened_at) // _DAY} day(s); level {level} after "
                f"{level * policy.after_days} day(s)",
                assignee=who,
            )
        )
    return cta.escalated(level=target, at=now, assignee=records[-1].assignee), tuple(records)


class _History:
    """Per dedupe key: the open CTA, and the last opening and closing times."""

    def __init__(self, existing: Iterable[CTA]) -> None:
        self.open: dict[str, CTA] = {}
        self.open_rules: dict[str, set[str]] = {}  # account id -> rules with an open CTA
        self.last_opened: dict[str, dt.datetime] = {}
        self.last_closed: dict[str, dt.datetime] = {}
        for cta in existing:
            key = cta.dedupe_key
            if cta.source.kind is not SourceKind.RULE:
                continue
            if key not in self.last_opened or cta.opened_at > self.last_opened[key]:
                self.last_opened[key] = cta.opened_at
            if cta.is_closed:
                assert cta.closed_at is not None
                if key not in self.last_closed or cta.closed_at > self.last_closed[key]:
                    self.last_closed[key] = cta.closed_at
            else:
                held = self.open.get(key)
                if held is None or (cta.opened_at, cta.id) < (held.opened_at, held.id):
                    self.open[key] = cta
                self.open_rules.setdefault(cta.account_id, set()).add(cta.source.id)


class _Checker:
    """Whether a rule applies to an account, and what its triggers find missed: checked
    per rule over every account of a stage at once (`hits`)."""

    def __init__(self, rules: RuleSet, facts: Facts) -> None:
        self.rules, self.facts = rules, facts
        self.stage_sets = {r.id: frozenset(s.casefold() for s in r.stages) for r in rules.rules}
        self.by_id = {r.id: r for r in rules.rules}
        self._for_stage: dict[str, tuple[Rule, ...]] = {}

    def rules_for(self, stage: str) -> tuple[Rule, ...]:
        """The rules (by id) that watch `stage` (case-folded), or every stage."""
        found = self._for_stage.get(stage)
        if found is None:
            found = self._for_stage[stage] = tuple(
                r for r in self.rules.rules
                if not self.stage_sets[r.id] or stage in self.stage_sets[r.id]
            )
        return found

    def applies(self, rule: Rule, account: AccountStage, stage: str) -> bool:
        """Whether `rule` applies to `account` (`stage`: its stage, case-folded)."""
        stages = self.stage_sets[rule.id]
        if stages and stage not in stages:
            return False
        return not rule.filters or all(f.keeps(account) for f in rule.filters)

    def hits(
        self, groups: dict[str, list[AccountStage]], progress: Progress | None
    ) -> dict[str, Hits]:
        """Rule id -> account id -> what was missed, for every (rule, account) where the
        rule applies and fires (`groups`: accounts by folded stage). `progress` counts
        accounts (a stage at a time)."""
        out: dict[str, Hits] = {r.id: {} for r in self.rules.rules}
        ticker = ProgressTicker(progress, sum(map(len, groups.values())), every=10_000)
        for stage in sorted(groups):
            group = groups[stage]
            for rule in self.rules_for(stage):
                kept = group if not rule.filters else [
                    a for a in group if all(f.keeps(a) for f in rule.filters)
                ]
                if kept:
                    out[rule.id].update(self.fires(rule, kept))
            ticker.advance(len(group))
        ticker.close()
        return out

    def fires(self, rule: Rule, accounts: list[AccountStage]) -> Hits:
        """Of `accounts` (the rule applies to each), those where `rule` fires."""
        facts = self.facts
        if len(rule.triggers) == 1:
            return trigger_hits(rule.triggers[0], accounts, facts)
        found: list[Hits] = []
        for trigger in rule.triggers:
            hits = trigger_hits(trigger, accounts, facts)
            found.append(hits)
            if rule.combine is Combine.ALL:  # only accounts where every trigger so far fired
                accounts = [a for a in accounts if a.account_id in hits]
        out: Hits = {}
        for account in accounts:
            key = account.account_id
            details = tuple(d for hits in found for d in hits.get(key, ()))
            if details:
                out[key] = details
        return out


class _Planner:
    def __init__(
        self, checker: _Checker, history: _History, now: dt.datetime, hits: dict[str, Hits]
    ) -> None:
        self.rules, self.checker, self.history, self.now = checker.rules, checker, history, now
        self.hits = hits
        self.stamp = id_stamp(now)
        self.opened: list[CTA] = []
        self.updated: list[CTA] = []
        self.closed: list[CTA] = []
        self.escalations: list[Escalation] = []
        self.deliveries: list[Delivery] = []
        self.violations: list[Violation] = []
        self.suppressed: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self._per_rule: dict[str, tuple[CtaSource, CtaCategory, dt.datetime, bool]] = {}
        self._notifies: dict[tuple[str, CtaPriority], bool] = {}

    def account(self, account: AccountStage, fired: list[str]) -> None:
        """Plan for one account: `fired` are the ids of the rules that fire for it (by
        id); rules it holds an open CTA of are looked at too (to keep or close it)."""
        account_id = account.account_id
        held_rules = self.history.open_rules.get(account_id)
        by_id, hits = self.checker.by_id, self.hits
        if not held_rules:  # the common case: nothing open to keep or close
            for rule_id in fired:
                missed = hits[rule_id][account_id]
                self.violations.append(Violation(rule_id, account_id, missed))
                self.open_cta(by_id[rule_id], account, f"rule:{rule_id}:{account_id}", missed)
            return
        # rules that no longer fire (or apply) may have a CTA to close
        rule_ids = sorted({r for r in held_rules if r in by_id}.union(fired))
        for rule_id in rule_ids:
            rule = by_id[rule_id]
            key = f"rule:{rule_id}:{account_id}"
            held = self.history.open.get(key)
            found = hits[rule_id].get(account_id)
            if found is None:
                if held is not None:
                    stage = account.stage.casefold()
                    applies = self.checker.applies(rule, account, stage)
                    why = "compliant again" if applies else "the rule no longer applies"
                    self.closed.append(held.closed(at=self.now, reason=f"{why} ({rule.name})"))
                continue
            self.violations.append(Violation(rule_id, account_id, found))
            if held is None:
                self.open_cta(rule, account, key, found)
            else:
                self.keep_cta(rule, account, held, found)

    def per_rule(self, rule: Rule) -> tuple[CtaSource, CtaCategory, dt.datetime, bool]:
        """A rule's CTA source, category, due date at `now` and whether its new CTAs
        notify, built once per rule (and its CTA type checked once, as `CTA` does)."""
        found = self._per_rule.get(rule.id)
        if found is None:
            check_id(None, _CTA_TYPE, rule.type)
            found = self._per_rule[rule.id] = (
                CtaSource.rule(rule.id), rule.category, self.now + rule.due_days * _DAY,
                rule.notifies(rule.priority),
            )
        return found

    def open_cta(
        self, rule: Rule, account: AccountStage, key: str, found: tuple[tuple[str, str], ...]
    ) -> None:
        now = self.now
        if self.history.last_opened:  # any CTA of a rule on record: cooldown, frequency
            closed = self.history.last_closed.get(key)
            if closed is not None and now - closed < rule.cooldown_days * _DAY:
                self.suppressed["cooldown"] += 1
                return
            opened = self.history.last_opened.get(key)
            if opened is not None and now - opened < rule.frequency_days * _DAY:
                self.suppressed["frequency"] += 1
                return
        policy = rule.escalation  # the owner is stripped (or None) as a CTA's assignee is
        assignee = account.owner if policy is None else _optional_text(policy.resolve(0, account))
        source, category, due_at, notifies = self._per_rule.get(rule.id) or self.per_rule(rule)
        details: tuple[tuple[str, str], ...]
        if len(found) == 1:
            (name, text), = found
            reason = f"{rule.name}: {name} {text}"
            details = found
        else:
            reason = f"{rule.name}: " + "; ".join(f"{k} {v}" for k, v in found)
            details = tuple(sorted(dict(found).items()))
        cta = open_checked(
            account_id=account.account_id,
            source=source,
            type=rule.type,
            reason=reason,
            category=category,
            priority=rule.priority,
            at=now,
            stamp=self.stamp,
            assignee=assignee,
            details=details,
            due_at=due_at,
            dedupe_key=key,
        )
        self.opened.append(cta)
        if notifies:
            self.notify(rule, cta, "opened", "New call to action")
        else:
            self.suppressed["below notify priority"] += 1

    def keep_cta(
        self, rule: Rule, account: AccountStage, held: CTA, found: tuple[tuple[str, str], ...]
    ) -> None:
        now = self.now
        cta = held
        reason = f"{rule.name}: " + "; ".join(f"{k} {v}" for k, v in found)
        if cta.reason != reason or cta.details != tuple(sorted(dict(found).items())):
            cta = cta.updated(at=now, reason=reason, details=found)
        if cta.status is CtaStatus.SNOOZED and not cta.is_snoozed(now):
            cta = cta.reopened(at=now)
        elif cta.is_snoozed(now):
            self.suppressed["snoozed"] += 1
        if rule.escalation is not None:
            escalated, records = plan_escalation(cta, rule.escalation, account, now)
            if records:
                cta = escalated
                self.escalations.extend(records)
                self.notify(rule, cta, f"escalated:{cta.escalation_level}",
                            f"Escalated to level {cta.escalation_level}")
        if cta != held:
            self.updated.append(cta)

    def notify(self, rule: Rule, cta: CTA, event: str, headline: str) -> None:
        notifies = self._notifies.get((rule.id, cta.priority))
        if notifies is None:
            notifies = self._notifies[rule.id, cta.priority] = rule.notifies(cta.priority)
        if not notifies:
            self.suppressed["below notify priority"] += 1
            return
        for channel in rule.channels:
            if channel in ("slack", "teams"):
                recipient: str | None = "webhook"
            elif channel == "email":
                recipient = cta.assignee if cta.assignee and "@" in cta.assignee else None
            else:
                recipient = cta.assignee
            if recipient is None:
                self.skipped[f"no {channel} recipient"] += 1
                continue
            self.deliveries.append(
                delivery_for(cta, event=event, channel=channel, recipient=recipient,
                             at=self.now, headline=headline)
            )


def _stages_by_account(
    stages: Iterable[AccountStage], accounts: Iterable[Account] | None, skipped: Counter[str]
) -> list[AccountStage]:
    by_id: dict[str, AccountStage] = {}
    for state in stages:
        held = by_id.get(state.account_id)
        if held is not None:
            skipped["duplicate account stage"] += 1
            if (state.entered_at, state.stage) <= (held.entered_at, held.stage):
                continue
        by_id[state.account_id] = state
    if accounts is not None:
        known = {a.id: a for a in accounts}
        for account_id in list(by_id):
            account = known.get(account_id)
            if account is None:
                skipped["stage of an unknown account"] += 1
                del by_id[account_id]
            elif by_id[account_id].status != account.status.value:
                by_id[account_id] = attrs.evolve(by_id[account_id], status=account.status.value)
    return [by_id[k] for k in sorted(by_id)]


def _by_stage(states: list[AccountStage]) -> dict[str, list[AccountStage]]:
    """Folded stage -> its accounts (in the order of `states`)."""
    groups: dict[str, list[AccountStage]] = {}
    folded: dict[str, str] = {}  # stage as written -> folded
    for state in states:
        stage = folded.get(state.stage)
        if stage is None:
            stage = folded[state.stage] = state.stage.casefold()
        group = groups.get(stage)
        if group is None:
            groups[stage] = [state]
        else:
            group.append(state)
    return groups


def _in_stages(
    rules: RuleSet, kind: type[LowUsage | MissedTouchpoint], groups: dict[str, list[AccountStage]]
) -> frozenset[str] | None:
    """Accounts in a stage of some rule with a `kind` trigger; `None`: every account."""
    stages: set[str] = set()
    for rule in rules.rules:
        if any(isinstance(t, kind) for t in rule.triggers):
            if not rule.stages:
                return None
            stages.update(s.casefold() for s in rule.stages)
    return frozenset(s.account_id for stage in stages for s in groups.get(stage, ()))


def _prepare(
    stages: Iterable[AccountStage],
    rules: RuleSet | Iterable[Rule],
    *,
    now: dt.datetime,
    tasks: Iterable[Task],
    usage: Iterable[UsageRecord],
    decisions: Iterable[RoutingDecision],
    accounts: Iterable[Account] | None,
) -> tuple[list[AccountStage], dict[str, list[AccountStage]], _Checker, Counter[str]]:
    if not isinstance(now, dt.datetime) or now.utcoffset() is None:
        raise ConfigurationError(f"now must be a timezone-aware datetime, got {now!r}")
    rule_set = rules if isinstance(rules, RuleSet) else RuleSet(tuple(rules))
    skipped: Counter[str] = Counter()
    states = _stages_by_account(stages, accounts, skipped)
    groups = _by_stage(states)
    triggers = [t for r in rule_set.rules for t in r.triggers]
    touches = TouchIndex(
        (t for t in triggers if isinstance(t, MissedTouchpoint)), decisions, now,
        accounts=_in_stages(rule_set, MissedTouchpoint, groups),
    )
    facts = Facts(
        tasks=tasks,
        usage=usage,
        touches=touches,
        metrics={t.metric for t in triggers if isinstance(t, LowUsage)},
        now=now,
        usage_accounts=_in_stages(rule_set, LowUsage, groups),
    )
    return states, groups, _Checker(rule_set, facts), skipped


def find_violations(
    stages: Iterable[AccountStage],
    rules: RuleSet | Iterable[Rule],
    *,
    now: dt.datetime,
    tasks: Iterable[Task] = (),
    usage: Iterable[UsageRecord] = (),
    decisions: Iterable[RoutingDecision] = (),
    accounts: Iterable[Account] | None = None,
    progress: Progress | None = None,
) -> tuple[Violation, ...]:
    """Every (rule, account) that does not comply at `now`, with what was missed, by
    account id then rule id: the non-compliant set alone, without planning CTAs (what
    `evaluate_rules` returns as `violations`). `progress(done, total)` counts accounts."""
    _states, groups, checker, _skipped = _prepare(
        stages, rules, now=now, tasks=tasks, usage=usage, decisions=decisions, accounts=accounts
    )
    hits = checker.hits(groups, progress)
    found = sorted(
        (account_id, rule_id, details)
        for rule_id, table in hits.items()
        for account_id, details in table.items()
    )
    return tuple(Violation(r, a, d) for a, r, d in found)


def _fired_by_account(hits: dict[str, Hits], history: _History) -> dict[str, list[str]]:
    """Account id -> ids of the rules that fire for it (by id); an empty list for an
    account that only holds open CTAs."""
    out: dict[str, list[str]] = {}
    for rule_id in sorted(hits):
        for account_id in hits[rule_id]:
            fired = out.get(account_id)
            if fired is None:
                out[account_id] = [rule_id]
            else:
                fired.append(rule_id)
    for account_id in history.open_rules:
        out.setdefault(account_id, [])
    return out


def evaluate_rules(
    stages: Iterable[AccountStage],
    rules: RuleSet | Iterable[Rule],
    *,
    now: dt.datetime,
    tasks: Iterable[Task] = (),
    usage: Iterable[UsageRecord] = (),
    decisions: Iterable[RoutingDecision] = (),
    existing: Iterable[CTA] = (),
    accounts: Iterable[Account] | None = None,
    progress: Progress | None = None,
) -> AlertPlan:
    """Evaluate `rules` for every account in `stages` at `now`; pure and deterministic.

    `accounts`, when given, restricts evaluation to stages of known accounts and takes
    their status from them. `existing` are the stored CTAs (open and closed: the closed
    ones drive cooldown and frequency). `progress(done, total)` counts accounts.
    """
    states, groups, checker, skipped = _prepare(
        stages, rules, now=now, tasks=tasks, usage=usage, decisions=decisions, accounts=accounts
    )
    history = _History(existing)
    hits = checker.hits(groups, progress)
    planner = _Planner(checker, history, now, hits)
    planner.skipped.update(skipped)
    fired = _fired_by_account(hits, history)
    # only accounts where a rule fires or that hold an open CTA have anything to plan
    for state in states:
        rule_ids = fired.get(state.account_id)
        if rule_ids is not None:
            planner.account(state, rule_ids)
    return AlertPlan(
        now=now,
        ctas=CtaPlan(
            opened=tuple(planner.opened),
            updated=tuple(planner.updated),
            closed=tuple(planner.closed),
            escalations=tuple(planner.escalations),
        ),
        deliveries=tuple(planner.deliveries),
        violations=tuple(planner.violations),
        suppressed=tuple(sorted(planner.suppressed.items())),
        skipped=tuple(sorted(planner.skipped.items())),
    )
