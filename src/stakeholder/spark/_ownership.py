"""`resolve_domain_ownership_dataframe`: domain ownership by Spark aggregations.

Per-row work (parsing an email, a declared host's claim key, a host's registrable domain,
the personal, exclusion and internal tests, `OwnershipPolicy.is_shared`) runs the
library's own functions in `mapInArrow` or a UDF; everything that needs more than one
row (the longest declared host holding an address, counts per account and key, dominant
domains and ties, claims and strays, statuses, the account hierarchy, sync issues, sync
modes) is a Spark aggregation, a join or a window, so nothing is collected to the
driver. The rules are those of `stakeholder._ownership._resolve`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

import attrs
import pyarrow as pa
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812 - the usual alias
from pyspark.sql.types import BooleanType

from stakeholder import (
    ClaimKind,
    DomainStatus,
    EmailAddress,
    InvalidDomain,
    InvalidEmail,
    OwnershipPolicy,
    SyncMode,
)
from stakeholder._ownership._hosts import (
    _registrable_of_canonical_host,
    declared_host,
    host_suffixes,
    personal_match,
)
from stakeholder._ownership._resolve import _Declarations
from stakeholder.spark._frames import spark_schema
from stakeholder.spark._ownership_issues import issues_frame

__all__ = ["OwnershipFrames", "resolve_domain_ownership_dataframe"]

MAX_DEPTH: Final = 256

_CONTACT_HOST: Final = pa.schema(
    [
        pa.field("owner_id", pa.string()),
        pa.field("item_id", pa.string()),
        pa.field("host", pa.string()),
    ]
)
_HOST_FACTS: Final = pa.schema(
    [
        pa.field("host", pa.string()),
        pa.field("internal", pa.bool_()),
        pa.field("reg", pa.string()),
        pa.field("personal_dots", pa.int32()),
        pa.field("excluded_dots", pa.int32()),
        pa.field("suffixes", pa.list_(pa.string())),
    ]
)
_DECLARED: Final = pa.schema(
    [
        pa.field("account_id", pa.string()),
        pa.field("domain", pa.string()),
        pa.field("why", pa.string()),
    ]
)


@attrs.frozen
class OwnershipFrames:
    """The result of `resolve_domain_ownership_dataframe`, as DataFrames:

    - `claims`: `domain, account_id, kind, contacts` (as `DomainOwnership.claims`);
    - `domains`: `domain, status, claimants, owner, hierarchy_owner, rule, too_broad,
      contact_sync, domain_sync` (one row per claimed domain, as
      `DomainOwnership.domains`);
    - `issues`: `domain, account_ids, reason, suggestion, kind` (as
      `DomainOwnership.issues`: one per domain, findings merged);
    - `accounts`: `account_id, mode, unique_domains, dominant` (every account kept).
    """

    claims: DataFrame
    domains: DataFrame
    issues: DataFrame
    accounts: DataFrame

    def __repr__(self) -> str:
        return "<OwnershipFrames claims, domains, issues, accounts>"


# --------------------------------------------------------------------------- per row


def _host_row(host: str, policy: OwnershipPolicy) -> dict[str, Any]:
    """What decides the claim key of an email host, besides the declared hosts: whether
    it is internal, its registrable domain, the personal-list entry and the exclusion
    covering it (as dot counts: how specific each is), and its parent domains."""
    internal = bool(policy.internal_domains) and policy.internal_match(host) is not None
    try:
        reg: str | None = _registrable_of_canonical_host(host)
    except InvalidDomain:
        reg = None
    personal = personal_match(policy.personal_domains, host, reg or host)
    excluded = policy.exclusion(host)
    return {
        "host": host,
        "internal": internal,
        "reg": reg,
        "personal_dots": None if personal is None else personal.count("."),
        "excluded_dots": (
            None if excluded is None else (host if "*" in excluded else excluded).count(".")
        ),
        "suffixes": list(host_suffixes(host)),
    }


def _contact_host(row: dict[str, Any], policy: OwnershipPolicy) -> str | None:
    """The host of a contact's email, or None (no email, not an email, or an excluded
    address: never evidence by domain)."""
    email = row.get("email")
    if email is None:
        return None
    try:
        address = EmailAddress.parse(email)
    except InvalidEmail:
        return None
    if f"{address.local}@{address.domain}" in policy.excluded_addresses:
        return None
    return address.domain


def _contact_hosts(contacts: DataFrame, policy: OwnershipPolicy) -> DataFrame:
    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            out = [
                {"owner_id": r["account_id"], "item_id": r["id"],
                 "host": _contact_host(r, policy)}
                for r in batch.to_pylist()
            ]
            yield pa.RecordBatch.from_pylist(out, schema=_CONTACT_HOST)

    return contacts.select("id", "account_id", "email").mapInArrow(
        run, spark_schema(_CONTACT_HOST)
    )


def _host_facts(hosts: DataFrame, policy: OwnershipPolicy) -> DataFrame:
    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            out = [_host_row(r["host"], policy) for r in batch.to_pylist()]
            yield pa.RecordBatch.from_pylist(out, schema=_HOST_FACTS)

    return hosts.mapInArrow(run, spark_schema(_HOST_FACTS))


def _dots(col: Column) -> Column:
    return F.length(col) - F.length(F.regexp_replace(col, r"\.", ""))


def _contact_keys(contacts: DataFrame, keys: DataFrame, policy: OwnershipPolicy) -> DataFrame:
    """`(owner_id, item_id, domain)`: each contact's claim key (None when it does not
    count), as `_ContactCounter.fold`: internal hosts skipped; the longest declared host
    holding it, unless a more specific personal entry or exclusion covers it; excluded
    and personal hosts skipped; else its registrable domain."""
    hosts = _contact_hosts(contacts, policy).localCheckpoint()
    facts = _host_facts(hosts.where(F.col("host").isNotNull()).select("host").distinct(),
                        policy)
    declared = (
        facts.select("host", F.explode("suffixes").alias("key"))
        .join(keys, "key", "left_semi")
        .groupBy("host")
        .agg(F.max_by("key", F.length("key")).alias("declared"))
    )
    d = F.col("declared")
    wins = (
        d.isNotNull()
        & (F.col("personal_dots").isNull() | (_dots(d) >= F.col("personal_dots")))
        & (F.col("excluded_dots").isNull() | (_dots(d) >= F.col("excluded_dots")))
    )
    key = (
        F.when(F.col("internal"), F.lit(None))
        .when(wins, d)
        .when(F.col("excluded_dots").isNotNull() | F.col("personal_dots").isNotNull(),
              F.lit(None))
        .otherwise(F.col("reg"))
    )
    keyed = facts.join(declared, "host", "left").select("host", key.alias("domain"))
    return hosts.join(keyed, "host", "left").select("owner_id", "item_id", "domain")


def _declared_row(account_id: str, host: str, policy: OwnershipPolicy) -> dict[str, Any]:
    """One declared host: its claim key (None when nobody can own it or it is internal)
    and why a list names the key (a `personal_declared` finding), as `_Declarations`."""
    try:
        key: str | None = declared_host(host, policy.fold_to_registrable)
    except InvalidDomain:
        key = None
    if key is not None and policy.internal_domains and policy.internal_match(key) is not None:
        key = None
    why = None if key is None else _Declarations._listed_why(key, policy)
    return {"account_id": account_id, "domain": key, "why": why}


def _declared(accounts: DataFrame, policy: OwnershipPolicy) -> DataFrame:
    """`(account_id, domain, why)`: each account's declared claim keys."""
    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            out = [
                _declared_row(r["id"], host, policy)
                for r in batch.to_pylist()
                for host in r["domains"] or ()
            ]
            yield pa.RecordBatch.from_pylist(out, schema=_DECLARED)

    rows = accounts.select("id", "domains").mapInArrow(run, spark_schema(_DECLARED))
    return rows.where(F.col("domain").isNotNull()).distinct()


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


