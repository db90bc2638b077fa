"""Applying CRM sync plans to a store, and the sync state kept there.

The storage layer has no repository for pending removals yet, so the sync keeps them
in the tenant's run log, in one record (run id ``crm-sync-state``) whose note holds
them as JSON and which each sync replaces. Every sync and disconnect also records a
run of its own (``crm-sync:<now>`` / ``crm-disconnect:<now>``) with its counts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

import attrs

from stakeholder._errors import StorageError
from stakeholder._model import Rejection
from stakeholder._ownership import DomainOwnership, OwnershipPolicy, resolve_domain_ownership
from stakeholder.crm._plan import (
    AccountSyncPlan,
    DisconnectPlan,
    SyncedAccount,
    SyncState,
    plan_account_sync,
)
from stakeholder.crm._selection import AccountSelector
from stakeholder.crm._snapshot import CrmRecord, CrmSnapshot
from stakeholder.storage import RunRecord

if TYPE_CHECKING:
    from stakeholder._ownership import SyncIssue
    from stakeholder.storage import Store

__all__ = [
    "SYNC_STATE_RUN_ID",
    "AppliedSync",
    "SyncRun",
    "apply_account_sync",
    "apply_disconnect",
    "load_sync_state",
    "refresh_ownership",
    "sync_crm",
]

SYNC_STATE_RUN_ID: Final = "crm-sync-state"
_STATE_VERSION: Final = 1

Pending = dict[str, tuple[dt.datetime, dt.datetime, str]]


def _read_pending(store: Store, tenant: str) -> Pending:
    record = store.runs.get(tenant, SYNC_STATE_RUN_ID)
    if record is None or not record.note:
        return {}
    try:
        data = json.loads(record.note)
        if data.get("version") != _STATE_VERSION:
            raise ValueError(f"unknown sync state version {data.get('version')!r}")
        return {
            account_id: (
                dt.datetime.fromisoformat(entry["missing_since"]),
                dt.datetime.fromisoformat(entry["due"]),
                str(entry.get("reason", "")),
            )
            for account_id, entry in data["pending"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StorageError(
            f"the CRM sync state of tenant {tenant!r} is unreadable: {exc}"
        ) from exc


def _write_pending(store: Store, tenant: str, pending: Pending, at: dt.datetime) -> None:
    note = json.dumps(
        {
            "version": _STATE_VERSION,
            "pending": {
                account_id: {
                    "missing_since": since.isoformat(),
                    "due": due.isoformat(),
                    "reason": reason,
                }
                for account_id, (since, due, reason) in sorted(pending.items())
            },
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    store.runs.record(
        tenant,
        RunRecord(
            SYNC_STATE_RUN_ID,
            at,
            operation="crm-sync-state",
            counts={"pending_removal": len(pending)},
            note=note,
        ),
    )


def load_sync_state(store: Store, tenant: str) -> SyncState:
    """The tenant's accounts (with their pending removals) and contacts, as
    `plan_account_sync` takes them. A pending entry whose account is no longer stored
    is ignored."""
    pending = _read_pending(store, tenant)
    accounts = [
        SyncedAccount(a, *pending[a.id]) if a.id in pending else SyncedAccount(a)
        for a in store.accounts.list(tenant)
    ]
    return SyncState(tuple(accounts), tuple(store.contacts.list(tenant)))


@attrs.frozen
class AppliedSync:
    """What applying a plan wrote: counts of accounts and contacts written and deleted,
    timeline entries deleted with removed accounts, and what the store set aside."""

    accounts_written: int = 0
    accounts_deleted: int = 0
    contacts_written: int = 0
    contacts_deleted: int = 0
    decisions_deleted: int = 0
    rejections: tuple[Rejection, ...] = ()
    purged: tuple[tuple[str, int], ...] = ()

    def explain(self) -> str:
        lines = [
            f"wrote {self.accounts_written} account(s) and {self.contacts_written} "
            f"contact(s); deleted {self.accounts_deleted} account(s), "
            f"{self.contacts_deleted} contact(s) and {self.decisions_deleted} timeline "
            f"entr{'y' if self.decisions_deleted == 1 else 'ies'}; the store set aside "
            f"{len(self.rejections)}"
        ]
        lines += [f"  {r.record_id}: {r.reason}" for r in self.rejections]
        if self.purged:
            lines.append(
                "purged the tenant: "
                + ", ".join(f"{table} {count}" for table, count in self.purged)
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accounts_written": self.accounts_written,
            "accounts_deleted": self.accounts_deleted,
            "contacts_written": self.contacts_written,
            "contacts_deleted": self.contacts_deleted,
            "decisions_deleted": self.decisions_deleted,
            "rejections": [r.to_dict() for r in self.rejections],
            "purged": dict(self.purged),
        }


def _delete_timelines(store: Store, tenant: str, account_ids: Iterable[str]) -> int:
    """Delete the decisions that belong only to accounts in `account_ids`."""
    gone = set(account_ids)
    doomed: set[str] = set()
    for account_id in sorted(gone):
        for decision in store.decisions.timeline(tenant, account_id):
            if set(decision.account_ids) <= gone:
                doomed.add(decision.comm_id)
    return sum(store.decisions.delete(tenant, comm_id) for comm_id in sorted(doomed))


def apply_account_sync(
    store: Store, tenant: str, plan: AccountSyncPlan, *, run_id: str | None = None
) -> AppliedSync:
    """Write `plan` to `store` under `tenant` in one transaction, for a plan made from
    `load_sync_state(store, tenant)`:

    - added and updated accounts are written; removed ones deleted, with their contacts
      and the timeline entries (routing decisions) that belong to no other account;
    - contacts are written and deleted as planned;
    - pending removals (scheduled, rescheduled, cancelled, done) are saved;
    - a run (``crm-sync:<now>`` unless `run_id` is given) records the plan's counts.

    A failure leaves nothing of it behind. Applying, then planning the same snapshot
    again at the same time, gives an empty plan; an empty plan writes nothing at all
    (no run is recorded for a sync that changed nothing).
    """
    if plan.is_empty:
        return AppliedSync()
    with store.batch():
        accounts = [*plan.add, *(u.after for u in plan.update)]
        written = store.accounts.put_many(tenant, accounts)
        removed = [r.account_id for r in plan.remove]
        contacts_deleted = sum(
            store.contacts.delete(tenant, contact_id) for contact_id in plan.delete_contacts
        )
        decisions_deleted = _delete_timelines(store, tenant, removed)
        accounts_deleted = sum(store.accounts.delete(tenant, a) for a in removed)
        contact_writes = store.contacts.put_many(tenant, plan.upsert_contacts)

        pending = _read_pending(store, tenant)
        for cancel in plan.cancel_removal:
            pending.pop(cancel.account_id, None)
        for gone in removed:
            pending.pop(gone, None)
        for scheduled in plan.schedule_removal:
            pending[scheduled.account_id] = (scheduled.missing_since, scheduled.due,
                                             scheduled.reason)
        _write_pending(store, tenant, pending, plan.now)
        store.runs.record(
            tenant,
            RunRecord(
                run_id or f"crm-sync:{plan.now.isoformat()}",
                plan.now,
                operation="crm-sync",
                counts=plan.counts(),
                note=f"grace {plan.removal_grace}",
            ),
        )
    return AppliedSync(
        accounts_written=written.written,
        accounts_deleted=accounts_deleted,
        contacts_written=contact_writes.written,
        contacts_deleted=contacts_deleted,
        decisions_deleted=decisions_deleted,
        rejections=written.rejections + contact_writes.rejections,
    )


def apply_disconnect(
    store: Store, tenant: str, plan: DisconnectPlan, *, now: dt.datetime
) -> AppliedSync:
    """Write a disconnect `plan`.

    - keep the data: pending removals are called off, and a run
      ``crm-disconnect:<now>`` is recorded;
    - delete the data (the user asked for deletion): `Store.purge_tenant` deletes
      everything stored for the tenant in one transaction (accounts, contacts, timeline,
      overrides, sync issues, sponsor and alert records, the run log); `purged` holds its
      counts per table and nothing is recorded afterwards.
    """
    if not plan.keep_data:
        counts = store.purge_tenant(tenant)
        return AppliedSync(
            accounts_deleted=counts.get("accounts", 0),
            contacts_deleted=counts.get("contacts", 0),
            decisions_deleted=counts.get("decisions", 0),
            purged=tuple(sorted(counts.items())),
        )
    if not plan.cancel_removal and not _read_pending(store, tenant):
        return AppliedSync()  # nothing to call off: the data stays, nothing is written
    with store.batch():
        _write_pending(store, tenant, {}, now)
        store.runs.record(
            tenant,
            RunRecord(
                f"crm-disconnect:{now.isoformat()}",
                now,
                operation="crm-disconnect",
                counts={"removal_cancelled": len(plan.cancel_removal)},
                note="kept the data",
            ),
        )
    return AppliedSync()


def refresh_ownership(
    store: Store, tenant: str, policy: OwnershipPolicy | None = None
) -> DomainOwnership:
    """Resolve domain ownership over the tenant's stored accounts and contacts and make
    the stored sync issues exactly the result's (writing only when they differ)."""
    ownership = resolve_domain_ownership(
        store.accounts.list(tenant), store.contacts.list(tenant), policy
    )
    stored = sorted(store.sync_issues.list(tenant), key=lambda i: i.domain)
    if stored != sorted(ownership.issues, key=lambda i: i.domain):
        store.sync_issues.replace_all(tenant, ownership.issues)
    return ownership


