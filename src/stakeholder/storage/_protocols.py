"""The storage contract: one `typing.Protocol` per aggregate, spoken in the library's
own values, every call scoped by a `tenant` string.

A back end is any object with these methods; it does not inherit from anything. The
contract suite `stakeholder.testing.contract` checks one. A later feature adds its own
repository the same way: a Protocol here, an implementation per back end, a migration
that adds its table, and an attribute on the store.

Shared rules of every repository:

- `tenant` is a non-empty string without NUL; nothing written under one tenant is
  visible, countable or deletable under another, even with the same ids.
- `put` writes one value (insert or replace by id) and raises `InvalidRecord` for a
  value that cannot be stored; `put_many` writes many in one transaction and returns a
  `WriteResult`: values that cannot be stored are set aside with a reason, never raised
  and never dropped silently; when an id occurs twice in one call the later value wins
  and the earlier one is reported. Every batch write takes `progress=`, a `Progress`
  callback called as items are checked (every 10,000) and once after the commit.
- Lists come back in a defined order (documented per method; strings compare by code
  point in every back end).
- Inside `with store.batch():` every call joins one transaction; an exception leaves
  nothing of the batch behind.
"""

from __future__ import annotations

import builtins
import datetime as dt
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Iterable

    from stakeholder._identity import EmailAddress
    from stakeholder._model import Account, Contact
    from stakeholder._ownership import SyncIssue
    from stakeholder._progress import Progress
    from stakeholder._routing import Override, RouteStatus, RoutingDecision
    from stakeholder.storage._alerts_protocols import (
        CtaRepository,
        EscalationRepository,
        InboxRepository,
        OutboxRepository,
    )
    from stakeholder.storage._records import OverrideRecord, RunRecord, WriteResult
    from stakeholder.storage._sponsors_protocols import SponsorRepositories

__all__ = [
    "AccountRepository",
    "ContactRepository",
    "DecisionRepository",
    "OverrideRepository",
    "RunLog",
    "Store",
    "SyncIssueRepository",
]


@runtime_checkable
class AccountRepository(Protocol):
    """Accounts by id."""

    def put(self, tenant: str, account: Account) -> None:
        """Insert or replace `account`."""

    def put_many(
        self, tenant: str, accounts: Iterable[Account], *, progress: Progress | None = None
    ) -> WriteResult:
        """Insert or replace many accounts in one transaction."""

    def get(self, tenant: str, account_id: str) -> Account | None:
        """The account with this id, or `None`."""

    def list(self, tenant: str) -> builtins.list[Account]:
        """Every account of the tenant, ordered by id."""

    def count(self, tenant: str) -> int:
        """How many accounts the tenant has."""

    def delete(self, tenant: str, account_id: str) -> bool:
        """Delete one account (its contacts stay); `True` when it existed."""


@runtime_checkable
class ContactRepository(Protocol):
    """Contact records by id. A contact may name an account that is not stored (CRM
    exports arrive in any order); deleting an account leaves its contacts."""

    def put(self, tenant: str, contact: Contact) -> None:
        """Insert or replace `contact`."""

    def put_many(
        self, tenant: str, contacts: Iterable[Contact], *, progress: Progress | None = None
    ) -> WriteResult:
        """Insert or replace many contacts in one transaction."""

    def get(self, tenant: str, contact_id: str) -> Contact | None:
        """The contact with this id, or `None`."""

    def list(self, tenant: str, *, account_id: str | None = None) -> builtins.list[Contact]:
        """The tenant's contacts (only `account_id`'s when given), ordered by id."""

    def count(self, tenant: str, *, account_id: str | None = None) -> int:
        """How many contacts the tenant (or one of its accounts) has."""

    def find_by_email(self, tenant: str, email: str | EmailAddress) -> builtins.list[Contact]:
        """Contacts whose parsed email equals `email` (parsed too), ordered by id."""

    def delete(self, tenant: str, contact_id: str) -> bool:
        """Delete one contact; `True` when it existed."""


@runtime_checkable
class DecisionRepository(Protocol):
    """Routing decisions by communication id, and the account timeline built from them:
    a communication belongs to every account in its decision's `account_ids`."""

    def put(self, tenant: str, decision: RoutingDecision, *, replace: bool = True) -> None:
        """Insert or replace the decision for `decision.comm_id` by the rule of
        `put_many`; `InvalidRecord` when the rule keeps the stored decision."""

    def put_many(
        self,
        tenant: str,
        decisions: Iterable[RoutingDecision],
        *,
        replace: bool = True,
        progress: Progress | None = None,
    ) -> WriteResult:
        """Insert or replace many decisions in one transaction (idempotent by comm_id).

        The rule for a second decision with the same comm_id: it replaces the stored
        one, except that a REJECTED decision never replaces one with another status,
        and with `replace=False` nothing stored is replaced (the first is kept). A
        decision the rule keeps out is a rejection whose reason starts "duplicate"."""

    def get(self, tenant: str, comm_id: str) -> RoutingDecision | None:
        """The decision for this communication, or `None`."""

    def list(
        self, tenant: str, *, status: RouteStatus | None = None
    ) -> builtins.list[RoutingDecision]:
        """The tenant's decisions (only those with `status` when given), by comm_id."""

    def count(self, tenant: str, *, status: RouteStatus | None = None) -> int:
        """How many decisions the tenant has (with `status` when given)."""

    def timeline(
        self,
        tenant: str,
        account_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int | None = None,
    ) -> builtins.list[RoutingDecision]:
        """The communications that belong to `account_id`, with their evidence, ordered
        by `occurred_at` (as an instant) then comm_id, decisions without a time last.
        `since` (inclusive) and `until` (exclusive) keep only timed decisions in that
        window; `limit` keeps the first `limit`."""

    def delete(self, tenant: str, comm_id: str) -> bool:
        """Delete one decision (and its timeline entries); `True` when it existed."""


