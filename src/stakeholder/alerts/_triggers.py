"""Checking triggers: the facts the evaluation indexes once, and one function per trigger
kind that checks a batch of accounts and returns, per firing account, what was missed
and by how much.

`TouchIndex` holds, per touchpoint filter and account, the newest routed communication
at or before `now`: the same definition as the last touch of
`stakeholder.crm.engagement_metrics` (a `ROUTED` decision counts for every account in
its `account_ids`), computed in one pass for every filter the rules use. Whether a
subject matches a filter is remembered per distinct subject (up to `_SUBJECT_MEMO`
subjects), so a subject repeated across a book is searched once.
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

__all__ = ["Facts", "Hits", "TouchIndex", "trigger_hits"]

Detail = tuple[str, str]
Hits = dict[str, tuple[Detail, ...]]
"""Account id -> what a trigger (or rule) found missed, for the accounts where it fires."""

_DAY = dt.timedelta(days=1)
_SUBJECT_MEMO: Final = 1 << 16


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
        # per communication kind some filter wants: (subject patterns, table) of those
        # filters, and subject -> the tables of the filters whose patterns it matches
        wants: dict[CommKind, list[tuple[re.Pattern[str] | None, dict[str, dt.datetime]]]] = {}
        for (kind, patterns), table in zip(keys, self.last, strict=True):
            matcher = MissedTouchpoint(1, kind, patterns).matcher()
            for each in CommKind if kind is None else (kind,):
                wants.setdefault(each, []).append((matcher, table))
        memos: dict[CommKind, dict[str, tuple[dict[str, dt.datetime], ...]]] = {
            kind: {} for kind in wants
        }
        routed = RouteStatus.ROUTED
        ticker = ProgressTicker(progress, every=100_000)
        if progress is not None:
            decisions = _ticking(decisions, ticker)
        wanted = self._accounts
        for decision in decisions:
            memo = memos.get(decision.kind)
            if memo is None:  # most communications are of a kind no rule names
                continue
            subject = decision.subject
            tables = memo.get(subject)
            if tables is None:
                tables = tuple(
                    table for matcher, table in wants[decision.kind]
                    if matcher is None or matcher.search(subject) is not None
                )
                if len(memo) < _SUBJECT_MEMO:
                    memo[subject] = tables
            if not tables or decision.status is not routed:
                continue
            when = decision.occurred_at
            if when is None or when > now:
                continue
            for account_id in decision.account_ids:
                if wanted is not None and account_id not in wanted:
                    continue
                for table in tables:
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


def _usage_index(
    usage: Iterable[UsageRecord],
    metrics: set[str],
    today: dt.date,
    accounts: frozenset[str] | None,
) -> dict[str, dict[str, dict[dt.date, float]]]:
    """Folded metric -> account id -> period -> value (the last record of a period wins),
    for the `metrics` rules name, periods up to `today`, and `accounts` when given.
    Records of one account (or one metric) usually come together: what was looked up
    for the previous record is reused while the account and metric stay the same."""
    out: dict[str, dict[str, dict[dt.date, float]]] = {m.casefold(): {} for m in metrics}
    tables: dict[str, dict[str, dict[dt.date, float]] | None] = {}  # metric as written
    last_name: str | None = None
    last_account: str | None = None
    table: dict[str, dict[dt.date, float]] | None = None
    held_table: dict[str, dict[dt.date, float]] | None = None
    held: dict[dt.date, float] = {}
    keep = False
    for record in usage:
        account_id = record.account_id
        if account_id is not last_account:
            last_account, held_table = account_id, None
            keep = accounts is None or account_id in accounts
        if not keep:
            continue
        name = record.metric
        if name is not last_name:
            last_name = name
            if name not in tables:
                tables[name] = out.get(name.casefold())
            table = tables[name]
        if table is None:
            continue
        period = record.period
        if period > today:
            continue
        if table is not held_table:
            held_table = table
            found = table.get(account_id)
            if found is None:
                found = table[account_id] = {}
            held = found
        held[period] = record.value
    return out


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
        self.usage = _usage_index(usage, metrics, now.date(), usage_accounts)
        self.touches = touches
        self._days: dict[int, dt.timedelta] = {}

    def series(self, metric: str) -> dict[str, dict[dt.date, float]]:
        """Account id -> period -> value of `metric` (case-insensitive)."""
        return self.usage.get(metric.casefold(), {})

    def days(self, n: int) -> dt.timedelta:
        """`timedelta(days=n)`, built once per `n`."""
        found = self._days.get(n)
        if found is None:
            found = self._days[n] = dt.timedelta(days=n)
        return found


def _milestone(
    trigger: MissedMilestone, accounts: Sequence[AccountStage], facts: Facts
) -> Hits:
    out: Hits = {}
    by_account = facts.tasks
    now = facts.now
    patterns = [p.casefold() for p in trigger.tasks]
    for account in accounts:
        tasks = by_account.get(account.account_id)
        if not tasks:
            continue
        found: list[Detail] | None = None
        stage = account.stage.casefold()
        for task in sorted(tasks, key=lambda t: t.id) if len(tasks) > 1 else tasks:
            if task.stage is not None and task.stage.casefold() != stage:
                continue
            if patterns and not any(fnmatch.fnmatchcase(task.name.casefold(), p)
                                    for p in patterns):
                continue
            if task.done_at is not None and task.done_at <= now:
                continue
            due = task.due_at
            if due is None:
                days = task.within_days if task.within_days is not None else trigger.within_days
                if days is None:
                    continue
                due = account.entered_at + facts.days(days)
            if now > due:
                late = max(1, _days(now - due))
                text = f"overdue by {late} day(s) (due {_date(due)})"
                if found is None:
                    found = []
                found.append((f"missed milestone: {task.name}", text))
        if found:
            out[account.account_id] = tuple(found)
    return out


def _usage(trigger: LowUsage, accounts: Sequence[AccountStage], facts: Facts) -> Hits:
    out: Hits = {}
    table = facts.series(trigger.metric)
    periods, below = trigger.periods, trigger.below
    name = f"low usage: {trigger.metric}"
    for account in accounts:
        series = table.get(account.account_id)
        if not series or len(series) < periods:
            continue
        latest = sorted(series)[-periods:]
        if max(map(series.__getitem__, latest)) < below:
            values = [series[p] for p in latest]
            shown = ", ".join(f"{v:g}" for v in values)
            out[account.account_id] = ((
                name,
                f"below {below:g} for {periods} period(s) from {latest[0].isoformat()}: {shown}",
            ),)
    return out


def _touchpoint(
    trigger: MissedTouchpoint, accounts: Sequence[AccountStage], facts: Facts
) -> Hits:
    out: Hits = {}
    table = facts.touches.table(trigger)
    now, limit = facts.now, trigger.within_days
    span = facts.days(limit)
    try:
        cutoff = now - span  # quiet <= limit  <=>  since >= cutoff
    except OverflowError:
        return out  # further back than any date: never late
    name = f"missed touchpoint: {trigger.label}"
    for account in accounts:
        entered = account.entered_at
        if entered >= cutoff:
            continue
        last = table.get(account.account_id)
        if last is not None and last >= cutoff:
            continue
        since = entered if last is None or entered > last else last
        seen = f"last {_date(last)}" if last is not None else "none on record"
        out[account.account_id] = (
            (name, f"none in {_days(now - since)} day(s) (limit {limit}; {seen})"),
        )
    return out


_CHECKS: Final[dict[type, Callable[[Any, Sequence[AccountStage], Facts], Hits]]] = {
    MissedMilestone: _milestone,
    LowUsage: _usage,
    MissedTouchpoint: _touchpoint,
}


def trigger_hits(trigger: Trigger, accounts: Sequence[AccountStage], facts: Facts) -> Hits:
    """What `trigger` finds missed, per account of `accounts` where it fires."""
    return _CHECKS[type(trigger)](trigger, accounts, facts)
