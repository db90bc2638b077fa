"""Planning a CRM account sync: what to add, update, schedule for removal, bring back,
remove, and what a disconnect does. Pure: the current state, a snapshot, a selector and
the time come in; a plan comes out. `SyncState.apply(plan)` gives the state after it.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from stakeholder._display import attrs_repr
from stakeholder._errors import ConfigurationError, InvalidRecord
from stakeholder._model import Account, Contact
from stakeholder._shared import COPY_ID_PREFIX, ENGAGING_TAG_PREFIX, PRIMARY_TAG, SECONDARY_TAG
from stakeholder.crm._selection import AccountSelector
from stakeholder.crm._snapshot import (
    CONTACT_DATA_FIELDS,
    CrmRecord,
    CrmSnapshot,
    contacts_by_id,
    paused_gc,
)

__all__ = [
    "LIBRARY_TAGS",
    "AccountSyncPlan",
    "AccountUpdate",
    "DisconnectPlan",
    "FieldChange",
    "Removal",
    "RemovalCancellation",
    "ScheduledRemoval",
    "SyncState",
    "SyncedAccount",
    "is_library_record",
    "is_library_tag",
    "plan_account_sync",
    "plan_disconnect",
]

NOT_IN_EXPORT = "no longer in the CRM export"

LIBRARY_TAGS: frozenset[str] = frozenset({PRIMARY_TAG, SECONDARY_TAG})
"""Contact tags the library manages (beside every ``engaging-in-*`` tag): a CRM sync
keeps them on the records that have them, whatever the export says."""


def is_library_tag(tag: str, kept: frozenset[str] = frozenset()) -> bool:
    """Whether a CRM sync keeps `tag`: a system tag of the shared-contact plan, an
    ``engaging-in-*`` tag of a corporate copy, or one of `kept` (the user tags a
    shared-contact plan writes)."""
    return tag in LIBRARY_TAGS or tag.startswith(ENGAGING_TAG_PREFIX) or tag in kept


def is_library_record(contact: Contact) -> bool:
    """Whether a contact record is one the library made (a corporate copy of a shared
    contact, id ``shared-contact:*``), not one the CRM exports."""
    return contact.id.startswith(COPY_ID_PREFIX)


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InvalidRecord(value, f"{attribute.name} must be a timezone-aware datetime")


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# --------------------------------------------------------------------------- state


@attrs.frozen
class SyncedAccount:
    """An account as the sync holds it: the `account`, and when it is pending removal,
    since when it has been missing from the selection (`missing_since`), when it is due
    to be removed (`removal_due` = `missing_since` + the grace period) and why."""

    account: Account
    missing_since: dt.datetime | None = attrs.field(default=None, validator=_aware)
    removal_due: dt.datetime | None = attrs.field(default=None, validator=_aware)
    removal_reason: str = ""

    def __attrs_post_init__(self) -> None:
        if (self.missing_since is None) != (self.removal_due is None):
            raise InvalidRecord(
                self.account.id, "missing_since and removal_due are set together or not at all"
            )

    @property
    def pending_removal(self) -> bool:
        return self.removal_due is not None


def _synced(value: Iterable[SyncedAccount | Account]) -> tuple[SyncedAccount, ...]:
    out = [v if isinstance(v, SyncedAccount) else SyncedAccount(v) for v in value]
    out.sort(key=lambda s: s.account.id)
    for first, second in itertools.pairwise(out):
        if first.account.id == second.account.id:
            raise InvalidRecord(first.account.id, "the sync state holds this account twice")
    return tuple(out)


@attrs.frozen
class SyncState:
    """What a tenant holds from its CRM: `accounts` (each a `SyncedAccount`, possibly
    pending removal) and their `contacts`. Plain `Account`s are taken as not pending."""

    accounts: tuple[SyncedAccount, ...] = attrs.field(default=(), converter=_synced)
    contacts: tuple[Contact, ...] = attrs.field(default=(), converter=contacts_by_id)

    def account(self, account_id: str) -> SyncedAccount | None:
        return next((s for s in self.accounts if s.account.id == account_id), None)

    @property
    def pending(self) -> tuple[SyncedAccount, ...]:
        return tuple(s for s in self.accounts if s.pending_removal)

    def apply(self, plan: AccountSyncPlan) -> SyncState:
        """The state after `plan` (what `apply_account_sync` writes to a store)."""
        by_id = {s.account.id: s for s in self.accounts}
        for account in plan.add:
            by_id[account.id] = SyncedAccount(account)
        for update in plan.update:
            previous = by_id.get(update.after.id)
            by_id[update.after.id] = (
                attrs.evolve(previous, account=update.after)
                if previous is not None
                else SyncedAccount(update.after)
            )
        for cancel in plan.cancel_removal:
            if cancel.account_id in by_id:
                by_id[cancel.account_id] = SyncedAccount(by_id[cancel.account_id].account)
        for scheduled in plan.schedule_removal:
            if scheduled.account_id in by_id:
                by_id[scheduled.account_id] = SyncedAccount(
                    by_id[scheduled.account_id].account,
                    scheduled.missing_since,
                    scheduled.due,
                    scheduled.reason,
                )
        for removal in plan.remove:
            by_id.pop(removal.account_id, None)
        contacts = {c.id: c for c in self.contacts}
        for contact_id in plan.delete_contacts:
            contacts.pop(contact_id, None)
        for contact in plan.upsert_contacts:
            contacts[contact.id] = contact
        return SyncState(tuple(by_id.values()), tuple(contacts.values()))

    def disconnect(self, plan: DisconnectPlan) -> SyncState:
        """The state after a disconnect `plan`."""
        if not plan.keep_data:
            gone = set(plan.delete_accounts)
            dropped = set(plan.delete_contacts)
            return SyncState(
                tuple(s for s in self.accounts if s.account.id not in gone),
                tuple(c for c in self.contacts if c.id not in dropped),
            )
        called_off = set(plan.cancel_removal)
        return SyncState(
            tuple(
                SyncedAccount(s.account) if s.account.id in called_off else s
                for s in self.accounts
            ),
            self.contacts,
        )


# --------------------------------------------------------------------------- plan parts


@attrs.frozen
class FieldChange:
    """One field of an account that changes: its name, the value before and after."""

    field: str
    before: object
    after: object

    def explain(self) -> str:
        return f"{self.field}: {_shown(self.before)} -> {_shown(self.after)}"

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "before": _plain(self.before), "after": _plain(self.after)}


def _plain(value: object) -> object:
    if isinstance(value, frozenset):
        return sorted(str(v) for v in value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def _shown(value: object) -> str:
    plain = _plain(value)
    if isinstance(plain, list):
        return "{" + ", ".join(plain) + "}"
    return "none" if plain is None else repr(plain)


@attrs.frozen
class AccountUpdate:
    """An account that changes: `before`, `after` and the `changes` field by field."""

    before: Account
    after: Account
    changes: tuple[FieldChange, ...]

    @property
    def account_id(self) -> str:
        return self.after.id

    def explain(self) -> str:
        return f"update {self.after.name!r} ({self.after.id}): " + "; ".join(
            c.explain() for c in self.changes
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "name": self.after.name,
            "changes": [c.to_dict() for c in self.changes],
        }


@attrs.frozen
class ScheduledRemoval:
    """An account missing from the selection since `missing_since`, to be removed at
    `due` unless it comes back; `rescheduled` when an earlier due time changed (the
    grace period changed)."""

    account_id: str
    name: str
    missing_since: dt.datetime = attrs.field(validator=_aware)
    due: dt.datetime = attrs.field(validator=_aware)
    reason: str
    rescheduled: bool = False

    def explain(self) -> str:
        verb = "rescheduled" if self.rescheduled else "scheduled"
        return (
            f"removal of {self.name!r} ({self.account_id}) {verb} for {self.due.isoformat()}: "
            f"{self.reason} since {self.missing_since.isoformat()}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "name": self.name,
            "missing_since": self.missing_since.isoformat(),
            "due": self.due.isoformat(),
            "reason": self.reason,
            "rescheduled": self.rescheduled,
        }


@attrs.frozen
class RemovalCancellation:
    """A pending removal called off because the account is selected again; it keeps
    its history (contacts, timeline)."""

    account_id: str
    name: str
    was_due: dt.datetime = attrs.field(validator=_aware)
    reason: str

    def explain(self) -> str:
        return (
            f"removal of {self.name!r} ({self.account_id}) due {self.was_due.isoformat()} "
            f"cancelled: {self.reason}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "name": self.name,
            "was_due": self.was_due.isoformat(),
            "reason": self.reason,
        }


@attrs.frozen
class Removal:
    """An account removed now: missing since `missing_since`, due at `due` <= now."""

    account_id: str
    name: str
    missing_since: dt.datetime = attrs.field(validator=_aware)
    due: dt.datetime = attrs.field(validator=_aware)
    reason: str

    def explain(self) -> str:
        return (
            f"remove {self.name!r} ({self.account_id}): {self.reason} since "
            f"{self.missing_since.isoformat()}, grace period ended {self.due.isoformat()}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "name": self.name,
            "missing_since": self.missing_since.isoformat(),
            "due": self.due.isoformat(),
            "reason": self.reason,
        }


def _accounts_by_id(value: Iterable[Account]) -> tuple[Account, ...]:
    return tuple(sorted(value, key=lambda v: v.id))


def _updates(value: Iterable[AccountUpdate]) -> tuple[AccountUpdate, ...]:
    return tuple(sorted(value, key=lambda v: v.account_id))


def _schedules(value: Iterable[ScheduledRemoval]) -> tuple[ScheduledRemoval, ...]:
    return tuple(sorted(value, key=lambda v: v.account_id))


def _cancellations(value: Iterable[RemovalCancellation]) -> tuple[RemovalCancellation, ...]:
    return tuple(sorted(value, key=lambda v: v.account_id))


def _removals(value: Iterable[Removal]) -> tuple[Removal, ...]:
    return tuple(sorted(value, key=lambda v: v.account_id))


def _ids(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(value))


@attrs.frozen
class AccountSyncPlan:
    """What one sync changes, every part sorted by account (or contact) id.

    - `add`: accounts newly selected;
    - `update`: accounts whose fields changed (status included: active <-> churned);
    - `schedule_removal`: accounts that left the selection, with the time they are due;
    - `cancel_removal`: pending removals called off (the account is selected again);
    - `remove`: pending removals whose grace period has ended;
    - `upsert_contacts` / `delete_contacts`: contact records to write / delete (ids);
    - `pending`: removals still waiting (not a change; listed for the report);
    - `unchanged`: how many selected accounts needed nothing.
    """

    now: dt.datetime = attrs.field(validator=_aware)
    removal_grace: dt.timedelta
    add: tuple[Account, ...] = attrs.field(default=(), converter=_accounts_by_id)
    update: tuple[AccountUpdate, ...] = attrs.field(default=(), converter=_updates)
    schedule_removal: tuple[ScheduledRemoval, ...] = attrs.field(default=(), converter=_schedules)
    cancel_removal: tuple[RemovalCancellation, ...] = attrs.field(
        default=(), converter=_cancellations
    )
    remove: tuple[Removal, ...] = attrs.field(default=(), converter=_removals)
    upsert_contacts: tuple[Contact, ...] = attrs.field(default=(), converter=contacts_by_id)
    delete_contacts: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    pending: tuple[ScheduledRemoval, ...] = attrs.field(default=(), converter=_schedules)
    unchanged: int = 0

    __repr__ = attrs_repr

    @property
    def is_empty(self) -> bool:
        """Whether the plan changes nothing."""
        return not any(
            (
                self.add,
                self.update,
                self.schedule_removal,
                self.cancel_removal,
                self.remove,
                self.upsert_contacts,
                self.delete_contacts,
            )
        )

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.add),
            "updated": len(self.update),
            "removal_scheduled": len(self.schedule_removal),
            "removal_cancelled": len(self.cancel_removal),
            "removed": len(self.remove),
            "contacts_written": len(self.upsert_contacts),
            "contacts_deleted": len(self.delete_contacts),
            "pending_removal": len(self.pending),
            "unchanged": self.unchanged,
        }

    def explain(self) -> str:
        """A summary line, then one line per change and per pending removal."""
        c = self.counts()
        if self.is_empty:
            head = "no changes"
        else:
            head = (
                f"{c['added']} added, {c['updated']} updated, {c['removal_scheduled']} "
                f"removal(s) scheduled, {c['removal_cancelled']} cancelled, {c['removed']} "
                f"removed; contacts: {c['contacts_written']} written, "
                f"{c['contacts_deleted']} deleted"
            )
        lines = [f"{head} (as of {self.now.isoformat()}, grace {self.removal_grace})"]
        lines += [f"  add {a.name!r} ({a.id}) as {a.status.value}" for a in self.add]
        lines += [f"  {u.explain()}" for u in self.update]
        lines += [f"  {s.explain()}" for s in self.schedule_removal]
        lines += [f"  {x.explain()}" for x in self.cancel_removal]
        lines += [f"  {r.explain()}" for r in self.remove]
        lines += [f"  still pending: {p.explain()}" for p in self.pending]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "removal_grace_seconds": self.removal_grace.total_seconds(),
            "counts": self.counts(),
            "add": [{"account_id": a.id, "name": a.name, "status": a.status.value}
                    for a in self.add],
            "update": [u.to_dict() for u in self.update],
            "schedule_removal": [s.to_dict() for s in self.schedule_removal],
            "cancel_removal": [x.to_dict() for x in self.cancel_removal],
            "remove": [r.to_dict() for r in self.remove],
            "upsert_contacts": [c.id for c in self.upsert_contacts],
            "delete_contacts": list(self.delete_contacts),
            "pending": [p.to_dict() for p in self.pending],
        }

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.explain()) + "</pre>"


# --------------------------------------------------------------------------- planning


def _changes(before: Account, after: Account) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(a.name, getattr(before, a.name), getattr(after, a.name))
        for a in attrs.fields(Account)
        if getattr(before, a.name) != getattr(after, a.name)
    )


def _snapshot_parts(
    snapshot: CrmSnapshot | Iterable[CrmRecord],
) -> tuple[list[CrmRecord], tuple[Contact, ...] | None, frozenset[str]]:
    if isinstance(snapshot, CrmSnapshot):
        contacts = snapshot.contacts if snapshot.contacts_read else None
        return list(snapshot.records), contacts, snapshot.owned_fields
    return list(snapshot), None, CONTACT_DATA_FIELDS


def _state(current: SyncState | Iterable[SyncedAccount | Account]) -> SyncState:
    return current if isinstance(current, SyncState) else SyncState(tuple(current))


def _check_grace(now: dt.datetime, removal_grace: dt.timedelta) -> None:
    if not isinstance(now, dt.datetime) or now.utcoffset() is None:
        raise ConfigurationError(f"now must be a timezone-aware datetime, got {now!r}")
    if not isinstance(removal_grace, dt.timedelta) or removal_grace < dt.timedelta(0):
        raise ConfigurationError(
            f"removal_grace must be a non-negative timedelta, got {removal_grace!r}"
        )


def _desired(
    records: Iterable[CrmRecord], selector: AccountSelector
) -> tuple[dict[str, Account], dict[str, str]]:
    """Selected accounts (status set by `selector`) and excluded ids with the reason."""
    desired: dict[str, Account] = {}
    excluded: dict[str, str] = {}
    seen: dict[str, CrmRecord] = {}
    for record in records:
        account_id = record.account.id
        other = seen.get(account_id)
        if other is not None:
            if other.account != record.account or dict(other.fields) != dict(record.fields):
                raise InvalidRecord(account_id, "the snapshot holds two different records")
            continue
        seen[account_id] = record
        selection = selector.classify(record.fields)
        status = selection.status.account_status
        if status is None:
            excluded[account_id] = f"not selected: {selection.reason}"
        else:
            desired[account_id] = attrs.evolve(record.account, status=status)
    return desired, excluded


def plan_account_sync(
    current: SyncState | Iterable[SyncedAccount | Account],
    snapshot: CrmSnapshot | Iterable[CrmRecord],
    selector: AccountSelector,
    *,
    now: dt.datetime,
    removal_grace: dt.timedelta,
    keep_tags: Iterable[str] = (),
) -> AccountSyncPlan:
    """Plan one sync of `current` (what the tenant holds) to `snapshot` (the export).

    Each snapshot record is classified by `selector`. A selected account that is not
    held is added; one that differs is updated (field by field); one pending removal
    has its removal cancelled (it keeps its history). A held account that is not
    selected (excluded, or absent from the export) is scheduled for removal at
    ``now + removal_grace``; once pending, it is removed when ``now`` reaches
    ``missing_since + removal_grace`` (so a changed grace period moves the due time,
    and a zero grace removes at once). Contacts are planned when the snapshot is a
    `CrmSnapshot`: the contacts of selected accounts are written as exported, those
    of removed accounts (and of selected accounts, when the export no longer has
    them) deleted; a pending account's contacts stay as they are. A snapshot without
    contacts (`contacts_read` false, or plain records) deletes only the contacts of
    removed accounts.

    A sync changes only what the CRM owns (docs/crm.md lists each field's owner): a
    held contact keeps the fields the export does not map (`CrmSnapshot.owned_fields`)
    and the tags the library manages (`primary-shared-contact`,
    `secondary-shared-contact`, ``engaging-in-*`` and `keep_tags`, the user tags of
    the shared-contact plan); corporate copies (``shared-contact:*``) stay until their
    account goes; an account keeps its `aliases` (no export supplies them).

    Pure and order-independent: time comes from `now` (timezone-aware).
    """
    kept = frozenset(t.strip() for t in ([keep_tags] if isinstance(keep_tags, str)
                                         else keep_tags))
    with paused_gc():
        return _plan(current, snapshot, selector, now=now, removal_grace=removal_grace,
                     keep_tags=kept)


def _plan(
    current: SyncState | Iterable[SyncedAccount | Account],
    snapshot: CrmSnapshot | Iterable[CrmRecord],
    selector: AccountSelector,
    *,
    now: dt.datetime,
    removal_grace: dt.timedelta,
    keep_tags: frozenset[str],
) -> AccountSyncPlan:
    _check_grace(now, removal_grace)
    state = _state(current)
    records, snapshot_contacts, owned = _snapshot_parts(snapshot)
    desired, excluded = _desired(records, selector)

    add: list[Account] = []
    update: list[AccountUpdate] = []
    schedule: list[ScheduledRemoval] = []
    cancel: list[RemovalCancellation] = []
    remove: list[Removal] = []
    pending: list[ScheduledRemoval] = []
    unchanged = 0
    held = {s.account.id: s for s in state.accounts}

    for account_id, account in desired.items():
        synced = held.get(account_id)
        if synced is None:
            add.append(account)
            continue
        if synced.account.aliases:  # aliases are the library's: no export supplies them
            desired[account_id] = attrs.evolve(account, aliases=synced.account.aliases)
        changes = _changes(synced.account, desired[account_id])
        if changes:
            update.append(AccountUpdate(synced.account, desired[account_id], changes))
        if synced.removal_due is not None:
            cancel.append(
                RemovalCancellation(
                    account_id, account.name, synced.removal_due, "selected again"
                )
            )
        elif not changes:
            unchanged += 1

    for account_id, synced in held.items():
        if account_id in desired:
            continue
        reason = excluded.get(account_id, NOT_IN_EXPORT)
        name = synced.account.name
        if synced.missing_since is None:
            missing_since, due, stored_due = now, now + removal_grace, None
        else:
            missing_since = synced.missing_since
            due = missing_since + removal_grace
            stored_due = synced.removal_due
            reason = synced.removal_reason or reason
        if due <= now:
            remove.append(Removal(account_id, name, missing_since, due, reason))
        elif stored_due is None:
            schedule.append(ScheduledRemoval(account_id, name, missing_since, due, reason))
        elif stored_due != due:
            schedule.append(
                ScheduledRemoval(account_id, name, missing_since, due, reason, rescheduled=True)
            )
        else:
            pending.append(ScheduledRemoval(account_id, name, missing_since, due, reason))

    upsert, delete = _plan_contacts(
        state,
        desired,
        {r.account_id for r in remove},
        snapshot_contacts,
        _Ownership(owned, keep_tags),
    )
    return AccountSyncPlan(
        now=now,
        removal_grace=removal_grace,
        add=add,
        update=update,
        schedule_removal=schedule,
        cancel_removal=cancel,
        remove=remove,
        upsert_contacts=upsert,
        delete_contacts=delete,
        pending=pending,
        unchanged=unchanged,
    )


@attrs.frozen
class _Ownership:
    """Which contact fields the CRM owns, and which tags the library keeps."""

    owned: frozenset[str]
    keep_tags: frozenset[str]

    def merge(self, exported: Contact, held: Contact | None) -> Contact:
        """The contact as a sync writes it: the exported values of the fields the CRM
        owns, the held values of the others, and the held library tags."""
        if held is None:
            return exported
        changes: dict[str, object] = {
            name: getattr(held, name) for name in CONTACT_DATA_FIELDS - self.owned
        }
        if "tags" in self.owned:
            library = {t for t in held.tags if is_library_tag(t, self.keep_tags)}
            if not library <= exported.tags:
                changes["tags"] = exported.tags | library
        if not changes:
            return exported
        merged = attrs.evolve(exported, **changes)  # type: ignore[arg-type]  # names of Contact fields
        return held if merged == held else merged


def _plan_contacts(
    state: SyncState,
    desired: Mapping[str, Account],
    removed: set[str],
    snapshot_contacts: tuple[Contact, ...] | None,
    ownership: _Ownership,
) -> tuple[list[Contact], list[str]]:
    held = {c.id: c for c in state.contacts}
    if snapshot_contacts is None:
        return [], [c.id for c in state.contacts if c.account_id in removed]
    wanted: dict[str, Contact] = {}
    for contact in snapshot_contacts:
        if contact.account_id not in desired:
            continue
        other = wanted.get(contact.id)
        if other is not None and other != contact:
            raise InvalidRecord(contact.id, "the snapshot holds two different contacts")
        wanted[contact.id] = contact
    kept_accounts = {s.account.id for s in state.accounts if s.account.id not in removed}
    upsert: list[Contact] = []
    for contact_id, exported in wanted.items():
        before = held.get(contact_id)
        after = ownership.merge(exported, before)
        if after != before:
            upsert.append(after)
    delete = [
        c.id
        for c in state.contacts
        if c.id not in wanted
        and (
            c.account_id not in kept_accounts
            or (c.account_id in desired and not is_library_record(c))
        )
    ]
    return upsert, delete


# --------------------------------------------------------------------------- disconnect


@attrs.frozen
class DisconnectPlan:
    """What disconnecting the CRM does: the exchange stops; with `keep_data` the
    accounts and contacts stay as they are (pending removals are called off, since no
    sync will remove them), without it they are deleted (`delete_accounts`,
    `delete_contacts`), with their timeline entries when applied to a store."""

    keep_data: bool
    delete_accounts: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    delete_contacts: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    cancel_removal: tuple[str, ...] = attrs.field(default=(), converter=_ids)

    def explain(self) -> str:
        if self.keep_data:
            text = "disconnect, keeping the data already taken"
            if self.cancel_removal:
                text += f"; {len(self.cancel_removal)} pending removal(s) called off"
            return text
        return (
            f"disconnect and delete the data taken: {len(self.delete_accounts)} account(s), "
            f"{len(self.delete_contacts)} contact(s); applied to a store, everything stored "
            "for the tenant goes (purge_tenant)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "keep_data": self.keep_data,
            "delete_accounts": list(self.delete_accounts),
            "delete_contacts": list(self.delete_contacts),
            "cancel_removal": list(self.cancel_removal),
        }


def plan_disconnect(
    keep_data: bool, current: SyncState | Iterable[SyncedAccount | Account] = ()
) -> DisconnectPlan:
    """Plan a disconnect of `current`: keep the data (call off pending removals) or
    delete every account and contact it holds."""
    if not isinstance(keep_data, bool):
        raise ConfigurationError(f"keep_data must be True or False, got {keep_data!r}")
    state = _state(current)
    if keep_data:
        return DisconnectPlan(True, cancel_removal=[s.account.id for s in state.pending])
    return DisconnectPlan(
        False,
        delete_accounts=[s.account.id for s in state.accounts],
        delete_contacts=[c.id for c in state.contacts],
    )

