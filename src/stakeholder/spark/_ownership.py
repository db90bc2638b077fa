"""`resolve_domain_ownership_dataframe`: domain ownership by Spark aggregations.

Per-row work (parsing an email, folding a host to its registrable domain, the personal
and internal tests) runs the library's own functions in `mapInArrow`; everything that
needs more than one row (counts per account and domain, dominant domains, claims,
statuses, the account hierarchy, sync issues, sync modes) is a Spark aggregation, a join
or a window, so nothing is collected to the driver.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

import attrs
import pyarrow as pa
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812 - the usual alias

from stakeholder import (
    ClaimKind,
    DomainStatus,
    EmailAddress,
    InvalidDomain,
    InvalidEmail,
    OwnershipPolicy,
    SyncMode,
    registrable_domain,
)
from stakeholder.spark._frames import spark_schema

__all__ = ["OwnershipFrames", "resolve_domain_ownership_dataframe"]

MAX_DEPTH: Final = 256
SHOWN: Final = 10
"""A conflict's reason lists at most this many claims, then "and N more"."""

_FOLDED: Final = pa.schema(
    [
        pa.field("owner_id", pa.string()),
        pa.field("item_id", pa.string()),
        pa.field("domain", pa.string()),
    ]
)


@attrs.frozen
class OwnershipFrames:
    """The result of `resolve_domain_ownership_dataframe`, as DataFrames:

    - `claims`: `domain, account_id, kind, contacts` (as `DomainOwnership.claims`);
    - `domains`: `domain, status, claimants, owner, hierarchy_owner, rule` (one row per
      claimed domain, as `DomainOwnership.domains`);
    - `issues`: `domain, account_ids, reason, suggestion, kind` (as
      `DomainOwnership.issues`; only `conflict` issues so far);
    - `accounts`: `account_id, mode, unique_domains, dominant` (every account kept).
    """

    claims: DataFrame
    domains: DataFrame
    issues: DataFrame
    accounts: DataFrame

    def __repr__(self) -> str:
        return "<OwnershipFrames claims, domains, issues, accounts>"


# --------------------------------------------------------------------------- per row


def _fold(host: str, policy: OwnershipPolicy) -> str | None:
    """The registrable domain an address at `host` counts towards, or None (personal,
    internal or no registrable domain)."""
    personal = policy.personal_domains
    try:
        reg = registrable_domain(host)
    except InvalidDomain:
        return None
    if reg in policy.internal_domains:
        return None
    if personal.is_personal(host) or personal.is_personal(reg):
        return None
    return reg


def _contact_domain(row: dict[str, Any], policy: OwnershipPolicy) -> str | None:
    email = row.get("email")
    if email is None:
        return None
    try:
        address = EmailAddress.parse(email)
    except InvalidEmail:
        return None
    return _fold(address.domain, policy)


def _folded_contacts(contacts: DataFrame, policy: OwnershipPolicy) -> DataFrame:
    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            out = [
                {"owner_id": r["account_id"], "item_id": r["id"],
                 "domain": _contact_domain(r, policy)}
                for r in batch.to_pylist()
            ]
            yield pa.RecordBatch.from_pylist(out, schema=_FOLDED)

    return contacts.select("id", "account_id", "email").mapInArrow(run, spark_schema(_FOLDED))


def _folded_declared(accounts: DataFrame, policy: OwnershipPolicy) -> DataFrame:
    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            out = [
                {"owner_id": r["id"], "item_id": host, "domain": _fold(host, policy)}
                for r in batch.to_pylist()
                for host in r["domains"] or ()
            ]
            yield pa.RecordBatch.from_pylist(out, schema=_FOLDED)

    folded = accounts.select("id", "domains").mapInArrow(run, spark_schema(_FOLDED))
    return folded.where(F.col("domain").isNotNull()).select(
        F.col("owner_id").alias("account_id"), "domain"
    ).distinct()


# --------------------------------------------------------------------------- inputs


