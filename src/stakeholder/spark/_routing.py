"""`route_dataframe`: route a DataFrame of communications with the pure-Python router.

The routing index is built once on the driver and broadcast; each partition is routed by
`stakeholder.route_many` inside `mapInArrow`, so a decision is the one the library gives
on one machine, by construction. Thread memory works per partition: communications are
repartitioned by thread id (communications without one by their own id) and sorted by
time, then id, within partitions, so each thread is routed in time order by one worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 - the usual alias

from stakeholder import (
    DomainOwnership,
    OwnershipPolicy,
    RouteStatus,
    RoutingDecision,
    RoutingIndex,
    RoutingPolicy,
    RoutingRule,
    SharedContactGroup,
    StakeholderError,
    resolve_domain_ownership,
    route,
    route_many,
)
from stakeholder.spark._arrow import (
    DECISION_SCHEMA,
    communication_from_row,
    decision_row,
)
from stakeholder.spark._frames import (
    read_accounts,
    read_contacts,
    read_overrides,
    spark_schema,
)

__all__ = ["build_routing_index", "route_dataframe", "route_partition"]

_OUT_BATCH: Final = 4_096

Shared = Iterable[SharedContactGroup] | Mapping[str, str] | None


def build_routing_index(
    accounts_df: DataFrame,
    contacts_df: DataFrame,
    *,
    ownership: DomainOwnership | None = None,
    ownership_policy: OwnershipPolicy | None = None,
    overrides_df: DataFrame | None = None,
    shared: Shared = None,
    policy: RoutingPolicy | None = None,
) -> RoutingIndex:
    """The `RoutingIndex` of the accounts and contacts of two DataFrames, built on the
    driver (the records are streamed there once). Without `ownership`,
    `resolve_domain_ownership` runs on the same records under `ownership_policy`."""
    accounts = list(read_accounts(accounts_df))
    contacts = list(read_contacts(contacts_df))
    if ownership is None:
        ownership = resolve_domain_ownership(accounts, contacts, ownership_policy)
    overrides = () if overrides_df is None else tuple(read_overrides(overrides_df))
    return RoutingIndex.build(
        accounts, contacts, ownership, shared=shared, overrides=overrides, policy=policy
    )


def _rejected(row: Mapping[str, Any], position: int, exc: Exception) -> RoutingDecision:
    comm_id = row.get("id")
    return RoutingDecision(
        comm_id=comm_id if isinstance(comm_id, str) and comm_id else f"#{position}",
        status=RouteStatus.REJECTED,
        rule=RoutingRule.REJECTED.value,
        confidence=0.0,
        reason=f"not a valid communication: {exc}",
    )


def route_partition(
    batches: Iterable[pa.RecordBatch],
    index: RoutingIndex,
    *,
    explain: bool = False,
    thread_memory: bool = True,
) -> Iterator[pa.RecordBatch]:
    """Route the communications of a stream of Arrow batches (`COMMUNICATION_SCHEMA`)
    into batches of `DECISION_SCHEMA`: what each Spark partition runs. A row that
    cannot make a `Communication` gives a `REJECTED` decision with the reason."""
    rejected: list[RoutingDecision] = []

    def comms() -> Iterator[Any]:
        position = 0
        for batch in batches:
            for row in batch.to_pylist():
                try:
                    yield communication_from_row(row)
                except (StakeholderError, ValueError, TypeError, KeyError) as exc:
                    rejected.append(_rejected(row, position, exc))
                position += 1

    decisions: Iterator[RoutingDecision] = (
        route_many(comms(), index) if thread_memory else (route(c, index) for c in comms())
    )
    out: list[dict[str, Any]] = []
    for decision in decisions:
        out.append(decision_row(decision, explain=explain))
        if len(out) >= _OUT_BATCH:
            yield pa.RecordBatch.from_pylist(out, schema=DECISION_SCHEMA)
            out = []
    out.extend(decision_row(d, explain=explain) for d in rejected)
    if out:
        yield pa.RecordBatch.from_pylist(out, schema=DECISION_SCHEMA)


def _shipped(df: DataFrame, index: RoutingIndex) -> Callable[[], RoutingIndex]:
    """Ship the index to the workers once: a broadcast variable on classic Spark; on
    Spark Connect (no SparkContext) the index travels inside the function instead."""
    try:
        handle = df.sparkSession.sparkContext.broadcast(index)
    except Exception:  # noqa: BLE001 - Spark Connect raises its own error types here
        return lambda: index
    return lambda: handle.value


def route_dataframe(
    comms_df: DataFrame,
    accounts_df: DataFrame,
    contacts_df: DataFrame,
    *,
    ownership: DomainOwnership | None = None,
    ownership_policy: OwnershipPolicy | None = None,
    overrides_df: DataFrame | None = None,
    shared: Shared = None,
    policy: RoutingPolicy | None = None,
    explain: bool = False,
    thread_memory: bool = True,
    partitions: int | None = None,
    index: RoutingIndex | None = None,
) -> DataFrame:
    """One decision per communication (a DataFrame of `DECISION_SCHEMA`).

    - `comms_df`: communications (`COMMUNICATION_SCHEMA`; extra columns are ignored).
    - `accounts_df`, `contacts_df`: the CRM's records; with `ownership` (a
      `DomainOwnership`) or, without it, ownership resolved on the driver under
      `ownership_policy`; `overrides_df` (`OVERRIDE_SCHEMA`) and `shared` (shared
      contact groups or an email -> primary account mapping) as for
      `RoutingIndex.build`; `policy` the `RoutingPolicy`. Pass a ready `index` to skip
      building one (the DataFrames of accounts and contacts are then not read).
    - `explain`: fill the `explanation` column with each decision's `explain()`.
    - `thread_memory` (True): route each thread in time order on one worker, as
      `route_many` does over communications sorted by (occurred_at, id); False routes
      each communication on its own, as `route` does (no shuffle).
    - `partitions`: how many partitions to repartition into for thread memory
      (default: `spark.sql.shuffle.partitions`).

    Lazy: nothing runs until the result is used (written, counted, collected).
    """
    if index is None:
        index = build_routing_index(
            accounts_df,
            contacts_df,
            ownership=ownership,
            ownership_policy=ownership_policy,
            overrides_df=overrides_df,
            shared=shared,
            policy=policy,
        )
    get_index = _shipped(comms_df, index)
    columns = [c for c in ("id", "occurred_at", "participants", "thread_id", "subject",
                           "kind", "headers") if c in comms_df.columns]
    frame = comms_df.select(*columns)
    if thread_memory:
        key = F.coalesce(F.col("thread_id"), F.col("id"))
        frame = (
            frame.repartition(partitions, key) if partitions else frame.repartition(key)
        ).sortWithinPartitions("occurred_at", "id")

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return route_partition(
            batches, get_index(), explain=explain, thread_memory=thread_memory
        )

    return frame.mapInArrow(run, spark_schema(DECISION_SCHEMA))
