"""Checking one trigger for one account: the facts the evaluation indexes once, and a
function per trigger kind returning what was missed and by how much (or `None`).

`TouchIndex` holds, per touchpoint filter and account, the newest routed communication
at or before `now`: the same definition as the last touch of
`stakeholder.crm.engagement_metrics` (a `ROUTED` decision counts for every account in
its `account_ids`), computed in one pass for every filter the rules use.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final

from stakeholder._model import CommKind
from stakeholder._progress import Progress, ProgressTicker
from stakeholder._routing import RouteStatus, RoutingDecision
from stakeholder.alerts._inputs import AccountStage, Task, UsageRecord
from stakeholder.alerts._rules import LowUsage, MissedMilestone, MissedTouchpoint, Trigger

__all__ = ["Facts", "TouchIndex", "check_trigger"]

Detail = tuple[str, str]
_DAY = dt.timedelta(days=1)


def _days(delta: dt.timedelta) -> int:
    return delta // _DAY


def _date(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).date().isoformat()


def _ticking(items: Iterable[RoutingDecision], ticker: ProgressTicker) -> Iterator[RoutingDecision]:
    for item in items:
        ticker.advance()
        yield item


class TouchIndex:
    """Last routed touch per (touchpoint filter, account), built in one pass."""

    def __init__(
        self,
        triggers: Iterable[MissedTouchpoint],
        decisions: Iterable[RoutingDecision],
        now: dt.datetime,
        *,
        accounts: frozenset[str] | None = None,
        progress: Progress | None = None,
    ) -> None:
        keys = sorted({(t.comm_kind, t.subject) for t in triggers}, key=repr)
        self._slot = {key: i for i, key in enumerate(keys)}
        self.last: list[dict[str, dt.datetime]] = [{} for _ in keys]
        self._accounts = accounts
        if keys:
            self._scan(keys, decisions, now, progress)

    def _scan(
        self,
        keys: Sequence[tuple[CommKind | None, tuple[str, ...]]],
        decisions: Iterable[RoutingDecision],
        now: dt.datetime,
        progress: Progress | None,
    ) -> None:
        filters = [
            (kind, MissedTouchpoint(1, kind, subject).matcher(), self.last[i])
            for i, (kind, subject) in enumerate(keys)
        ]
        routed = RouteStatus.ROUTED
        ticker = ProgressTicker(progress, every=100_000)
        if progress is not None:
            decisions = _ticking(decisions, ticker)
        wanted = self._accounts
        # the kinds any filter wants (None: some filter takes every kind): checked first,
        # as most communications of a mailbox are of a kind no touchpoint rule names
        kinds = None if any(k is None for k, _ in keys) else frozenset(k for k, _ in keys)
        for decision in decisions:
            if kinds is not None and decision.kind not in kinds:
                continue
            if decision.status is not routed:
                continue
            when = decision.occurred_at
            if when is None or when > now:
                continue
            for kind, matcher, table in filters:
                if kind is not None and decision.kind is not kind:
                    continue
                if matcher is not None and matcher.search(decision.subject) is None:
                    continue
                for account_id in decision.account_ids:
                    if wanted is not None and account_id not in wanted:
                        continue
                    held = table.get(account_id)
                    if held is None or when > held:
                        table[account_id] = when
        ticker.close()

    def last_touch(self, trigger: MissedTouchpoint, account_id: str) -> dt.datetime | None:
        """The newest matching touch of the account, or `None`."""
        return self.table(trigger).get(account_id)

    def table(self, trigger: MissedTouchpoint) -> dict[str, dt.datetime]:
        """Account id -> newest matching touch, for `trigger`'s filter."""
        return self.last[self._slot[(trigger.comm_kind, trigger.subject)]]


