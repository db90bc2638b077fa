"""Sponsor tracking: follow key contacts (sponsors, champions) on a pluggable profile
source, match them with evidence, detect their job changes, and open CTAs through the
alerts CTA model. See docs/sponsors.md.

The pure parts (statuses, matching, change detection, SLAs, reports) take values and
return values; `SnapshotSource` reads files; the functions of `_workflow` read and
write a store.
"""

from __future__ import annotations

from stakeholder.sponsors._changes import (
    AcceptResult,
    ChangeField,
    ProfileUpdate,
    Signal,
    UpdateState,
    accept_updates,
    account_timeline,
    classify_company_change,
    detect_changes,
    person_history,
)
from stakeholder.sponsors._directory import AccountDirectory
from stakeholder.sponsors._matching import (
    MatchEvidence,
    MatchPolicy,
    MatchResult,
    Suggestion,
    company_domain,
    company_key,
    match_person,
    score_profile,
)
from stakeholder.sponsors._profiles import (
    Observation,
    PersonQuery,
    Profile,
    ProfileGone,
    ProfileSource,
    SnapshotSource,
    normalise,
)
from stakeholder.sponsors._reports import changes_report, coverage_gaps
from stakeholder.sponsors._round import ObservationRound, observe_round, plan_sponsor_ctas
from stakeholder.sponsors._sla import SlaBreach, SlaKind, SlaPolicy, sla_breaches
from stakeholder.sponsors._status import (
    TRANSITIONS,
    BulkResult,
    HistoryEntry,
    IllegalTransition,
    Skipped,
    TrackingAction,
    TrackingRecord,
    TrackingStatus,
    TrackingVia,
    apply_action,
    legal_actions,
    next_status,
    start_tracking,
    start_tracking_many,
    track_all,
)
from stakeholder.sponsors._workflow import (
    SponsorStore,
    accept,
    find_matches,
    force_match,
    run_observation_round,
    stop_tracking,
    track_people,
    track_suggestions,
)

__all__ = [
    "TRANSITIONS",
    "AcceptResult",
    "AccountDirectory",
    "BulkResult",
    "ChangeField",
    "HistoryEntry",
    "IllegalTransition",
    "MatchEvidence",
    "MatchPolicy",
    "MatchResult",
    "Observation",
    "ObservationRound",
    "PersonQuery",
    "Profile",
    "ProfileGone",
    "ProfileSource",
    "ProfileUpdate",
    "Signal",
    "Skipped",
    "SlaBreach",
    "SlaKind",
    "SlaPolicy",
    "SnapshotSource",
    "SponsorStore",
    "Suggestion",
    "TrackingAction",
    "TrackingRecord",
    "TrackingStatus",
    "TrackingVia",
    "UpdateState",
    "accept",
    "accept_updates",
    "account_timeline",
    "apply_action",
    "changes_report",
    "classify_company_change",
    "company_domain",
    "company_key",
    "coverage_gaps",
    "detect_changes",
    "find_matches",
    "force_match",
    "legal_actions",
    "match_person",
    "next_status",
    "normalise",
    "observe_round",
    "person_history",
    "plan_sponsor_ctas",
    "run_observation_round",
    "score_profile",
    "sla_breaches",
    "start_tracking",
    "start_tracking_many",
    "stop_tracking",
    "track_all",
    "track_people",
    "track_suggestions",
]
