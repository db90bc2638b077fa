"""The sync issues of `resolve_domain_ownership_dataframe`, as Spark expressions.

Each finding is built with the texts of `stakeholder._ownership._issues` (conflict, too
broad, declared elsewhere, personal declared, dominant tie), then the findings on one
domain are merged into one issue as `_merge_issues` does: the most serious kind first,
the reasons joined with "; also: ", the distinct suggestions with "; ".
"""

from __future__ import annotations

from typing import Final

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812 - the usual alias

from stakeholder import ClaimKind, DomainStatus, OwnershipPolicy
from stakeholder._ownership._issues import _SEVERITY
from stakeholder._ownership._policy import IssueKind

__all__ = ["issues_frame"]

SHOWN: Final = 10
"""Lists in issue texts show at most this many items, then "and N more"."""


def _plural(n: Column, noun: str) -> Column:
    return F.concat(n.cast("string"), F.lit(f" {noun}"), F.when(n == 1, "").otherwise("s"))


def _some(items: Column) -> Column:
    """`_issues._some`: the first `SHOWN` items joined, and how many more there are."""
    more = F.when(
        F.size(items) > SHOWN,
        F.concat(F.lit(" and "), (F.size(items) - SHOWN).cast("string"), F.lit(" more")),
    ).otherwise("")
    return F.concat(F.array_join(F.slice(items, 1, SHOWN), ", "), more)


def _finding(domain: Column, ids: Column, reason: Column, suggestion: Column,
             kind: IssueKind) -> list[Column]:
    return [
        domain.alias("domain"),
        ids.alias("account_ids"),
        reason.alias("reason"),
        suggestion.alias("suggestion"),
        F.lit(kind.value).alias("kind"),
    ]


def _conflicts(domains: DataFrame, claims: DataFrame, chains: DataFrame) -> DataFrame:
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
    domain = F.col("domain")
    reason = F.concat(
        F.lit("claimed by "), _plural(F.size("p"), "account"), F.lit(" ("), shown, more,
        F.lit("); sharing "), domain,
        F.lit(" is not allowed and the accounts have no common parent account ("),
        F.col("roots").cast("string"), F.lit(" separate hierarchies)"),
    )
    suggestion = F.concat(
        F.lit("allow sharing it (OwnershipPolicy.shared_domains, --shared-domain "), domain,
        F.lit("), give the accounts a common parent account (parent_id), or keep it on one "
              "account (remove it from the others' declared domains or move their "
              "contacts)"),
    )
    return parts.select(*_finding(domain, ids, reason, suggestion, IssueKind.CONFLICT))


def _too_broad(domains: DataFrame, policy: OwnershipPolicy) -> DataFrame:
    claimants = F.col("claimants")
    reason = F.concat(
        F.col("domain"), F.lit(" is claimed by "), _plural(F.size(claimants), "account"),
        F.lit(" (first: "), _some(claimants),
        F.lit(f"), more than too_broad_claimants={policy.too_broad_claimants}: too broad to "
              "tell them apart; routing lists a capped set of candidates"),
    )
    suggestion = F.lit(
        "clean the declared domains of these accounts (junk CRM data), or raise "
        "OwnershipPolicy.too_broad_claimants"
    )
    return domains.where(F.col("too_broad")).select(
        *_finding(F.col("domain"), claimants, reason, suggestion, IssueKind.TOO_BROAD)
    )


