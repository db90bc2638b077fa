"""CRM account sync: select accounts by a status picklist, read Salesforce / HubSpot
exports, plan and apply syncs with grace-period removal, and push engagement metrics
back. See docs/crm.md.

The pure parts (selection, field maps, readers, planning, metrics) need nothing but the
library's values; `apply_account_sync`, `load_sync_state` and `apply_disconnect` write
to a store from `stakeholder.storage`.
"""

from __future__ import annotations

from stakeholder.crm._apply import (
    SYNC_STATE_RUN_ID,
    AppliedSync,
    SyncRun,
    apply_account_sync,
    apply_disconnect,
    load_sync_state,
    refresh_ownership,
    sync_crm,
)
from stakeholder.crm._duration import parse_duration
from stakeholder.crm._engagement import (
    AccountEngagement,
    EngagementFields,
    EngagementReport,
    WindowCounts,
    engagement_metrics,
    write_engagement_csv,
    write_engagement_json,
)
from stakeholder.crm._export import (
    CrmContacts,
    CrmRecord,
    CrmSnapshot,
    RecordDetails,
    UnknownColumn,
    crm_accounts_from_records,
    crm_contacts_from_records,
    owned_contact_fields,
    read_crm_accounts,
    read_crm_contacts,
    read_crm_export,
)
from stakeholder.crm._fields import DealPipeline, FieldMap, salesforce_id18
from stakeholder.crm._plan import (
    LIBRARY_TAGS,
    AccountSyncPlan,
    AccountUpdate,
    DisconnectPlan,
    FieldChange,
    Removal,
    RemovalCancellation,
    ScheduledRemoval,
    SyncedAccount,
    SyncState,
    is_library_record,
    is_library_tag,
    plan_account_sync,
    plan_disconnect,
)
from stakeholder.crm._selection import AccountSelector, Selection, SelectionStatus

__all__ = [
    "LIBRARY_TAGS",
    "SYNC_STATE_RUN_ID",
    "AccountEngagement",
    "AccountSelector",
    "AccountSyncPlan",
    "AccountUpdate",
    "AppliedSync",
    "CrmContacts",
    "CrmRecord",
    "CrmSnapshot",
    "DealPipeline",
    "DisconnectPlan",
    "EngagementFields",
    "EngagementReport",
    "FieldChange",
    "FieldMap",
    "RecordDetails",
    "Removal",
    "RemovalCancellation",
    "ScheduledRemoval",
    "Selection",
    "SelectionStatus",
    "SyncRun",
    "SyncState",
    "SyncedAccount",
    "UnknownColumn",
    "WindowCounts",
    "apply_account_sync",
    "apply_disconnect",
    "crm_accounts_from_records",
    "crm_contacts_from_records",
    "engagement_metrics",
    "is_library_record",
    "is_library_tag",
    "load_sync_state",
    "owned_contact_fields",
    "parse_duration",
    "plan_account_sync",
    "plan_disconnect",
    "read_crm_accounts",
    "read_crm_contacts",
    "read_crm_export",
    "refresh_ownership",
    "salesforce_id18",
    "sync_crm",
    "write_engagement_csv",
    "write_engagement_json",
]