@attrs.frozen
class _Claims:
    """The claims (`domain, account_id, kind, contacts`), each account's dominant domain
    (`account_id, dominant`), the strays (`domain, account_id, n`: contacts at a host
    another account declares, where they would have made a claim) and the dominant ties
    (`account_id, tied, n`)."""

    claims: DataFrame
    dominant: DataFrame
    strays: DataFrame
    ties: DataFrame


def _claims(counts: DataFrame, mine: DataFrame, by_host: DataFrame, need: int) -> _Claims:
    """As `_ownership._resolve._Claims`: a key another account declares is never a
    contact-derived claim; the dominant domain is the most frequent other key, a tie
    going to the one key the account declares itself among the tied, else none."""
    per_account = Window.partitionBy("account_id")
    scored = (
        counts.join(mine.select("account_id", "domain", F.lit(True).alias("mine")),
                    ["account_id", "domain"], "left")
        .join(by_host.select("domain", F.lit(True).alias("declared")), "domain", "left")
        .select(
            "account_id", "domain", "n",
            F.coalesce("mine", F.lit(False)).alias("mine"),
            (F.col("declared").isNotNull() & F.col("mine").isNull()).alias("elsewhere"),
            F.max("n").over(per_account).alias("top"),
        )
    ).localCheckpoint()
    strays = scored.where(
        F.col("elsewhere") & ((F.col("n") >= need) | (F.col("n") >= F.col("top")))
    ).select("domain", "account_id", "n")
    best = (
        scored.where(~F.col("elsewhere"))
        .withColumn("best", F.max("n").over(per_account))
        .where(F.col("n") == F.col("best"))
        .groupBy("account_id")
        .agg(
            F.array_sort(F.collect_list("domain")).alias("tied"),
            F.array_sort(F.collect_list(F.when(F.col("mine"), F.col("domain")))).alias("own"),
            F.max("n").alias("n"),
        )
    )
    dominant = best.select(
        "account_id",
        F.when(F.size("tied") == 1, F.col("tied")[0])
        .when(F.size("own") == 1, F.col("own")[0]).alias("dominant"),
    ).where(F.col("dominant").isNotNull()).localCheckpoint()
    ties = best.where((F.size("tied") > 1) & (F.size("own") != 1)).select(
        "account_id", "tied", "n"
    )
    declared_claims = mine.select("account_id", "domain").join(
        counts, ["account_id", "domain"], "left"
    ).select(
        "domain", "account_id", F.lit(ClaimKind.DECLARED.value).alias("kind"),
        F.coalesce(F.col("n"), F.lit(0)).cast("long").alias("contacts"),
    )
    with_top = scored.join(dominant, "account_id", "left")
    dominant_claims = with_top.where(
        (F.col("domain") == F.col("dominant")) & ~F.col("mine")
    ).select("domain", "account_id", F.lit(ClaimKind.DOMINANT.value).alias("kind"),
             F.col("n").cast("long").alias("contacts"))
    users = counts.groupBy("domain").agg(F.count("*").alias("users"))
    secondary_claims = (
        with_top.where(
            (F.col("n") >= need) & ~F.col("domain").eqNullSafe(F.col("dominant"))
            & ~F.col("mine") & ~F.col("elsewhere")
        )
        .join(users.where(F.col("users") == 1), "domain", "left_semi")
        .join(by_host, "domain", "left_anti")
        .select("domain", "account_id", F.lit(ClaimKind.SECONDARY.value).alias("kind"),
                F.col("n").cast("long").alias("contacts"))
    )
    claims = declared_claims.unionByName(dominant_claims).unionByName(secondary_claims)
    return _Claims(claims.localCheckpoint(), dominant, strays.localCheckpoint(),
                   ties.localCheckpoint())


