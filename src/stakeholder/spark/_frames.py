"""DataFrames from values, Arrow tables, Parquet files and stores, and back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

import attrs
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType

from stakeholder import (
    Account,
    Communication,
    Contact,
    Override,
    RoutingDecision,
    Store,
    WriteResult,
)
from stakeholder._progress import Progress, ProgressTicker
from stakeholder.spark._arrow import (
    ACCOUNT_SCHEMA,
    CONTACT_SCHEMA,
    DECISION_SCHEMA,
    OVERRIDE_SCHEMA,
    account_from_row,
    accounts_table,
    communications_table,
    contact_from_row,
    contacts_table,
    decision_from_row,
    decisions_table,
    override_from_row,
    overrides_table,
)

__all__ = [
    "StoreFrames",
    "accounts_dataframe",
    "communications_dataframe",
    "contacts_dataframe",
    "dataframe_from_arrow",
    "decisions_dataframe",
    "overrides_dataframe",
    "read_accounts",
    "read_contacts",
    "read_decisions",
    "read_overrides",
    "read_store",
    "spark_schema",
    "write_decisions_parquet",
    "write_decisions_to_store",
]

_CHUNK: Final = 10_000


def spark_schema(schema: pa.Schema) -> StructType:
    """The Spark `StructType` of one of the Arrow schemas (`DECISION_SCHEMA`, ...)."""
    result: StructType = from_arrow_schema(schema)
    return result


def dataframe_from_arrow(spark: SparkSession, table: pa.Table) -> DataFrame:
    """A DataFrame holding an Arrow table, with the table's schema."""
    schema = spark_schema(table.schema)
    try:
        return spark.createDataFrame(table)  # Spark 4: Arrow tables directly
    except (TypeError, ValueError):
        return spark.createDataFrame(table.to_pylist(), schema=schema)


def accounts_dataframe(spark: SparkSession, accounts: Iterable[Account]) -> DataFrame:
    """Accounts as a DataFrame of `ACCOUNT_SCHEMA`."""
    return dataframe_from_arrow(spark, accounts_table(accounts))


def contacts_dataframe(spark: SparkSession, contacts: Iterable[Contact]) -> DataFrame:
    """Contacts as a DataFrame of `CONTACT_SCHEMA`."""
    return dataframe_from_arrow(spark, contacts_table(contacts))


def communications_dataframe(spark: SparkSession, comms: Iterable[Communication]) -> DataFrame:
    """Communications as a DataFrame of `COMMUNICATION_SCHEMA`."""
    return dataframe_from_arrow(spark, communications_table(comms))


def overrides_dataframe(spark: SparkSession, overrides: Iterable[Override]) -> DataFrame:
    """Overrides as a DataFrame of `OVERRIDE_SCHEMA`."""
    return dataframe_from_arrow(spark, overrides_table(overrides))


def decisions_dataframe(
    spark: SparkSession, decisions: Iterable[RoutingDecision], *, explain: bool = False
) -> DataFrame:
    """Decisions as a DataFrame of `DECISION_SCHEMA`."""
    return dataframe_from_arrow(spark, decisions_table(decisions, explain=explain))


# --------------------------------------------------------------------------- back to values


def _local_rows(df: DataFrame, schema: pa.Schema) -> Iterator[dict[str, object]]:
    names = [f.name for f in schema if f.name in df.columns]
    for row in df.select(*names).toLocalIterator():
        yield row.asDict(recursive=True)


def read_accounts(df: DataFrame) -> Iterator[Account]:
    """The accounts of a DataFrame of `ACCOUNT_SCHEMA`, streamed to the driver."""
    return (account_from_row(r) for r in _local_rows(df, ACCOUNT_SCHEMA))


def read_contacts(df: DataFrame) -> Iterator[Contact]:
    """The contacts of a DataFrame of `CONTACT_SCHEMA`, streamed to the driver."""
    return (contact_from_row(r) for r in _local_rows(df, CONTACT_SCHEMA))


def read_overrides(df: DataFrame) -> Iterator[Override]:
    """The overrides of a DataFrame of `OVERRIDE_SCHEMA`, streamed to the driver."""
    return (override_from_row(r) for r in _local_rows(df, OVERRIDE_SCHEMA))


def read_decisions(df: DataFrame) -> Iterator[RoutingDecision]:
    """The decisions of a DataFrame of `DECISION_SCHEMA` (what `route_dataframe`
    returns, or its Parquet export read back), streamed to the driver."""
    return (decision_from_row(r) for r in _local_rows(df, DECISION_SCHEMA))


def write_decisions_parquet(df: DataFrame, path: str, *, mode: str = "overwrite") -> None:
    """Write decisions (a DataFrame of `DECISION_SCHEMA`) as Parquet under `path`.

    Read them back with `spark.read.parquet(path)` (then `read_decisions`), or without
    Spark with `pyarrow.parquet.read_table(path)`.
    """
    df.write.mode(mode).parquet(path)


# --------------------------------------------------------------------------- stores


@attrs.frozen
class StoreFrames:
    """One tenant's data of a store as DataFrames: `accounts`, `contacts`, `overrides`
    (the active ones) and `decisions`."""

    accounts: DataFrame
    contacts: DataFrame
    overrides: DataFrame
    decisions: DataFrame

    def __repr__(self) -> str:
        return "<StoreFrames accounts, contacts, overrides, decisions>"


def read_store(spark: SparkSession, store: Store, tenant: str) -> StoreFrames:
    """A tenant's accounts, contacts, active overrides and decisions as DataFrames.

    The store is read on the driver (stores are single-machine databases: memory,
    SQLite, PostgreSQL), then handed to Spark as Arrow tables.
    """
    return StoreFrames(
        accounts=accounts_dataframe(spark, store.accounts.list(tenant)),
        contacts=contacts_dataframe(spark, store.contacts.list(tenant)),
        overrides=overrides_dataframe(spark, store.overrides.active(tenant)),
        decisions=decisions_dataframe(spark, store.decisions.list(tenant)),
    )


def write_decisions_to_store(
    df: DataFrame, store: Store, tenant: str, *, progress: Progress | None = None
) -> WriteResult:
    """Save the decisions of a DataFrame of `DECISION_SCHEMA` into `store` for
    `tenant`, streamed in chunks (one transaction per chunk); returns the combined
    `WriteResult` (written + rejected = rows in). `progress(done, None)` is called
    after each chunk."""
    total = WriteResult()
    ticker = ProgressTicker(progress, every=_CHUNK)
    chunk: list[RoutingDecision] = []
    for decision in read_decisions(df):
        chunk.append(decision)
        if len(chunk) >= _CHUNK:
            total += store.decisions.put_many(tenant, chunk)
            ticker.advance(len(chunk))
            chunk = []
    if chunk:
        total += store.decisions.put_many(tenant, chunk)
        ticker.advance(len(chunk))
    ticker.close()
    return total
