"""Shared contacts: one person's records in several accounts, their primary account,
the tags that say so, and optional copies in the corporate (parent) account.

Pure: no I/O, no clock. See docs/shared-contacts.md for the rules, with examples.

- `find_shared_contacts` links records transitively (union-find) through the canonical
  email (`Contact.email_address`) and/or the E.164 phone (`normalize_phone`), and keeps
  the groups that span two or more distinct accounts.
- `rank_primary` orders one person's records by a public, replaceable cascade of
  `RankingCriterion` objects and says which criterion decided.
- `plan_shared_contact_sync` turns the groups into tag changes and corporate copies;
  `apply_shared_contact_plan` applies a plan to a list of contacts (pure).
"""

from __future__ import annotations

from stakeholder._shared._groups import (
    MatchLink,
    SharedContactGroup,
    SharedContactReport,
    SharedContacts,
    find_shared_contacts,
    primary_accounts,
)
from stakeholder._shared._match import (
    MatchOn,
)
from stakeholder._shared._plan import (
    CopyAction,
    CorporateCopy,
    SharedContactPlan,
    TagChange,
    apply_shared_contact_plan,
    copy_contact_id,
    engaging_tag,
    plan_shared_contact_sync,
)
from stakeholder._shared._ranking import (
    BY_CONVERSIONS,
    BY_CREATED,
    BY_DEAL_STAGE,
    BY_FIRST_CONVERSION,
    BY_RECORD_ID,
    DEFAULT_CASCADE,
    Prefer,
    PrimaryRanking,
    RankingCriterion,
    RankStep,
    rank_primary,
)
from stakeholder._shared._tags import (
    COPY_ID_PREFIX,
    ENGAGING_TAG_PREFIX,
    PRIMARY_TAG,
    SECONDARY_TAG,
)

__all__ = [
    "BY_CONVERSIONS",
    "BY_CREATED",
    "BY_DEAL_STAGE",
    "BY_FIRST_CONVERSION",
    "BY_RECORD_ID",
    "COPY_ID_PREFIX",
    "DEFAULT_CASCADE",
    "ENGAGING_TAG_PREFIX",
    "PRIMARY_TAG",
    "SECONDARY_TAG",
    "CopyAction",
    "CorporateCopy",
    "MatchLink",
    "MatchOn",
    "Prefer",
    "PrimaryRanking",
    "RankStep",
    "RankingCriterion",
    "SharedContactGroup",
    "SharedContactPlan",
    "SharedContactReport",
    "SharedContacts",
    "TagChange",
    "apply_shared_contact_plan",
    "copy_contact_id",
    "engaging_tag",
    "find_shared_contacts",
    "plan_shared_contact_sync",
    "primary_accounts",
    "rank_primary",
]