# --------------------------------------------------------------------------- statuses


def _statuses(claims: DataFrame, chains: DataFrame, policy: OwnershipPolicy) -> DataFrame:
    """One row per claimed key: status, claimants, owner, hierarchy owner, rule, and the
    too-broad, manual contact-sync and manual domain-sync flags (as `_resolve._statuses`)."""
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
    is_shared = F.udf(policy.is_shared, BooleanType())
    table = per_domain.join(nearest, "domain", "left").withColumn(
        "allowed", F.when(n > 1, is_shared(F.col("domain"))).otherwise(F.lit(False))
    )
    allowed = F.col("allowed")
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
    chosen_ids = sorted(policy.domain_sync_accounts)
    chosen = F.filter("claimants", lambda a: a.isin(chosen_ids))
    domain_sync = (n > 1) & F.lit(bool(chosen_ids)) & (F.size(chosen) == 1)
    owner = (
        F.when(n == 1, F.col("claimants")[0])
        .when(domain_sync, chosen[0])
        .otherwise(F.col("hierarchy_owner"))
    )
    manual = owner.isNotNull() & owner.isin(sorted(policy.contact_sync_accounts))
    return table.select(
        "domain", status.alias("status"), "claimants",
        F.when(~manual, owner).alias("owner"),
        F.when(n > 1, F.col("hierarchy_owner")).alias("hierarchy_owner"), rule.alias("rule"),
        (n > policy.too_broad_claimants).alias("too_broad"),
        manual.alias("contact_sync"),
        (domain_sync & ~manual).alias("domain_sync"),
    )