class Facts:
    """Tasks and usage indexed by account, and the touch index, for one evaluation.
    Usage is kept only for `usage_accounts` when given (those a usage rule can apply to
    by stage) and for the metrics rules name."""

    def __init__(
        self,
        *,
        tasks: Iterable[Task],
        usage: Iterable[UsageRecord],
        touches: TouchIndex,
        metrics: set[str],
        now: dt.datetime,
        usage_accounts: frozenset[str] | None = None,
    ) -> None:
        self.now = now
        self.tasks: dict[str, list[Task]] = defaultdict(list)
        for task in tasks:
            self.tasks[task.account_id].append(task)
        today = now.date()
        self.usage: dict[tuple[str, str], dict[dt.date, float]] = {}
        series = self.usage
        wanted = {m.casefold() for m in metrics}
        folded: dict[str, str | None] = {}  # metric as written -> folded, None: not wanted
        last_name: str | None = None
        metric: str | None = None
        for record in usage:
            account_id = record.account_id
            if usage_accounts is not None and account_id not in usage_accounts:
                continue
            name = record.metric
            if name is not last_name:  # records of one metric usually come together
                last_name = name
                if name not in folded:
                    folded[name] = name.casefold() if name.casefold() in wanted else None
                metric = folded[name]
            period = record.period
            if metric is None or period > today:
                continue
            key = (account_id, metric)
            held = series.get(key)
            if held is None:
                series[key] = {period: record.value}
            else:
                held[period] = record.value
        self.touches = touches
        self._tables: dict[int, dict[str, dt.datetime]] = {}
        self._folded: dict[str, str] = {}
        self._days: dict[int, dt.timedelta] = {}

    def touch_table(self, trigger: MissedTouchpoint) -> dict[str, dt.datetime]:
        """The touch index's table for `trigger` (looked up once per trigger object)."""
        found = self._tables.get(id(trigger))
        if found is None:
            found = self._tables[id(trigger)] = self.touches.table(trigger)
        return found

    def folded(self, metric: str) -> str:
        """`metric.casefold()`, computed once per name."""
        found = self._folded.get(metric)
        if found is None:
            found = self._folded[metric] = metric.casefold()
        return found

    def days(self, n: int) -> dt.timedelta:
        """`timedelta(days=n)`, built once per `n`."""
        found = self._days.get(n)
        if found is None:
            found = self._days[n] = dt.timedelta(days=n)
        return found


def _milestone(trigger: MissedMilestone, account: AccountStage, facts: Facts) -> list[Detail]:
    tasks = facts.tasks.get(account.account_id)
    if not tasks:
        return []
    now = facts.now
    out = []
    patterns = [p.casefold() for p in trigger.tasks]
    for task in sorted(tasks, key=lambda t: t.id) if len(tasks) > 1 else tasks:
        if task.stage is not None and task.stage.casefold() != account.stage.casefold():
            continue
        if patterns and not any(fnmatch.fnmatchcase(task.name.casefold(), p) for p in patterns):
            continue
        if task.done_at is not None and task.done_at <= now:
            continue
        due = task.due_at
        if due is None:
            days = task.within_days if task.within_days is not None else trigger.within_days
            if days is None:
                continue
            due = account.entered_at + dt.timedelta(days=days)
        if now > due:
            late = max(1, _days(now - due))
            text = f"overdue by {late} day(s) (due {_date(due)})"
            out.append((f"missed milestone: {task.name}", text))
    return out


def _usage(trigger: LowUsage, account: AccountStage, facts: Facts) -> list[Detail]:
    series = facts.usage.get((account.account_id, facts.folded(trigger.metric)))
    if not series or len(series) < trigger.periods:
        return []
    latest = sorted(series)[-trigger.periods :]
    below = trigger.below
    values = [series[p] for p in latest]
    if max(values) < below:
        shown = ", ".join(f"{v:g}" for v in values)
        return [(
            f"low usage: {trigger.metric}",
            f"below {trigger.below:g} for {trigger.periods} period(s) "
            f"from {latest[0].isoformat()}: {shown}",
        )]
    return []


def _touchpoint(trigger: MissedTouchpoint, account: AccountStage, facts: Facts) -> list[Detail]:
    last = facts.touch_table(trigger).get(account.account_id)
    since = account.entered_at if last is None or account.entered_at > last else last
    quiet = facts.now - since
    if quiet <= facts.days(trigger.within_days):
        return []
    seen = f"last {_date(last)}" if last is not None else "none on record"
    return [(
        f"missed touchpoint: {trigger.label}",
        f"none in {_days(quiet)} day(s) (limit {trigger.within_days}; {seen})",
    )]


_CHECKS: Final[dict[type, Callable[[Any, AccountStage, Facts], list[Detail]]]] = {
    MissedMilestone: _milestone,
    LowUsage: _usage,
    MissedTouchpoint: _touchpoint,
}


def check_trigger(trigger: Trigger, account: AccountStage, facts: Facts) -> list[Detail]:
    """What `trigger` finds missed for `account` (empty: compliant)."""
    return _CHECKS[type(trigger)](trigger, account, facts)


def subject_matcher(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """The compiled form of touchpoint subject patterns (`None`: any subject)."""
    return MissedTouchpoint(1, None, tuple(patterns)).matcher()
