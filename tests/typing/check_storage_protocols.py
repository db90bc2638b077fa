"""Static proof that each back end satisfies the storage protocols.

Nothing here runs: mypy checks it (`mypy --strict tests/typing`). Each assignment of a
concrete store or repository to a protocol-typed name fails type checking if the back
end drifts from its protocol (a missing method, a renamed keyword, a wrong return
type). The last block shows mypy does reject an incomplete back end: its
`type: ignore` would be reported as unused (`--strict` warns) if it were accepted.
"""

from __future__ import annotations

from stakeholder import Account
from stakeholder.storage import (
    AccountRepository,
    ContactRepository,
    DecisionRepository,
    MemoryStore,
    OverrideRepository,
    RunLog,
    SQLiteStore,
    Store,
    SyncIssueRepository,
)
from stakeholder.storage._postgres import PostgresStore


def memory_store(store: MemoryStore) -> Store:
    accounts: AccountRepository = store.accounts
    contacts: ContactRepository = store.contacts
    decisions: DecisionRepository = store.decisions
    overrides: OverrideRepository = store.overrides
    sync_issues: SyncIssueRepository = store.sync_issues
    runs: RunLog = store.runs
    del accounts, contacts, decisions, overrides, sync_issues, runs
    return store


def sqlite_store(store: SQLiteStore) -> Store:
    accounts: AccountRepository = store.accounts
    contacts: ContactRepository = store.contacts
    decisions: DecisionRepository = store.decisions
    overrides: OverrideRepository = store.overrides
    sync_issues: SyncIssueRepository = store.sync_issues
    runs: RunLog = store.runs
    del accounts, contacts, decisions, overrides, sync_issues, runs
    return store


def postgres_store(store: PostgresStore) -> Store:
    accounts: AccountRepository = store.accounts
    contacts: ContactRepository = store.contacts
    decisions: DecisionRepository = store.decisions
    overrides: OverrideRepository = store.overrides
    sync_issues: SyncIssueRepository = store.sync_issues
    runs: RunLog = store.runs
    del accounts, contacts, decisions, overrides, sync_issues, runs
    return store


class IncompleteAccounts:
    """Has `put` but nothing else: not an `AccountRepository`."""

    def put(self, tenant: str, account: Account) -> None:
        del tenant, account


def incomplete() -> AccountRepository:
    return IncompleteAccounts()  # type: ignore[return-value]
