"""Storage: repository protocols and the `memory`, `sqlite` and `postgres` back ends.

Open any of them with `open_store(url)`; see docs/storage.md. `PostgresStore` needs the
`postgres` extra and is imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stakeholder.storage._alerts_protocols import (
    CtaRepository,
    EscalationRepository,
    InboxRepository,
    OutboxRepository,
)
from stakeholder.storage._codec import unstorable_reason
from stakeholder.storage._memory import MemoryStore
from stakeholder.storage._migrations import LATEST_VERSION, MIGRATIONS, Migration
from stakeholder.storage._open import open_store
from stakeholder.storage._protocols import (
    AccountRepository,
    ContactRepository,
    DecisionRepository,
    OverrideRepository,
    RunLog,
    Store,
    SyncIssueRepository,
)
from stakeholder.storage._records import OverrideRecord, RunRecord, WriteResult
from stakeholder.storage._routing_store import load_routing_index, save_decisions
from stakeholder.storage._sponsors_protocols import (
    ObservationRepository,
    SponsorRepositories,
    SuggestionRepository,
    TrackingHistoryRepository,
    TrackingRepository,
    UpdateRepository,
)
from stakeholder.storage._sqlite import SQLiteStore

if TYPE_CHECKING:
    from stakeholder.storage._postgres import PostgresStore

__all__ = [
    "LATEST_VERSION",
    "MIGRATIONS",
    "AccountRepository",
    "ContactRepository",
    "CtaRepository",
    "DecisionRepository",
    "EscalationRepository",
    "InboxRepository",
    "MemoryStore",
    "Migration",
    "ObservationRepository",
    "OutboxRepository",
    "OverrideRecord",
    "OverrideRepository",
    "PostgresStore",
    "RunLog",
    "RunRecord",
    "SQLiteStore",
    "SponsorRepositories",
    "Store",
    "SuggestionRepository",
    "SyncIssueRepository",
    "TrackingHistoryRepository",
    "TrackingRepository",
    "UpdateRepository",
    "WriteResult",
    "load_routing_index",
    "open_store",
    "save_decisions",
    "unstorable_reason",
]


def __getattr__(name: str) -> Any:
    if name == "PostgresStore":
        from stakeholder.storage._postgres import PostgresStore  # noqa: PLC0415 - optional

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
