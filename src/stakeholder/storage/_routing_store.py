"""Routing with a store: build a `RoutingIndex` from what a store holds, and save the
decisions of `route_many` in batches."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sized
from typing import TYPE_CHECKING, Any

from stakeholder._errors import ConfigurationError
from stakeholder._ownership import OwnershipPolicy
from stakeholder._progress import Progress
from stakeholder._routing import RoutingDecision
from stakeholder.storage._records import RunRecord, WriteResult

if TYPE_CHECKING:
    from stakeholder._routing import RoutingIndex
    from stakeholder.storage._protocols import Store

__all__ = ["load_routing_index", "save_decisions"]


def load_routing_index(
    store: Store,
    tenant: str,
    ownership_policy: OwnershipPolicy | None = None,
    **kwargs: Any,
) -> RoutingIndex:
    """A `RoutingIndex` of the tenant's stored accounts, contacts and active overrides.

    Domain ownership is resolved from the stored accounts and contacts with
    `ownership_policy` (`resolve_domain_ownership`); `kwargs` go to
    `RoutingIndex.build` (`shared=`, `policy=`). Overrides passed in `kwargs` are added
    to the stored ones.
    """
    from stakeholder._ownership import resolve_domain_ownership  # noqa: PLC0415
    from stakeholder._routing import RoutingIndex  # noqa: PLC0415

    accounts = store.accounts.list(tenant)
    contacts = store.contacts.list(tenant)
    ownership = resolve_domain_ownership(accounts, contacts, ownership_policy)
    overrides = [*store.overrides.active(tenant), *kwargs.pop("overrides", ())]
    return RoutingIndex.build(accounts, contacts, ownership, overrides=overrides, **kwargs)


def save_decisions(
    store: Store,
    tenant: str,
    decisions: Iterable[RoutingDecision],
    *,
    batch_size: int = 1000,
    progress: Progress | None = None,
    run_id: str | None = None,
    at: dt.datetime | None = None,
    replace: bool = True,
) -> WriteResult:
    """Store `decisions` (for example `route_many(...)`, consumed lazily) in batches of
    `batch_size`, each batch one transaction; calls `progress(done, total)` after each
    batch with the number of decisions handled so far (`total` is `len(decisions)` when
    it has one, else `None`). `replace` is `put_many`'s: `False` keeps any decision
    already stored for a communication (see docs/storage.md, "A second decision for
    the same communication").

    Idempotent by communication id: saving the same decisions again replaces them,
    never duplicates them, so a run that failed half-way can simply be run again.
    When `run_id` and `at` (the run's time) are given, the run log records what the
    call did under `run_id` (`operation="save_decisions"`, counts `written`,
    `rejected`, `batches`).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigurationError(f"batch_size must be a positive integer, not {batch_size!r}")
    if (run_id is None) != (at is None):
        raise ConfigurationError("give both run_id and at to record the run, or neither")
    total = WriteResult()
    batches = 0
    done = 0
    expected = len(decisions) if isinstance(decisions, Sized) else None
    iterator = iter(decisions)
    while chunk := list(itertools.islice(iterator, batch_size)):
        with store.batch():
            total += store.decisions.put_many(tenant, chunk, replace=replace)
        batches += 1
        done += len(chunk)
        if progress is not None:
            progress(done, expected)
    if run_id is not None and at is not None:
        store.runs.record(
            tenant,
            RunRecord(
                run_id=run_id,
                at=at,
                operation="save_decisions",
                counts={"written": total.written, "rejected": total.rejected, "batches": batches},
            ),
        )
    return total