def _unique_by_id(df: DataFrame) -> DataFrame:
    """One row per id: identical repeats count once; different rows sharing an id are
    all set aside (as `resolve_domain_ownership` does)."""
    sortable = [
        F.array_sort(F.col(c)).alias(c) if c in ("domains", "aliases", "tags") else F.col(c)
        for c in df.columns
    ]
    normal = df.select(*sortable)
    printed = normal.withColumn("_fp", F.to_json(F.struct(*[F.col(c) for c in df.columns])))
    distinct = printed.dropDuplicates(["id", "_fp"])
    ids = distinct.groupBy("id").count().where(F.col("count") == 1).select("id")
    return distinct.join(ids, "id", "left_semi").drop("_fp")


# --------------------------------------------------------------------------- hierarchy


def _chains(ids: DataFrame, parent: DataFrame, *, max_depth: int = MAX_DEPTH) -> DataFrame:
    """`(account_id, ancestor, depth)` for every account of `ids` (`account_id`) and
    each of its ancestors (itself at depth 0), following `parent` (`account_id,
    parent_id`); a chain stops where it comes back to an ancestor already seen."""
    chains = ids.select("account_id", F.col("account_id").alias("ancestor"),
                        F.lit(0).alias("depth")).localCheckpoint()
    frontier = chains
    links = parent.withColumnRenamed("account_id", "ancestor")
    for depth in range(1, max_depth + 1):
        step = frontier.join(links, "ancestor").select(
            "account_id", F.col("parent_id").alias("ancestor"), F.lit(depth).alias("depth")
        )
        step = step.join(chains, ["account_id", "ancestor"], "left_anti").localCheckpoint()
        if step.count() == 0:
            return chains
        chains = chains.unionByName(step)
        frontier = step
    raise InvalidDomain("", f"account hierarchy deeper than {max_depth}")  # pragma: no cover


def _hierarchy(accounts: DataFrame) -> DataFrame:
    """Ancestor chains over the parent links that are neither dangling nor on a cycle
    (every link of every cycle is dropped, as `resolve_domain_ownership` does)."""
    ids = accounts.select(F.col("id").alias("account_id"))
    parent = accounts.where(F.col("parent_id").isNotNull()).select(
        F.col("id").alias("account_id"), "parent_id"
    ).join(ids.withColumnRenamed("account_id", "parent_id"), "parent_id", "left_semi")
    chains = _chains(ids, parent)
    # a is on a cycle when one of its ancestors has a as its parent; dropping the links
    # of cycle members cuts each chain at its first member on a cycle
    back = parent.select(F.col("account_id").alias("ancestor"),
                         F.col("parent_id").alias("account_id"))
    on_cycle = chains.join(back, ["account_id", "ancestor"], "left_semi").select(
        F.col("account_id").alias("ancestor")
    ).distinct().withColumn("cyclic", F.lit(True))
    marked = chains.join(on_cycle, "ancestor", "left")
    cut = Window.partitionBy("account_id")
    first = F.min(F.when(F.col("cyclic"), F.col("depth"))).over(cut)
    return (
        marked.withColumn("cut", first)
        .where(F.col("cut").isNull() | (F.col("depth") <= F.col("cut")))
        .select("account_id", "ancestor", "depth")
        .localCheckpoint()
    )


# --------------------------------------------------------------------------- claims


def _counts(contacts: DataFrame) -> DataFrame:
    return contacts.where(F.col("domain").isNotNull()).groupBy(
        F.col("owner_id").alias("account_id"), "domain"
    ).agg(F.count("*").alias("n"))


