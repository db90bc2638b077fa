"""`find_shared_contacts_dataframe`: shared contacts by Spark SQL.

1. Each record's match keys (canonical email, E.164 phone, or the `email|phone` pair)
   are computed by the library's own parsers inside `mapInArrow`.
2. Records are grouped into people by label propagation: every record starts with its id
   as label; each round, a key takes the smallest label of its records and a record the
   smallest label of its keys, until no label changes. The labels are checkpointed
   between rounds (`localCheckpoint`), so the plan stays one round deep. Rounds needed:
   about the longest chain of links in one person (a handful in CRM data).
3. A person's records are ranked by the primary cascade (deal stage, conversions, first
   conversion, created, record id) with a window function.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

import pyarrow as pa
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812 - the usual alias

from stakeholder import (
    ConfigurationError,
    InvalidPhone,
    MatchOn,
    normalize_phone,
)
from stakeholder.spark._arrow import contact_from_row
from stakeholder.spark._frames import spark_schema

__all__ = ["SHARED_GROUP_COLUMNS", "find_shared_contacts_dataframe", "record_keys"]

MAX_ROUNDS: Final = 64

_KEYS_SCHEMA: Final = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("account_id", pa.string()),
        pa.field("fingerprint", pa.string()),
        pa.field("email_text", pa.string()),
        pa.field("phone_e164", pa.string()),
        pa.field("keys", pa.list_(pa.string())),
        pa.field("deal_stage", pa.int64()),
        pa.field("conversions", pa.int64()),
        pa.field("first_conversion_at", pa.timestamp("us", tz="UTC")),
        pa.field("created_at", pa.timestamp("us", tz="UTC")),
        pa.field("valid", pa.bool_()),
    ]
)

SHARED_GROUP_COLUMNS: Final = (
    "key",
    "match_on",
    "record_ids",
    "account_ids",
    "primary_id",
    "primary_account_id",
    "order",
    "decided_by",
    "emails",
    "phones",
    "match_keys",
    "links",
)
"""The columns of `find_shared_contacts_dataframe`'s result, named as in
`SharedContactGroup.to_dict()` (`order` and `decided_by` from its `ranking`)."""


def _mode(value: MatchOn | str) -> MatchOn:
    if isinstance(value, MatchOn):
        return value
    text = str(value).strip().lower()
    for member in MatchOn:
        if text in (member.value, member.name.lower()):
            return member
    choices = ", ".join(m.value for m in MatchOn)
    raise ConfigurationError(f"match_on must be one of {choices}, not {value!r}")


def _e164(raw: str | None, region: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return normalize_phone(raw, region)
    except InvalidPhone:
        return None


def record_keys(
    row: dict[str, Any], mode: MatchOn, region: str | None
) -> dict[str, Any]:
    """One contact row's match keys, as `find_shared_contacts` computes them, with the
    values the ranking and the group columns need."""
    fingerprint = repr(sorted(row.items()))
    try:
        contact = contact_from_row(row)
    except (ValueError, TypeError, KeyError):
        return {"id": row.get("id"), "fingerprint": fingerprint, "valid": False, "keys": []}
    address = contact.email_address
    email = None if address is None else f"{address.local}@{address.domain}"
    phone = _e164(contact.phone, region)
    use_email, use_phone = mode is not MatchOn.PHONE, mode is not MatchOn.EMAIL
    e = email if use_email else None
    p = phone if use_phone else None
    if mode is MatchOn.EMAIL_AND_PHONE:
        keys = [f"{e}|{p}"] if e and p else []
    else:
        keys = [k for k in (e, p) if k]
    return {
        "id": contact.id,
        "account_id": contact.account_id,
        "fingerprint": fingerprint,
        "email_text": None if address is None else str(address),
        "phone_e164": phone,
        "keys": keys,
        "deal_stage": contact.deal_stage,
        "conversions": contact.conversions,
        "first_conversion_at": contact.first_conversion_at,
        "created_at": contact.created_at,
        "valid": True,
    }


def _keyed(contacts_df: DataFrame, mode: MatchOn, region: str | None) -> DataFrame:
    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            out = [record_keys(row, mode, region) for row in batch.to_pylist()]
            yield pa.RecordBatch.from_pylist(out, schema=_KEYS_SCHEMA)

    return contacts_df.mapInArrow(run, spark_schema(_KEYS_SCHEMA))


def _deduplicated(keyed: DataFrame) -> DataFrame:
    """Records with a unique id: identical repeats count once, records that share an id
    and differ are all set aside (as `find_shared_contacts` does)."""
    distinct = keyed.dropDuplicates(["id", "fingerprint"])
    unique_ids = distinct.groupBy("id").count().where(F.col("count") == 1).select("id")
    return distinct.join(unique_ids, "id", "left_semi").where(F.col("valid"))


def _components(edges: DataFrame, *, max_rounds: int = MAX_ROUNDS) -> DataFrame:
    """`(id, label)`: each record's component, labelled by its smallest record id."""
    labels = edges.select("id").distinct().withColumn("label", F.col("id")).localCheckpoint()
    for _ in range(max_rounds):
        key_label = (
            edges.join(labels, "id").groupBy("key").agg(F.min("label").alias("key_label"))
        )
        update = (
            edges.join(key_label, "key").groupBy("id").agg(F.min("key_label").alias("new"))
        )
        joined = labels.join(update, "id").select(
            "id", F.col("label").alias("old"), F.least("label", "new").alias("label")
        ).localCheckpoint()
        changed = joined.where(F.col("label") != F.col("old")).count()
        labels = joined.select("id", "label")
        if not changed:
            return labels
    raise ConfigurationError(
        f"shared contacts: label propagation did not settle in {max_rounds} rounds"
    )


