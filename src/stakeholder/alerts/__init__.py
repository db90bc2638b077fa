"""Non-compliance alerts: lifecycle-stage rules that open, escalate and close calls to
action (CTAs), with email, Slack, Teams and in-app notifications. See docs/alerts.md.

The CTA model (`CTA`, `CtaPlan`, `plan_ctas`, ...) is shared with other layers (sponsor
tracking opens CTAs through it). Evaluation is pure; only the notifier adapters and
the functions that write to a store have side effects. httpx (the `alerts` extra) is
imported only when a Slack or Teams notifier is built.
"""

from __future__ import annotations

from stakeholder.alerts._apply import (
    AlertRun,
    AlertStore,
    apply_alert_plan,
    apply_cta_plan,
    run_alerts,
)
from stakeholder.alerts._cta import (
    CTA,
    CtaCategory,
    CtaPlan,
    CtaPriority,
    CtaSource,
    CtaStatus,
    Escalation,
    SourceKind,
    cta_id,
    default_dedupe_key,
    plan_ctas,
)
from stakeholder.alerts._evaluate import (
    AlertPlan,
    Violation,
    evaluate_rules,
    find_violations,
    plan_escalation,
)
from stakeholder.alerts._inputs import DEFAULT_STAGES, AccountStage, Stage, Task, UsageRecord
from stakeholder.alerts._io import read_account_stages, read_decisions, read_tasks, read_usage
from stakeholder.alerts._notify import (
    DeliveryReport,
    EmailNotifier,
    InAppNotifier,
    Notifier,
    NotifierError,
    RetryPolicy,
    SlackNotifier,
    TeamsNotifier,
    deliver_outbox,
    slack_payload,
    teams_payload,
)
from stakeholder.alerts._outbox import Delivery, DeliveryStatus, InboxItem, delivery_id
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
from stakeholder.alerts._toml import load_rules, parse_rules

__all__ = [
    "CHANNELS",
    "CTA",
    "DEFAULT_STAGES",
    "AccountFilter",
    "AccountStage",
    "AlertPlan",
    "AlertRun",
    "AlertStore",
    "Combine",
    "CtaCategory",
    "CtaPlan",
    "CtaPriority",
    "CtaSource",
    "CtaStatus",
    "Delivery",
    "DeliveryReport",
    "DeliveryStatus",
    "EmailNotifier",
    "Escalation",
    "EscalationPolicy",
    "InAppNotifier",
    "InboxItem",
    "LowUsage",
    "MissedMilestone",
    "MissedTouchpoint",
    "Notifier",
    "NotifierError",
    "NotifySettings",
    "RetryPolicy",
    "Rule",
    "RuleError",
    "RuleSet",
    "SlackNotifier",
    "SourceKind",
    "Stage",
    "Task",
    "TeamsNotifier",
    "Trigger",
    "UsageRecord",
    "Violation",
    "apply_alert_plan",
    "apply_cta_plan",
    "cta_id",
    "default_dedupe_key",
    "delivery_id",
    "deliver_outbox",
    "evaluate_rules",
    "find_violations",
    "load_rules",
    "parse_rules",
    "plan_ctas",
    "plan_escalation",
    "read_account_stages",
    "read_decisions",
    "read_tasks",
    "read_usage",
    "run_alerts",
    "slack_payload",
    "teams_payload",
]