def _claims(counts: DataFrame, declared: DataFrame, need: int) -> tuple[DataFrame, DataFrame]:
    """The claims (`domain, account_id, kind, contacts`) and each account's dominant
    domain (`account_id, dominant`)."""
    mine = declared.withColumn("is_declared", F.lit(True))
    scored = counts.join(mine, ["account_id", "domain"], "left").fillna(
        {"is_declared": False}
    )
    best = Window.partitionBy("account_id").orderBy(
        F.col("n").desc(), F.col("is_declared").desc(), F.col("domain").asc()
    )
    dominant = scored.withColumn("r", F.row_number().over(best)).where(F.col("r") == 1)
    dominant = dominant.select("account_id", F.col("domain").alias("dominant"))
    declared_claims = declared.join(counts, ["account_id", "domain"], "left").select(
        "domain", "account_id", F.lit(ClaimKind.DECLARED.value).alias("kind"),
        F.coalesce(F.col("n"), F.lit(0)).cast("long").alias("contacts"),
    )
    dominant_claims = (
        dominant.join(counts, "account_id")
        .where(F.col("domain") == F.col("dominant"))
        .join(declared, ["account_id", "domain"], "left_anti")
        .select("domain", "account_id", F.lit(ClaimKind.DOMINANT.value).alias("kind"),
                F.col("n").cast("long").alias("contacts"))
    )
    users = counts.groupBy("domain").agg(F.count("*").alias("users"))
    declared_anywhere = declared.select("domain").distinct()
    secondary_claims = (
        counts.where(F.col("n") >= need)
        .join(dominant, "account_id")
        .where(F.col("domain") != F.col("dominant"))
        .join(declared, ["account_id", "domain"], "left_anti")
        .join(users.where(F.col("users") == 1), "domain", "left_semi")
        .join(declared_anywhere, "domain", "left_anti")
        .select("domain", "account_id", F.lit(ClaimKind.SECONDARY.value).alias("kind"),
                F.col("n").cast("long").alias("contacts"))
    )
    claims = declared_claims.unionByName(dominant_claims).unionByName(secondary_claims)
    return claims, dominant


# --------------------------------------------------------------------------- statuses


def _plural(n: Column, noun: str) -> Column:
    return F.concat(n.cast("string"), F.lit(f" {noun}"), F.when(n == 1, "").otherwise("s"))


def _issue_text(domains: DataFrame, claims: DataFrame, chains: DataFrame) -> DataFrame:
    roots = chains.withColumn(
        "r", F.row_number().over(Window.partitionBy("account_id").orderBy(F.desc("depth")))
    ).where(F.col("r") == 1).select("account_id", F.col("ancestor").alias("root"))
    detail = F.concat(
        F.col("account_id"), F.lit(": "), F.col("kind"),
        F.when(
            (F.col("kind") != ClaimKind.DECLARED.value) | (F.col("contacts") > 0),
            F.concat(F.lit(", "), _plural(F.col("contacts"), "contact")),
        ).otherwise(""),
    )
    parts = (
        claims.join(domains.where(F.col("status") == DomainStatus.CONFLICT.value)
                    .select("domain"), "domain", "left_semi")
        .join(roots, "account_id")
        .groupBy("domain")
        .agg(
            F.array_sort(F.collect_list(F.struct("account_id", detail.alias("d")))).alias("p"),
            F.countDistinct("root").alias("roots"),
        )
    )
    ids = F.transform("p", lambda x: x["account_id"])
    shown = F.array_join(F.transform(F.slice("p", 1, SHOWN), lambda x: x["d"]), "; ")
    more = F.when(
        F.size("p") > SHOWN,
        F.concat(F.lit("; and "), (F.size("p") - SHOWN).cast("string"), F.lit(" more")),
    ).otherwise("")
    reason = F.concat(
        F.lit("claimed by "), _plural(F.size("p"), "account"), F.lit(" ("),
        shown, more,
        F.lit("); sharing "), F.col("domain"),
        F.lit(" is not allowed and the accounts have no common parent account ("),
        F.col("roots").cast("string"), F.lit(" separate hierarchies)"),
    )
    suggestion = F.concat(
        F.lit("allow sharing it (OwnershipPolicy.shared_domains, --shared-domain "),
        F.col("domain"),
        F.lit("), give the accounts a common parent account (parent_id), or keep it on one "
              "account (remove it from the others' declared domains or move their "
              "contacts)"),
    )
    return parts.select("domain", ids.alias("account_ids"), reason.alias("reason"),
                        suggestion.alias("suggestion"), F.lit("conflict").alias("kind"))


