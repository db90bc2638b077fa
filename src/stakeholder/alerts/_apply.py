"""Applying plans to a store and running a whole alert pass.

`apply_cta_plan` writes a `CtaPlan` (any layer's), `apply_alert_plan` writes an
`AlertPlan` (CTAs, escalations and the deliveries it enqueues) in one transaction;
`run_alerts` evaluates against the stored CTAs, applies, and delivers the outbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

import attrs

from stakeholder._model import Account
from stakeholder._progress import Progress
from stakeholder._routing import RoutingDecision
from stakeholder.alerts._cta import CtaPlan
from stakeholder.alerts._evaluate import AlertPlan, evaluate_rules
from stakeholder.alerts._inputs import AccountStage, Task, UsageRecord
from stakeholder.alerts._notify import DeliveryReport, Notifier, RetryPolicy, deliver_outbox
from stakeholder.alerts._rules import Rule, RuleSet

if TYPE_CHECKING:
    from stakeholder.storage._alerts_protocols import (
        CtaRepository,
        EscalationRepository,
        InboxRepository,
        OutboxRepository,
    )

__all__ = ["AlertRun", "AlertStore", "apply_alert_plan", "apply_cta_plan", "run_alerts"]


class AlertStore(Protocol):
    """What the alert functions need of a store (every shipped store has it)."""

    @property
    def ctas(self) -> CtaRepository: ...

    @property
    def escalations(self) -> EscalationRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def inbox(self) -> InboxRepository: ...

    def batch(self) -> AbstractContextManager[None]: ...


class _CtaStore(Protocol):
    @property
    def ctas(self) -> CtaRepository: ...

    @property
    def escalations(self) -> EscalationRepository: ...

    def batch(self) -> AbstractContextManager[None]: ...


def apply_cta_plan(store: _CtaStore, tenant: str, plan: CtaPlan) -> int:
    """Write a `CtaPlan` in one transaction: the CTAs it opens, updates and closes, and
    its escalations (idempotent). Returns how many CTAs were written."""
    with store.batch():
        written = store.ctas.put_many(tenant, plan.changed).written
        if plan.escalations:
            store.escalations.add_many(tenant, plan.escalations)
    return written


def apply_alert_plan(store: AlertStore, tenant: str, plan: AlertPlan) -> int:
    """Write an `AlertPlan` in one transaction (CTAs, escalations, and its deliveries
    into the outbox: a delivery already there is left as it was). Returns how many
    deliveries were newly enqueued."""
    with store.batch():
        apply_cta_plan(store, tenant, plan.ctas)
        return store.outbox.enqueue(tenant, plan.deliveries).written


@attrs.frozen
class AlertRun:
    """One `run_alerts` pass: the plan, whether it was applied, and the deliveries."""

    plan: AlertPlan
    applied: bool
    enqueued: int = 0
    delivery: DeliveryReport | None = None

    def summary(self) -> dict[str, int]:
        """The plan's counts, plus `sent <channel>` / `failed <channel>` when it sent."""
        out = self.plan.summary()
        if self.delivery is not None:
            out.update({f"sent {k}": v for k, v in self.delivery.sent})
            out.update({f"failed {k}": v for k, v in self.delivery.failed})
        return out


def run_alerts(
    store: AlertStore,
    tenant: str,
    rules: RuleSet | Iterable[Rule],
    stages: Iterable[AccountStage],
    *,
    now: dt.datetime,
    tasks: Iterable[Task] = (),
    usage: Iterable[UsageRecord] = (),
    decisions: Iterable[RoutingDecision] = (),
    accounts: Iterable[Account] | None = None,
    notifiers: Mapping[str, Notifier] | None = None,
    send: bool = False,
    retry: RetryPolicy | None = None,
    progress: Progress | None = None,
) -> AlertRun:
    """Evaluate against the tenant's stored CTAs at `now`; with `send`, apply the plan
    and deliver the outbox (earlier failures that are due again included). Without
    `send` (a dry run) nothing is written or sent: the plan says what would be."""
    plan = evaluate_rules(
        stages, rules, now=now, tasks=tasks, usage=usage, decisions=decisions,
        existing=store.ctas.list(tenant), accounts=accounts, progress=progress,
    )
    if not send:
        return AlertRun(plan, applied=False)
    enqueued = apply_alert_plan(store, tenant, plan)
    report = deliver_outbox(store.outbox, tenant, notifiers or {}, now=now, retry=retry)
    return AlertRun(plan, applied=True, enqueued=enqueued, delivery=report)
