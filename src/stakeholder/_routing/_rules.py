"""Routing rules: their names, confidences and descriptions."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final


class RoutingRule(enum.StrEnum):
    """The rule that decided a communication (`RoutingDecision.rule` holds its value)."""

    OVERRIDE = "override"
    UNIQUE_CONTACT = "unique_contact"
    DOMAIN_SYNC = "domain_sync"
    PARTNER = "partner"
    HIERARCHY_OWNER = "hierarchy_owner"
    WEAK_INTERSECTION = "weak_intersection"
    THREAD_MEMORY = "thread_memory"
    SHARED_PRIMARY = "shared_primary"
    SUBJECT_ALIAS = "subject_alias"
    POLICY_ALL = "policy_all"
    POLICY_PRIMARY = "policy_primary"
    AMBIGUOUS = "ambiguous"
    NO_EVIDENCE = "no_evidence"
    AUTOMATED_ONLY = "automated_only"
    INTERNAL_ONLY = "internal_only"
    REJECTED = "rejected"
    STICKY_OVERRIDE = "sticky_override"
    BULK = "bulk"
    TOO_BROAD = "too_broad"


ROUTING_CONFIDENCE: Final[Mapping[str, float]] = {
    RoutingRule.OVERRIDE.value: 1.0,
    RoutingRule.STICKY_OVERRIDE.value: 1.0,
    RoutingRule.UNIQUE_CONTACT.value: 0.95,
    RoutingRule.DOMAIN_SYNC.value: 0.85,
    RoutingRule.PARTNER.value: 0.8,
    RoutingRule.HIERARCHY_OWNER.value: 0.75,
    RoutingRule.WEAK_INTERSECTION.value: 0.7,
    RoutingRule.THREAD_MEMORY.value: 0.65,
    RoutingRule.SHARED_PRIMARY.value: 0.6,
    RoutingRule.SUBJECT_ALIAS.value: 0.5,
    RoutingRule.POLICY_ALL.value: 0.3,
    RoutingRule.POLICY_PRIMARY.value: 0.3,
    RoutingRule.AMBIGUOUS.value: 0.0,
    RoutingRule.NO_EVIDENCE.value: 0.0,
    RoutingRule.AUTOMATED_ONLY.value: 0.0,
    RoutingRule.INTERNAL_ONLY.value: 0.0,
    RoutingRule.REJECTED.value: 0.0,
    RoutingRule.BULK.value: 0.0,
    RoutingRule.TOO_BROAD.value: 0.0,
}
"""Rule -> confidence of the account attribution it makes (0.0 where no account is
given). The table is documented in docs/routing.md."""

RULE_DESCRIPTIONS: Final[Mapping[str, str]] = {
    RoutingRule.OVERRIDE.value: "a person's override always wins",
    RoutingRule.UNIQUE_CONTACT.value: "a participant is a known contact of exactly one account",
    RoutingRule.DOMAIN_SYNC.value: (
        "a participant's address is at a domain that exactly one account owns (domain sync)"
    ),
    RoutingRule.PARTNER.value: "only partner accounts have strong evidence: the partner gets it",
    RoutingRule.HIERARCHY_OWNER.value: (
        "the address is at a shared domain whose claimants have one common parent account"
    ),
    RoutingRule.WEAK_INTERSECTION.value: (
        "the weak evidence of all participants points at exactly one account"
    ),
    RoutingRule.THREAD_MEMORY.value: "an earlier communication of the thread broke the tie",
    RoutingRule.SHARED_PRIMARY.value: "the shared contact's primary account broke the tie",
    RoutingRule.SUBJECT_ALIAS.value: "the subject names one of the tied accounts",
    RoutingRule.POLICY_ALL.value: "unresolved tie: the policy gives it to every candidate",
    RoutingRule.POLICY_PRIMARY.value: (
        "unresolved tie: the policy gives it to the first-ranked candidate"
    ),
    RoutingRule.AMBIGUOUS.value: "no rule could pick one account among the candidates",
    RoutingRule.NO_EVIDENCE.value: (
        "no participant is a known contact or at an owned domain (personal or unknown domains)"
    ),
    RoutingRule.AUTOMATED_ONLY.value: "only automated senders and invalid addresses take part",
    RoutingRule.INTERNAL_ONLY.value: "only our own people take part",
    RoutingRule.REJECTED.value: "the communication cannot be routed at all",
    RoutingRule.STICKY_OVERRIDE.value: (
        "a person's reroute of a participant's address or host (from a moment on) decides"
    ),
    RoutingRule.BULK.value: (
        "list or bulk mail, or strong evidence for more accounts than the policy allows: "
        "not attributed to any of them; they are listed as candidates"
    ),
    RoutingRule.TOO_BROAD.value: (
        "the only evidence is a host claimed by too many accounts to tell apart; a "
        "capped list of them are the candidates"
    ),
}

_EVIDENCE_RULES: Final = frozenset(
    {
        RoutingRule.HIERARCHY_OWNER.value,
        RoutingRule.WEAK_INTERSECTION.value,
    }
)
"""Weak-evidence rules that decide without a tie-break (thread memory learns from them)."""