def _sorted_ids(by: Column, value: Column) -> Column:
    pairs = F.collect_list(F.struct(by.alias("k"), value.alias("v")))
    return F.transform(F.array_sort(pairs), lambda s: s["v"])


_CRITERIA: Final = (
    ("deal_stage", "deal_stage"),
    ("conversions", "conversions"),
    ("first_conversion", "first_conversion_at"),
    ("created", "created_at"),
    ("record_id", "id"),
)


def _ranked(records: DataFrame) -> DataFrame:
    """Each record's place in its person's primary cascade (1 = primary)."""
    order = Window.partitionBy("label").orderBy(
        F.col("deal_stage").desc_nulls_last(),
        F.col("conversions").desc_nulls_last(),
        F.col("first_conversion_at").asc_nulls_last(),
        F.col("created_at").asc_nulls_last(),
        F.col("id").asc(),
        F.col("account_id").asc(),
    )
    return records.withColumn("rank", F.row_number().over(order))


def _decided_by() -> Column:
    """The first criterion on which the primary (rank 1) and runner-up (rank 2) differ."""
    first, second = F.col("r1"), F.col("r2")
    result: Column = F.lit(None).cast("string")
    for name, column in reversed(_CRITERIA):
        differs = ~first[column].eqNullSafe(second[column])
        result = F.when(differs, F.lit(name)).otherwise(result)
    return F.when(second.isNull(), F.lit(None).cast("string")).otherwise(result)


def find_shared_contacts_dataframe(
    contacts_df: DataFrame,
    match_on: MatchOn | str = MatchOn.EMAIL_OR_PHONE,
    *,
    accounts_df: DataFrame | None = None,
    default_region: str | None = None,
    max_rounds: int = MAX_ROUNDS,
) -> DataFrame:
    """People with records in two or more accounts, one row per group (the columns of
    `SHARED_GROUP_COLUMNS`), equal to `find_shared_contacts(contacts, match_on,
    default_region=...)` group for group under the default cascade.

    `accounts_df` (optional): contacts of accounts not in it are left out, as
    `find_shared_contacts(..., accounts=...)` rejects them. Runs one Spark job per
    label-propagation round; `max_rounds` bounds them (`ConfigurationError` beyond).
    """
    mode = _mode(match_on)
    region = None if default_region is None else (default_region.strip().upper() or None)
    records = _deduplicated(_keyed(contacts_df, mode, region))
    if accounts_df is not None:
        known = accounts_df.select(F.col("id").alias("account_id")).distinct()
        records = records.join(known, "account_id", "left_semi")
    records = records.where(F.size("keys") > 0).localCheckpoint()
    edges = records.select("id", F.explode("keys").alias("key"))
    # a key held by one record links nothing: keep the records of keys held by two or more
    shared_keys = edges.groupBy("key").count().where(F.col("count") > 1).select("key")
    links = edges.join(shared_keys, "key", "left_semi")
    labels = _components(links, max_rounds=max_rounds)
    members = _ranked(records.join(labels, "id"))
    return _groups(members, links.join(labels, "id"), mode)


def _groups(members: DataFrame, links: DataFrame, mode: MatchOn) -> DataFrame:
    kind = (
        F.lit("email+phone")
        if mode is MatchOn.EMAIL_AND_PHONE
        else F.when(F.col("key").contains("@"), "email").otherwise("phone")
    )
    link_rows = (
        links.groupBy("label", "key")
        .agg(F.array_sort(F.collect_list("id")).alias("record_ids"))
        .where(F.size("record_ids") > 1)
        .select("label", F.struct(kind.alias("kind"), F.col("key").alias("value"),
                                  "record_ids").alias("link"))
        .groupBy("label")
        .agg(F.array_sort(F.collect_list("link")).alias("links"))
    )
    ranking = F.struct(*[F.col(c) for _, c in _CRITERIA], F.col("account_id"))
    grouped = members.groupBy("label").agg(
        F.array_sort(F.collect_set("account_id")).alias("account_ids"),
        _sorted_ids(F.col("account_id"), F.col("id")).alias("record_ids"),
        _sorted_ids(F.col("rank"), F.col("id")).alias("order"),
        F.array_sort(F.array_distinct(F.flatten(F.collect_list("keys")))).alias("match_keys"),
        F.array_sort(F.collect_set("email_text")).alias("emails"),
        F.array_sort(F.collect_set("phone_e164")).alias("phones"),
        F.max(F.when(F.col("rank") == 1, ranking)).alias("r1"),
        F.max(F.when(F.col("rank") == 2, ranking)).alias("r2"),
    ).where(F.size("account_ids") > 1)
    if mode in (MatchOn.EMAIL_AND_PHONE, MatchOn.PHONE):
        key = F.array_min("match_keys")
    else:
        key = F.coalesce(
            F.array_min(F.filter("match_keys", lambda k: k.contains("@"))),
            F.array_min("match_keys"),
        )
    return grouped.join(link_rows, "label").select(
        key.alias("key"),
        F.lit(mode.value).alias("match_on"),
        "record_ids",
        "account_ids",
        F.col("r1")["id"].alias("primary_id"),
        F.col("r1")["account_id"].alias("primary_account_id"),
        "order",
        _decided_by().alias("decided_by"),
        "emails",
        "phones",
        "match_keys",
        "links",
    )