def _modes(
    accounts: DataFrame, found: _Claims, domains: DataFrame, policy: OwnershipPolicy
) -> DataFrame:
    """`account_id, mode, unique_domains, dominant` for every account kept: domain sync
    for an account that owns a `UNIQUE` key or a key put in domain sync by hand, unless
    it was switched to contact sync by hand."""
    unique = (
        found.claims.join(domains.where(F.col("status") == DomainStatus.UNIQUE.value)
                          .select("domain"), "domain", "left_semi")
        .groupBy("account_id")
        .agg(F.array_sort(F.collect_list("domain")).alias("unique_domains"))
    )
    synced = domains.where(F.col("domain_sync")).select(
        F.col("owner").alias("account_id"), F.lit(True).alias("synced")
    ).distinct()
    domain_mode = (
        ~F.col("account_id").isin(sorted(policy.contact_sync_accounts))
        & ((F.size(F.coalesce("unique_domains", F.array())) > 0)
           | F.coalesce("synced", F.lit(False)))
    )
    return (
        accounts.select(F.col("id").alias("account_id"))
        .join(unique, "account_id", "left")
        .join(synced, "account_id", "left")
        .join(found.dominant, "account_id", "left")
        .select(
            "account_id",
            F.when(domain_mode, SyncMode.DOMAIN.value)
            .otherwise(SyncMode.CONTACT.value).alias("mode"),
            F.coalesce("unique_domains", F.array().cast("array<string>")).alias(
                "unique_domains"
            ),
            "dominant",
        )
    )


def resolve_domain_ownership_dataframe(
    accounts_df: DataFrame,
    contacts_df: DataFrame,
    policy: OwnershipPolicy | None = None,
) -> OwnershipFrames:
    """Domain ownership of the accounts and contacts of two DataFrames
    (`ACCOUNT_SCHEMA`, `CONTACT_SCHEMA`) under `policy`: the claims, each claimed
    domain's status, claimants, owner and hierarchy owner, the sync issues (one per
    domain) and each account's sync mode, equal to `resolve_domain_ownership` on the
    same records.

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
    declared = _declared(accounts, policy).localCheckpoint()
    mine = declared.select("account_id", "domain").distinct()
    by_host = mine.groupBy("domain").agg(
        F.array_sort(F.collect_list("account_id")).alias("owners")
    ).localCheckpoint()
    keyed = _contact_keys(contacts, by_host.select(F.col("domain").alias("key")), policy)
    counts = keyed.where(F.col("domain").isNotNull()).groupBy(
        F.col("owner_id").alias("account_id"), "domain"
    ).agg(F.count("*").alias("n")).localCheckpoint()
    found = _claims(counts, mine, by_host, policy.secondary_min_contacts)
    chains = _hierarchy(accounts)
    domains = _statuses(found.claims, chains, policy).localCheckpoint()
    listed = declared.where(F.col("why").isNotNull()).select("domain", "why").distinct()
    issues = issues_frame(
        domains, found.claims, chains, by_host, found.strays, listed, found.ties, policy
    ).localCheckpoint()
    modes = _modes(accounts, found, domains, policy)
    return OwnershipFrames(claims=found.claims, domains=domains, issues=issues, accounts=modes)
