"""Non-compliance alerts: lifecycle-stage rules that open, escalate and close calls to
action (CTAs), with email, Slack, Teams and in-app notifications. See docs/alerts.md.

The CTA model (`CTA`, `CtaPlan`, `plan_ctas`, ...) is shared with other layers (sponsor
tracking opens CTAs through it). Everything here is pure except the notifier adapters
and the functions that write to a store.
"""

from __future__ import annotations

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