@attrs.frozen
class SyncRun:
    """One complete sync: the `plan`, what applying it wrote, and the resulting
    `ownership` (its `issues` are the sync issues now stored)."""

    plan: AccountSyncPlan
    applied: AppliedSync
    ownership: DomainOwnership

    @property
    def issues(self) -> tuple[SyncIssue, ...]:
        return self.ownership.issues

    def explain(self) -> str:
        lines = [self.plan.explain()]
        if self.issues:
            lines.append(f"{len(self.issues)} sync issue(s):")
            lines += [f"  {i.domain}: {i.reason} ({i.suggestion})" for i in self.issues]
        else:
            lines.append("no sync issues")
        return "\n".join(lines)


def sync_crm(
    store: Store,
    tenant: str,
    snapshot: CrmSnapshot | Iterable[CrmRecord],
    selector: AccountSelector,
    *,
    now: dt.datetime,
    removal_grace: dt.timedelta,
    policy: OwnershipPolicy | None = None,
    keep_tags: Iterable[str] = (),
) -> SyncRun:
    """Load the tenant's state, plan against `snapshot`, apply, and recompute domain
    ownership (storing its sync issues): what ``stakeholder sync`` does. `keep_tags`
    are user tags of the shared-contact plan the sync keeps (see `plan_account_sync`).
    Overrides, sponsor and alert records and corporate copies are not touched."""
    with store.batch():
        plan = plan_account_sync(
            load_sync_state(store, tenant),
            snapshot,
            selector,
            now=now,
            removal_grace=removal_grace,
            keep_tags=keep_tags,
        )
        applied = apply_account_sync(store, tenant, plan)
        ownership = refresh_ownership(store, tenant, policy)
    return SyncRun(plan, applied, ownership)