@runtime_checkable
class OverrideRepository(Protocol):
    """The override audit trail: overrides are added, never deleted or changed. For each
    target (a communication or a thread) the newest override is active (latest `at`;
    for equal times the smallest author, then reason, then account ids: the rule
    `RoutingIndex.build` applies); the others stay, marked superseded."""

    def add(self, tenant: str, override: Override) -> None:
        """Append one override."""

    def add_many(
        self, tenant: str, overrides: Iterable[Override], *, progress: Progress | None = None
    ) -> WriteResult:
        """Append many overrides in one transaction."""

    def active(self, tenant: str) -> builtins.list[Override]:
        """The active override of each target: communication targets first, by comm_id,
        then thread targets, by thread_id."""

    def history(
        self, tenant: str, *, comm_id: str | None = None, thread_id: str | None = None
    ) -> builtins.list[OverrideRecord]:
        """Every override (of one target when `comm_id` or `thread_id` is given), ordered
        by `at`, then by the order they were added, each marked active or superseded."""

    def count(self, tenant: str) -> int:
        """How many overrides the tenant's trail holds, superseded ones included."""


@runtime_checkable
class SyncIssueRepository(Protocol):
    """Sync issues (domains claimed by several accounts without permission) by domain."""

    def put_many(
        self, tenant: str, issues: Iterable[SyncIssue], *, progress: Progress | None = None
    ) -> WriteResult:
        """Insert or replace issues by domain, in one transaction."""

    def replace_all(
        self, tenant: str, issues: Iterable[SyncIssue], *, progress: Progress | None = None
    ) -> WriteResult:
        """Make the tenant's issues exactly `issues` (the result of a new ownership run)."""

    def get(self, tenant: str, domain: str) -> SyncIssue | None:
        """The issue for `domain`, or `None`."""

    def list(
        self, tenant: str, *, account_id: str | None = None
    ) -> builtins.list[SyncIssue]:
        """The tenant's issues (only those naming `account_id` when given), by domain."""

    def count(self, tenant: str) -> int:
        """How many issues the tenant has."""

    def delete(self, tenant: str, domain: str) -> bool:
        """Delete one issue; `True` when it existed."""


@runtime_checkable
class RunLog(Protocol):
    """What each run (a batch job) did: `RunRecord`s by run id."""

    def record(self, tenant: str, run: RunRecord) -> None:
        """Insert or replace the record of `run.run_id`."""

    def get(self, tenant: str, run_id: str) -> RunRecord | None:
        """The record of this run, or `None`."""

    def list(self, tenant: str) -> builtins.list[RunRecord]:
        """Every record, oldest first: ordered by `at` (as an instant), then run id."""

    def count(self, tenant: str) -> int:
        """How many runs the tenant's log holds."""


@runtime_checkable
class Store(Protocol):
    """The repositories of one database, and the transaction that spans them."""

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def contacts(self) -> ContactRepository: ...

    @property
    def decisions(self) -> DecisionRepository: ...

    @property
    def overrides(self) -> OverrideRepository: ...

    @property
    def sync_issues(self) -> SyncIssueRepository: ...

    @property
    def runs(self) -> RunLog: ...

    @property
    def sponsors(self) -> SponsorRepositories:
        """Sponsor tracking: tracking state, observations, suggestions, updates, history."""

    @property
    def ctas(self) -> CtaRepository:
        """Alerts: calls to action."""

    @property
    def escalations(self) -> EscalationRepository:
        """Alerts: the escalation history of CTAs."""

    @property
    def outbox(self) -> OutboxRepository:
        """Alerts: the notification outbox."""

    @property
    def inbox(self) -> InboxRepository:
        """Alerts: in-app notifications per user."""

    @property
    def schema_version(self) -> int:
        """The schema version the store is at (the latest once opened)."""

    def batch(self) -> AbstractContextManager[None]:
        """`with store.batch(): ...` runs every call inside as one transaction; an
        exception leaves nothing of it behind (and propagates). Batches nest: an inner
        batch that fails rolls back only itself when its exception is caught."""

    def purge_tenant(self, tenant: str) -> dict[str, int]:
        """Delete everything stored for `tenant` (every repository's rows, the override
        trail and the run log included) in one transaction; the number of rows deleted
        per table, by table name. Other tenants are untouched."""

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
