"""Routing: which account(s) a communication belongs to, with evidence and explanation.

See docs/routing.md for the decision procedure rule by rule.
"""

from stakeholder._routing._addresses import is_automated_address
from stakeholder._routing._decide import route, route_many
from stakeholder._routing._index import DEFAULT_CACHE_SIZE as DEFAULT_CACHE_SIZE
from stakeholder._routing._index import OwnershipView as OwnershipView
from stakeholder._routing._index import RoutingIndex
from stakeholder._routing._rules import ROUTING_CONFIDENCE, RULE_DESCRIPTIONS, RoutingRule
from stakeholder._routing._values import (
    AmbiguityResolution,
    Evidence,
    EvidenceKind,
    Override,
    RouteStatus,
    RoutingDecision,
    RoutingPolicy,
    Strength,
)

__all__ = [
    "ROUTING_CONFIDENCE",
    "RULE_DESCRIPTIONS",
    "AmbiguityResolution",
    "Evidence",
    "EvidenceKind",
    "Override",
    "RouteStatus",
    "RoutingDecision",
    "RoutingIndex",
    "RoutingPolicy",
    "RoutingRule",
    "Strength",
    "is_automated_address",
    "route",
    "route_many",
]