def _statuses(claims: DataFrame, chains: DataFrame, policy: OwnershipPolicy) -> DataFrame:
    per_domain = claims.groupBy("domain").agg(
        F.array_sort(F.collect_list("account_id")).alias("claimants")
    )
    n = F.size("claimants")
    common = (
        claims.join(chains, "account_id")
        .groupBy("domain", "ancestor")
        .agg(F.count("*").alias("c"), F.max("depth").alias("d"))
        .join(per_domain, "domain")
        .where((F.col("c") == n) & (n > 1))
    )
    nearest = common.withColumn(
        "r", F.row_number().over(Window.partitionBy("domain").orderBy("d", "ancestor"))
    ).where(F.col("r") == 1).select("domain", F.col("ancestor").alias("hierarchy_owner"))
    table = per_domain.join(nearest, "domain", "left")
    shared_list = sorted(policy.shared_domains)
    allowed = F.lit(policy.allow_all_shared) | F.col("domain").isin(shared_list)
    rule = (
        F.when(n == 1, "single claimant")
        .when(F.lit(policy.allow_all_shared), "allow_all_shared")
        .when(allowed, "shared_domains")
        .when(F.col("hierarchy_owner").isNotNull(), "hierarchy")
        .otherwise("not allowed")
    )
    status = (
        F.when(n == 1, DomainStatus.UNIQUE.value)
        .when(allowed | F.col("hierarchy_owner").isNotNull(), DomainStatus.SHARED.value)
        .otherwise(DomainStatus.CONFLICT.value)
    )
    owner = F.when(n == 1, F.col("claimants")[0]).otherwise(F.col("hierarchy_owner"))
    return table.select(
        "domain", status.alias("status"), "claimants", owner.alias("owner"),
        F.when(n > 1, F.col("hierarchy_owner")).alias("hierarchy_owner"), rule.alias("rule"),
    )


def resolve_domain_ownership_dataframe(
    accounts_df: DataFrame,
    contacts_df: DataFrame,
    policy: OwnershipPolicy | None = None,
) -> OwnershipFrames:
    """Domain ownership of the accounts and contacts of two DataFrames
    (`ACCOUNT_SCHEMA`, `CONTACT_SCHEMA`) under `policy`: the claims, each claimed
    domain's status, claimants, owner and hierarchy owner, the sync issues and each
    account's sync mode, equal to `resolve_domain_ownership` on the same records where
    the rules added by its rewrite (host-level declared keys, honoured personal
    declarations, unbroken dominant ties, declared-elsewhere strays, exclusions,
    too-broad hosts, manual contact sync) do not apply: those are not ported yet (see
    docs/spark.md, "Known gap").

    Runs as Spark jobs: a few per level of the account hierarchy (its ancestor chains
    are built by joins, one level per round), then the aggregations. Rejections and
    explanations stay with `resolve_domain_ownership` (see docs/spark.md).
    """
    policy = OwnershipPolicy() if policy is None else policy
    accounts = _unique_by_id(
        accounts_df.select("id", "name", "kind", "status", "parent_id", "domains", "aliases")
    ).localCheckpoint()
    contacts = _unique_by_id(contacts_df).join(
        accounts.select(F.col("id").alias("account_id")), "account_id", "left_semi"
    )
    counts = _counts(_folded_contacts(contacts, policy)).localCheckpoint()
    declared = _folded_declared(accounts, policy).localCheckpoint()
    claims, dominant = _claims(counts, declared, policy.secondary_min_contacts)
    claims, dominant = claims.localCheckpoint(), dominant.localCheckpoint()
    chains = _hierarchy(accounts)
    domains = _statuses(claims, chains, policy).localCheckpoint()
    issues = _issue_text(domains, claims, chains)
    unique = (
        claims.join(domains.where(F.col("status") == DomainStatus.UNIQUE.value)
                    .select("domain"), "domain", "left_semi")
        .groupBy("account_id")
        .agg(F.array_sort(F.collect_list("domain")).alias("unique_domains"))
    )
    modes = (
        accounts.select(F.col("id").alias("account_id"))
        .join(unique, "account_id", "left")
        .join(dominant, "account_id", "left")
        .select(
            "account_id",
            F.when(F.size(F.coalesce("unique_domains", F.array())) > 0, SyncMode.DOMAIN.value)
            .otherwise(SyncMode.CONTACT.value).alias("mode"),
            F.coalesce("unique_domains", F.array().cast("array<string>")).alias(
                "unique_domains"
            ),
            "dominant",
        )
    )
    return OwnershipFrames(claims=claims, domains=domains, issues=issues, accounts=modes)