def _declared_elsewhere(strays: DataFrame, by_host: DataFrame, chains: DataFrame) -> DataFrame:
    """Contacts of accounts at a host others declare, except those of a declarer's
    descendants (expected: no issue)."""
    expected = (
        strays.join(by_host, "domain")
        .select("domain", "account_id", F.explode("owners").alias("ancestor"))
        .join(chains, ["account_id", "ancestor"], "left_semi")
        .select("domain", "account_id")
    )
    strangers = strays.join(expected, ["domain", "account_id"], "left_anti")
    grouped = strangers.groupBy("domain").agg(
        F.array_sort(F.collect_list(F.struct("account_id", "n"))).alias("u")
    ).join(by_host, "domain")
    owners = F.col("owners")
    declarers = _some(owners)
    parts = F.transform(
        "u", lambda x: F.concat(_plural(x["n"], "contact"), F.lit(" of "), x["account_id"])
    )
    domain = F.col("domain")
    reason = F.concat(
        _some(parts), F.lit(" at "), domain, F.lit(", which "), declarers,
        F.when(F.size(owners) == 1, " declares").otherwise(" declare"),
        F.lit(": a declaration outranks contacts, so these contacts make no claim on it"),
    )
    suggestion = F.concat(
        F.lit("if these people work for "), declarers,
        F.lit(", move the contact records there; if "), domain, F.lit(" is wrong for "),
        declarers, F.lit(", remove it from its declared domains"),
    )
    ids = F.array_sort(F.array_union(owners, F.transform("u", lambda x: x["account_id"])))
    return grouped.select(
        *_finding(domain, ids, reason, suggestion, IssueKind.DECLARED_ELSEWHERE)
    )


def _personal_declared(listed: DataFrame, by_host: DataFrame) -> DataFrame:
    domain = F.col("domain")
    reason = F.concat(
        domain, F.lit(" is declared by "), _some(F.col("owners")), F.lit(" and is "),
        F.col("why"),
        F.lit("; the declaration is honoured, so unknown addresses there route by domain"),
    )
    suggestion = F.concat(
        F.lit("if "), domain, F.lit(" is free mail or a forwarder, remove it from the "
                                    "declared domains; if it is the organisation's own, "
                                    "take it off the list (PersonalDomains.without('"),
        domain, F.lit("'))"),
    )
    return listed.join(by_host, "domain").select(
        *_finding(domain, F.col("owners"), reason, suggestion, IssueKind.PERSONAL_DECLARED)
    )


def _dominant_ties(ties: DataFrame) -> DataFrame:
    account = F.col("account_id")
    reason = F.concat(
        account, F.lit(" has "), _plural(F.col("n"), "contact"), F.lit(" at each of "),
        _some(F.col("tied")),
        F.lit(": its most frequent contact domains tie, so it has no dominant domain (a tie "
              "is never broken by the domains' spelling)"),
    )
    suggestion = F.concat(
        F.lit("declare "), account, F.lit("'s own domain in its domains, or add the missing "
                                          "contacts"),
    )
    return ties.select(
        *_finding(
            F.col("tied")[0], F.array(account), reason, suggestion, IssueKind.DOMINANT_TIE
        )
    )


def _merged(findings: DataFrame) -> DataFrame:
    """One issue per domain, as `_issues._merge_issues`."""
    severity = F.create_map(
        *[x for i, kind in enumerate(_SEVERITY) for x in (F.lit(kind.value), F.lit(i))]
    )
    ordered = findings.groupBy("domain").agg(
        F.array_sort(F.collect_list(F.struct(
            severity[F.col("kind")].alias("s"), "reason", "suggestion", "kind",
            "account_ids",
        ))).alias("f")
    )
    f = F.col("f")
    return ordered.select(
        "domain",
        F.array_sort(F.array_distinct(F.flatten(F.transform(f, lambda x: x["account_ids"]))))
        .alias("account_ids"),
        F.array_join(F.transform(f, lambda x: x["reason"]), "; also: ").alias("reason"),
        F.array_join(F.array_distinct(F.transform(f, lambda x: x["suggestion"])), "; ")
        .alias("suggestion"),
        f[0]["kind"].alias("kind"),
    )


def issues_frame(  # noqa: PLR0917 - the frames each finding is built from
    domains: DataFrame,
    claims: DataFrame,
    chains: DataFrame,
    by_host: DataFrame,
    strays: DataFrame,
    listed: DataFrame,
    ties: DataFrame,
    policy: OwnershipPolicy,
) -> DataFrame:
    """`domain, account_ids, reason, suggestion, kind`: one issue per domain."""
    findings = (
        _conflicts(domains, claims, chains)
        .unionByName(_too_broad(domains, policy))
        .unionByName(_declared_elsewhere(strays, by_host, chains))
        .unionByName(_personal_declared(listed, by_host))
        .unionByName(_dominant_ties(ties))
    )
    return _merged(findings)
